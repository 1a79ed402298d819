/* cmd_score.c - `stance score`: the bulk path.  Many documents (files,
 * directories, gzip, JSON Lines, standard input) in, one profile record per
 * document out, in input order whatever the number of threads.
 *
 * Shape of a run:
 *
 *   main thread (reader)  --slots-->  N workers  --slots-->  writer thread
 *
 * The reader enumerates the inputs and fills numbered slots of a ring; the
 * workers claim slots in number order, each with its own stance_session on
 * the shared read-only model, and leave a finished record in the slot; the
 * writer releases slots strictly in number order, so the output does not
 * depend on which worker finished first.  At most SLOTS_PER_THREAD*N
 * documents (and, for JSON Lines, IN_FLIGHT_BYTES of record text) are in
 * flight, so memory is bounded by the ring, not by the size of the input.
 *
 * Press releases are short (a JSON Lines record of a paragraph takes about
 * 20 µs to score), so the hand-offs are batched: a worker claims up to
 * CLAIM_MAX slots at a time, and the writer is woken when a batch is worth
 * writing (half the ring finished, the reader blocked, or the end), else
 * every WRITER_NAP, so that a slow trickle of input still comes out within
 * tens of milliseconds.  One wake-up per document cost more than the
 * scoring itself with two threads on two cores.
 *
 * Plain-text files are read by the worker that scores them (the slot only
 * holds the path); JSON Lines streams are read line by line by the reader
 * with a bounded line buffer, and the records are parsed by the workers.
 *
 * Nothing is lost: every document that cannot be scored leaves an error
 * record in its place.  The writer stops the run on a write error (EPIPE,
 * full disk: exit 4) and after --max-errors error records (exit 1). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: stance score [-m MODEL] [-j N] [--jsonl] [--text-field F] [--id-field F]\n"
    "                    [--keep-fields] [--glob PATTERN] [--files-from FILE|-]\n"
    "                    [--sentences [--probs]] [--format jsonl|tsv] [--wrapped]\n"
    "                    [--summary] [--summary-json FILE] [--max-errors N]\n"
    "                    [--max-bytes N] [-q] [FILE|DIR|-]...\n\n"
    "Score many documents: one record per document with its sentence count, the\n"
    "count and mean probability of every label, and the dominant label.  Records\n"
    "come out in input order whatever the number of threads.\n\n"
    "Inputs: files (gzip-compressed files are read transparently), directories\n"
    "(recursively, in byte order of names; symbolic links to directories are not\n"
    "followed), '-' for standard input; with no inputs, standard input.  A text\n"
    "file is one document whose id is its path.  JSON Lines files (--jsonl, or\n"
    "names ending in .jsonl or .jsonl.gz; standard input needs --jsonl) hold one\n"
    "document per line; blank lines are skipped.\n\n"
    "  -m, --model MODEL      model file (default: the shipped default model)\n"
    "  -j, --threads N        worker threads (default: the number of online CPUs)\n"
    "      --jsonl            read every input as JSON Lines\n"
    "      --text-field F     JSON field holding the text (default: text)\n"
    "      --id-field F       JSON field holding the id (default: id); records\n"
    "                         without one get the id FILE:LINE\n"
    "      --keep-fields      copy the record's other fields, byte for byte, into\n"
    "                         the output record (fields named like an output key\n"
    "                         are not copied)\n"
    "      --glob PATTERN     in directories, score only files whose name matches\n"
    "                         PATTERN (fnmatch); named files are always scored\n"
    "      --files-from FILE  read input paths from FILE ('-': standard input),\n"
    "                         one per line\n"
    "      --sentences        add every sentence's label to the record\n"
    "      --probs            with --sentences: every sentence's probabilities\n"
    "  -f, --format FMT       jsonl (default) or tsv\n"
    "  -w, --wrapped          single line breaks inside paragraphs are spaces\n"
    "      --summary          print totals per label on standard error at the end\n"
    "      --summary-json F   write the totals as JSON to file F\n"
    "      --max-errors N     stop after N documents that could not be scored\n"
    "      --max-bytes N      largest document / JSON line in bytes (default 16 MiB)\n"
    "  -q, --quiet            no progress line\n\n"
    "jsonl record: {\"id\",\"sentences\",\"counts\":{label:n},\"mean_probs\":{label:p},\n"
    "  \"dominant\",\"share\",\"model\"} and \"invalid_utf8\":N when invalid UTF-8 was\n"
    "  replaced; a document without sentences has dominant null and share 0.  Ties\n"
    "  for the dominant label go to the higher mean probability, then to the\n"
    "  first label.  A document that cannot be scored gives {\"id\",\"error\"}.\n"
    "tsv columns: id, sentences, dominant, share, one count column per label, one\n"
    "  p_LABEL column per label, error (empty unless the document failed).\n\n"
    "Exit status: 0 when every document was scored, 1 when some could not be (or\n"
    "--max-errors stopped the run), 2 usage, 3 bad model, 4 output not writable.\n";

#define CMD "score"
#define IN_FLIGHT_BYTES ((size_t)64 << 20) /* JSON Lines text held in the ring */
#define READ_CHUNK ((size_t)1 << 17)
#define SLOT_BUF_KEEP ((size_t)64 << 10)  /* larger record buffers are not kept */
#define SLOTS_PER_THREAD 32
#define CLAIM_MAX 8                        /* slots a worker claims at a time */
#define WRITER_NAP_NS 20000000L            /* 20 ms */
#define FLUSH_NAPS 5                       /* flush after 100 ms without output */

enum { FMT_JSONL, FMT_TSV };
enum { WAIT_NONE, WAIT_SLOTS, WAIT_BYTES };
enum { J_FILE, J_LINE, J_ERROR };

typedef struct opts {
    const char *model, *text_field, *id_field, *glob, *files_from, *summary_json;
    long threads, max_errors, max_bytes;
    int jsonl, keep, sentences, probs, format, summary, quiet;
    unsigned flags;
} opts;

/* One document in flight.  The reader fills the input half, a worker the
 * result half, the writer empties it. */
typedef struct slot {
    int kind;
    char *name;  /* J_FILE: path; J_LINE: the stream's display name; J_ERROR: id */
    char *data;  /* J_LINE: the line (not NUL-terminated); J_ERROR: the message */
    size_t len;
    long line;
    uint64_t raw; /* input bytes this document accounts for (progress) */
    int done;
    cli_buf out;  /* the finished record, newline included */
    int failed;
    size_t nsent;
    int dominant; /* -1: none */
    long *counts; /* nlabels */
} slot;

typedef struct run {
    const opts *o;
    const stance_model *m;
    int k;
    const char *model_id;
    cli_buf *label_json; /* each label as a JSON string */

    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv, space_cv;
    slot *slots;
    size_t cap;
    uint64_t submitted, claimed, released;
    size_t bytes_in_flight;
    int finished; /* the reader has submitted its last document */
    int stop;     /* stop reading: write error, --max-errors or out of memory */
    /* who sleeps, so that nobody is woken for nothing: the reader waits for
     * WAIT_SLOTS (the ring to drain to half) or WAIT_BYTES; idle workers;
     * the writer for the slot it must release next */
    int reader_waits, idle_workers, writer_waits;
    int write_errno;
    int nomem;

    /* owned by the writer until it is joined */
    uint64_t docs, errors, sentences, raw_done;
    uint64_t *label_count, *label_dominant;
    int max_errors_hit, progress_shown;
    int stdin_used; /* reader: '-' may be read once */

    /* progress (writer) */
    int progress;
    uint64_t total_raw; /* 0: unknown */
    double t0, last_progress;
} run;

typedef struct worker {
    run *r;
    stance_session *s;
    stance_json_member *mem;
    size_t mem_cap;
    double *psum;
    cli_buf idj, idt; /* the id as JSON and as text */
    pthread_t th;
} worker;

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "stdin" : path;
}

/* ------------------------------------------------------------ records */

/* Does the member's key (raw, maybe escaped) equal name? */
static int key_is(const stance_json_member *mb, const char *name)
{
    size_t n = strlen(name);
    if (!memchr(mb->key, '\\', mb->key_len))
        return mb->key_len == n && memcmp(mb->key, name, n) == 0;
    char *d = NULL;
    size_t dl = 0;
    if (stance_json_decode_string(mb->key - 1, mb->key_len + 2, &d, &dl, NULL))
        return 0;
    int eq = dl == n && memcmp(d, name, n) == 0;
    free(d);
    return eq;
}

static const char *const reserved_keys[] = {
    "id",    "sentences", "counts", "mean_probs", "dominant", "share",
    "model", "invalid_utf8", "sentence_labels", "error", NULL};

/* Members copied by --keep-fields: neither the text nor the id field, nor a
 * key the output record already has. */
static int kept(const run *r, const stance_json_member *mb)
{
    if (key_is(mb, r->o->text_field) || key_is(mb, r->o->id_field))
        return 0;
    for (size_t i = 0; reserved_keys[i]; i++)
        if (key_is(mb, reserved_keys[i]))
            return 0;
    return 1;
}

static int put_kept(const run *r, cli_buf *b, const stance_json_member *mem, size_t n)
{
    int rc = 0;
    if (!r->o->keep)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!kept(r, &mem[i]))
            continue;
        rc |= cli_buf_put(b, ",\"", 2);
        rc |= cli_buf_put(b, mem[i].key, mem[i].key_len);
        rc |= cli_buf_put(b, "\":", 2);
        rc |= cli_buf_put(b, mem[i].value, mem[i].value_len);
    }
    return rc;
}

/* The error record for the slot: id (JSON and text) and a message that
 * names the file and, for JSON Lines, the line. */
static int emit_error(worker *w, slot *sl, const char *msg, const stance_json_member *mem,
                      size_t nmem)
{
    const run *r = w->r;
    cli_buf *b = &sl->out;
    int rc = 0;
    sl->failed = 1;
    if (r->o->format == FMT_TSV) {
        rc |= cli_put_flat(b, w->idt.data, w->idt.len);
        rc |= cli_buf_put(b, "\t\t\t", 3);
        for (int i = 0; i < 2 * r->k; i++)
            rc |= cli_buf_put(b, "\t", 1);
        rc |= cli_buf_put(b, "\t", 1);
        rc |= cli_put_flat(b, msg, strlen(msg));
        rc |= cli_buf_put(b, "\n", 1);
        return rc;
    }
    rc |= cli_buf_put(b, "{\"id\":", 6);
    rc |= cli_buf_put(b, w->idj.data, w->idj.len);
    rc |= cli_buf_put(b, ",\"error\":", 9);
    rc |= cli_buf_json(b, msg, strlen(msg));
    rc |= put_kept(r, b, mem, nmem);
    rc |= cli_buf_put(b, "}\n", 2);
    return rc;
}

static int emit_score(worker *w, slot *sl, const char *text, const stance_result *res,
                      const stance_json_member *mem, size_t nmem)
{
    const run *r = w->r;
    const int k = r->k;
    cli_buf *b = &sl->out;
    int rc = 0;

    for (int j = 0; j < k; j++) {
        sl->counts[j] = 0;
        w->psum[j] = 0;
    }
    for (size_t i = 0; i < res->n; i++) {
        sl->counts[res->sentences[i].label]++;
        for (int j = 0; j < k; j++)
            w->psum[j] += res->sentences[i].probs[j];
    }
    sl->nsent = res->n;
    sl->dominant = -1;
    for (int j = 0; j < k && res->n; j++)
        if (sl->dominant < 0 || sl->counts[j] > sl->counts[sl->dominant] ||
            (sl->counts[j] == sl->counts[sl->dominant] && w->psum[j] > w->psum[sl->dominant]))
            sl->dominant = j;
    const double n = res->n ? (double)res->n : 1.0;
    const double share = sl->dominant < 0 ? 0.0 : sl->counts[sl->dominant] / n;

    if (r->o->format == FMT_TSV) {
        rc |= cli_put_flat(b, w->idt.data, w->idt.len);
        rc |= cli_buf_put(b, "\t", 1);
        rc |= cli_buf_uint(b, res->n);
        rc |= cli_buf_put(b, "\t", 1);
        if (sl->dominant >= 0) {
            const char *l = stance_model_label(r->m, sl->dominant);
            rc |= cli_put_flat(b, l, strlen(l));
        }
        rc |= cli_buf_put(b, "\t", 1);
        rc |= cli_buf_fixed(b, share, 6);
        for (int j = 0; j < k; j++) {
            rc |= cli_buf_put(b, "\t", 1);
            rc |= cli_buf_uint(b, (size_t)sl->counts[j]);
        }
        for (int j = 0; j < k; j++) {
            rc |= cli_buf_put(b, "\t", 1);
            rc |= cli_buf_fixed(b, w->psum[j] / n, 6);
        }
        rc |= cli_buf_put(b, "\t\n", 2);
        return rc;
    }
    rc |= cli_buf_put(b, "{\"id\":", 6);
    rc |= cli_buf_put(b, w->idj.data, w->idj.len);
    rc |= cli_buf_printf(b, ",\"sentences\":%zu,\"counts\":{", res->n);
    for (int j = 0; j < k; j++) {
        if (j)
            rc |= cli_buf_put(b, ",", 1);
        rc |= cli_buf_put(b, r->label_json[j].data, r->label_json[j].len);
        rc |= cli_buf_put(b, ":", 1);
        rc |= cli_buf_uint(b, (size_t)sl->counts[j]);
    }
    rc |= cli_buf_put(b, "},\"mean_probs\":{", 16);
    for (int j = 0; j < k; j++) {
        if (j)
            rc |= cli_buf_put(b, ",", 1);
        rc |= cli_buf_put(b, r->label_json[j].data, r->label_json[j].len);
        rc |= cli_buf_put(b, ":", 1);
        rc |= cli_buf_fixed(b, w->psum[j] / n, 6);
    }
    rc |= cli_buf_put(b, "},\"dominant\":", 13);
    if (sl->dominant >= 0)
        rc |= cli_buf_put(b, r->label_json[sl->dominant].data, r->label_json[sl->dominant].len);
    else
        rc |= cli_buf_put(b, "null", 4);
    rc |= cli_buf_put(b, ",\"share\":", 9);
    rc |= cli_buf_fixed(b, share, 6);
    rc |= cli_buf_printf(b, ",\"model\":\"%s\"", r->model_id);
    if (res->invalid_utf8)
        rc |= cli_buf_printf(b, ",\"invalid_utf8\":%zu", res->invalid_utf8);
    if (r->o->sentences) {
        rc |= cli_buf_put(b, ",\"sentence_labels\":[", 20);
        for (size_t i = 0; i < res->n; i++) {
            if (i)
                rc |= cli_buf_put(b, ",", 1);
            rc |= cli_sentence_json(b, NULL, 0, i, &res->sentences[i], r->m, text,
                                    r->o->probs, 0);
        }
        rc |= cli_buf_put(b, "]", 1);
    }
    rc |= put_kept(r, b, mem, nmem);
    rc |= cli_buf_put(b, "}\n", 2);
    return rc;
}

/* Set the worker's id to a plain string (a path or FILE:LINE). */
static int set_id_text(worker *w, const char *s, size_t n)
{
    w->idj.len = w->idt.len = 0;
    return (cli_buf_json(&w->idj, s, n) | cli_buf_put(&w->idt, s, n)) ? -1 : 0;
}

static int score_text(worker *w, slot *sl, const char *text, size_t len, const char *where,
                      const stance_json_member *mem, size_t nmem)
{
    const stance_result *res = NULL;
    stance_error err = {0};
    int rc = stance_classify(w->s, text, len, w->r->o->flags, &res, &err);
    if (rc) {
        char msg[sizeof err.msg + PATH_MAX + 64];
        snprintf(msg, sizeof msg, "%s: %s", where, err.msg);
        return emit_error(w, sl, msg, mem, nmem);
    }
    return emit_score(w, sl, text, res, mem, nmem);
}

static int do_file(worker *w, slot *sl)
{
    const char *id = display_name(sl->name);
    char *text = NULL;
    size_t len = 0;
    stance_error err = {0};
    if (set_id_text(w, id, strlen(id)))
        return -1;
    int rc = stance_read_file(sl->name, (size_t)w->r->o->max_bytes, &text, &len, &err);
    struct stat st;
    sl->raw = strcmp(sl->name, "-") != 0 && stat(sl->name, &st) == 0 ? (uint64_t)st.st_size
                                                                       : (uint64_t)len;
    if (rc) {
        /* the library names "-" as such; say stdin like the id does, and
         * name the option that sets a size limit */
        const int stdin_name = strcmp(sl->name, "-") == 0 && strncmp(err.msg, "-: ", 3) == 0;
        char msg[sizeof err.msg + 24];
        snprintf(msg, sizeof msg, "%s%s%s", stdin_name ? "stdin: " : "",
                 err.msg + (stdin_name ? 3 : 0), rc == STANCE_ERR_TOOBIG ? " (--max-bytes)" : "");
        return emit_error(w, sl, msg, NULL, 0);
    }
    rc = score_text(w, sl, text, len, id, NULL, 0);
    free(text);
    return rc;
}

/* One JSON Lines record: parse, find text and id, score. */
static int do_line(worker *w, slot *sl)
{
    const run *r = w->r;
    char where[PATH_MAX + 32];
    char msg[sizeof where + sizeof((stance_error *)0)->msg + 64];
    stance_error err = {0};
    size_t n = 0;
    snprintf(where, sizeof where, "%s:%ld", sl->name, sl->line);
    if (set_id_text(w, where, strlen(where)))
        return -1;
    int rc = stance_json_parse_object(sl->data, sl->len, w->mem, w->mem_cap, &n, &err);
    if (!rc && n > w->mem_cap) {
        stance_json_member *p = realloc(w->mem, n * sizeof *p);
        if (!p)
            return -1;
        w->mem = p;
        w->mem_cap = n;
        rc = stance_json_parse_object(sl->data, sl->len, w->mem, w->mem_cap, &n, &err);
    }
    if (rc) {
        snprintf(msg, sizeof msg, "%s: invalid JSON: %s", where, err.msg);
        return emit_error(w, sl, msg, NULL, 0);
    }
    const stance_json_member *text = NULL, *id = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!text && key_is(&w->mem[i], r->o->text_field))
            text = &w->mem[i];
        else if (!id && key_is(&w->mem[i], r->o->id_field))
            id = &w->mem[i];
    }
    if (id && !(id->value_len == 4 && memcmp(id->value, "null", 4) == 0)) {
        w->idj.len = w->idt.len = 0;
        if (cli_buf_put(&w->idj, id->value, id->value_len))
            return -1;
        if (id->is_string) {
            char *d = NULL;
            size_t dl = 0;
            if (stance_json_decode_string(id->value, id->value_len, &d, &dl, NULL))
                return -1; /* the parser validated it: only memory can fail */
            rc = cli_buf_put(&w->idt, d, dl);
            free(d);
        } else
            rc = cli_buf_put(&w->idt, id->value, id->value_len);
        if (rc)
            return -1;
    }
    if (!text) {
        snprintf(msg, sizeof msg, "%s: no \"%s\" field", where, r->o->text_field);
        return emit_error(w, sl, msg, w->mem, n);
    }
    if (!text->is_string) {
        snprintf(msg, sizeof msg, "%s: field \"%s\" is not a string", where, r->o->text_field);
        return emit_error(w, sl, msg, w->mem, n);
    }
    char *t = NULL;
    size_t tl = 0;
    rc = stance_json_decode_string(text->value, text->value_len, &t, &tl, &err);
    if (rc) {
        snprintf(msg, sizeof msg, "%s: field \"%s\": %s", where, r->o->text_field, err.msg);
        return emit_error(w, sl, msg, w->mem, n);
    }
    rc = score_text(w, sl, t, tl, where, w->mem, n);
    free(t);
    return rc;
}

/* A slot's result half, empty. */
static void clear_result(slot *sl)
{
    sl->out.len = 0;
    sl->failed = 0;
    sl->nsent = 0;
    sl->dominant = -1;
}

static int process(worker *w, slot *sl)
{
    clear_result(sl);
    switch (sl->kind) {
    case J_FILE: return do_file(w, sl);
    case J_LINE: return do_line(w, sl);
    default:
        if (set_id_text(w, sl->name, strlen(sl->name)))
            return -1;
        return emit_error(w, sl, sl->data, NULL, 0);
    }
}

/* Should a worker that has just finished slots wake the waiting writer?
 * When the slot it must write next is done and a batch is worth writing;
 * otherwise the writer's nap brings it back soon enough. */
static int writer_due(const run *r)
{
    if (!r->writer_waits || r->released == r->submitted || !r->slots[r->released % r->cap].done)
        return 0;
    return r->finished || r->stop || r->reader_waits != WAIT_NONE ||
           r->claimed - r->released >= r->cap / 2;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    const uint64_t nworkers = (uint64_t)r->o->threads;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->claimed == r->submitted && !r->finished) {
            r->idle_workers++;
            pthread_cond_wait(&r->work_cv, &r->mu);
            r->idle_workers--;
        }
        if (r->claimed == r->submitted)
            break;
        /* a share of what is waiting, so that the other workers get some */
        uint64_t avail = r->submitted - r->claimed;
        uint64_t take = (avail + nworkers - 1) / nworkers;
        if (take > CLAIM_MAX)
            take = CLAIM_MAX;
        uint64_t first = r->claimed;
        r->claimed += take;
        int skip = r->stop;
        pthread_mutex_unlock(&r->mu);
        int failed = 0;
        size_t held = 0;
        for (uint64_t seq = first; seq < first + take; seq++) {
            slot *sl = &r->slots[seq % r->cap];
            if (!skip && !failed)
                failed = process(w, sl);
            else
                clear_result(sl); /* stopping: never written */
            held += sl->kind == J_LINE ? sl->len : 0;
            free(sl->data);
            sl->data = NULL;
        }
        pthread_mutex_lock(&r->mu);
        if (failed && !r->stop) {
            r->nomem = 1;
            r->stop = 1;
            pthread_cond_broadcast(&r->space_cv);
        }
        r->bytes_in_flight -= held;
        for (uint64_t seq = first; seq < first + take; seq++)
            r->slots[seq % r->cap].done = 1;
        if (writer_due(r))
            pthread_cond_signal(&r->done_cv);
        if (r->reader_waits == WAIT_BYTES && held)
            pthread_cond_signal(&r->space_cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ------------------------------------------------------------- writer */

static void progress_line(run *r, int final)
{
    double t = now_sec();
    if (!final && t - r->last_progress < 0.25)
        return;
    r->last_progress = t;
    if (final) {
        if (r->progress_shown)
            fputs("\r\033[K", stderr);
        return;
    }
    double el = t - r->t0 > 1e-6 ? t - r->t0 : 1e-6;
    char eta[48] = "";
    if (r->total_raw && r->raw_done && r->raw_done <= r->total_raw) {
        double left = (double)(r->total_raw - r->raw_done) / ((double)r->raw_done / el);
        long s = (long)(left + 0.5);
        snprintf(eta, sizeof eta, ", ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
    fprintf(stderr, "\rstance score: %llu docs, %.1f MB, %.1f docs/s%s\033[K",
            (unsigned long long)r->docs, r->raw_done / 1e6, r->docs / el, eta);
    r->progress_shown = 1;
}

/* Write one finished record and count it.  Returns -1 to stop. */
static int release(run *r, slot *sl)
{
    errno = 0;
    if (sl->out.len && fwrite(sl->out.data, 1, sl->out.len, stdout) != sl->out.len) {
        r->write_errno = errno ? errno : EIO;
        return -1;
    }
    r->docs++;
    r->raw_done += sl->raw;
    if (sl->failed)
        r->errors++;
    else {
        r->sentences += sl->nsent;
        for (int j = 0; j < r->k; j++)
            r->label_count[j] += (uint64_t)sl->counts[j];
        if (sl->dominant >= 0)
            r->label_dominant[sl->dominant]++;
    }
    if (r->progress)
        progress_line(r, 0);
    if (sl->failed && r->o->max_errors && r->errors >= (uint64_t)r->o->max_errors) {
        r->max_errors_hit = 1;
        return -1;
    }
    return 0;
}

/* The TSV header line. */
static int header(run *r)
{
    cli_buf b = {0};
    int rc = cli_buf_put(&b, "id\tsentences\tdominant\tshare", 27);
    for (int j = 0; j < r->k; j++) {
        const char *l = stance_model_label(r->m, j);
        rc |= cli_buf_put(&b, "\t", 1);
        rc |= cli_put_flat(&b, l, strlen(l));
    }
    for (int j = 0; j < r->k; j++) {
        const char *l = stance_model_label(r->m, j);
        rc |= cli_buf_put(&b, "\tp_", 3);
        rc |= cli_put_flat(&b, l, strlen(l));
    }
    rc |= cli_buf_put(&b, "\terror\n", 7);
    errno = 0;
    if (rc)
        r->nomem = 1;
    else if (fwrite(b.data, 1, b.len, stdout) != b.len)
        r->write_errno = errno ? errno : EIO;
    cli_buf_free(&b);
    return rc || r->write_errno ? -1 : 0;
}

static void *writer_main(void *arg)
{
    run *r = arg;
    int dirty = 0, naps = 0;
    int halt = r->o->format == FMT_TSV ? header(r) : 0;
    pthread_mutex_lock(&r->mu);
    if (halt) {
        r->stop = 1;
        pthread_cond_broadcast(&r->space_cv);
    }
    for (;;) {
        slot *sl = r->released < r->submitted ? &r->slots[r->released % r->cap] : NULL;
        if (!sl || !sl->done) {
            if (!sl && r->finished)
                break;
            /* caught up with the workers: nap until woken for a batch, or
             * for WRITER_NAP; after FLUSH_NAPS naps without output, flush,
             * so that a slow trickle of input still shows up downstream */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += WRITER_NAP_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            r->writer_waits = 1;
            int timed_out = pthread_cond_timedwait(&r->done_cv, &r->mu, &ts) == ETIMEDOUT;
            r->writer_waits = 0;
            if (timed_out && dirty && ++naps >= FLUSH_NAPS) {
                dirty = 0;
                if (!r->stop) {
                    pthread_mutex_unlock(&r->mu);
                    int bad = fflush(stdout) != 0;
                    int e = errno;
                    pthread_mutex_lock(&r->mu);
                    if (bad && !r->stop) {
                        r->write_errno = e ? e : EIO;
                        r->stop = 1;
                        pthread_cond_broadcast(&r->space_cv);
                    }
                }
            }
            continue;
        }
        int stopping = r->stop;
        pthread_mutex_unlock(&r->mu);
        halt = 0;
        if (!stopping) {
            halt = release(r, sl);
            dirty = 1;
            naps = 0;
        }
        free(sl->name);
        sl->name = NULL;
        if (sl->out.cap > SLOT_BUF_KEEP)
            cli_buf_free(&sl->out);
        pthread_mutex_lock(&r->mu);
        sl->done = 0;
        r->released++;
        if (halt) {
            r->stop = 1;
            pthread_cond_broadcast(&r->space_cv);
        } else if ((r->reader_waits == WAIT_SLOTS &&
                    r->submitted - r->released <= r->cap / 2) ||
                   (r->reader_waits == WAIT_BYTES && r->submitted == r->released))
            pthread_cond_signal(&r->space_cv);
    }
    pthread_mutex_unlock(&r->mu);
    if (!r->write_errno && fflush(stdout) != 0)
        r->write_errno = errno ? errno : EIO;
    if (r->progress)
        progress_line(r, 1);
    return NULL;
}

/* ------------------------------------------------------------- reader */

/* Hand a document to the workers; takes ownership of name and data.
 * Returns -1 when the run is stopping (nothing more should be read). */
static int submit(run *r, int kind, char *name, char *data, size_t len, long line,
                  uint64_t raw)
{
    size_t held = kind == J_LINE ? len : 0;
    if (!name) {
        free(data);
        pthread_mutex_lock(&r->mu);
        r->nomem = r->stop = 1;
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (r->stop)
            break;
        if (r->submitted - r->released >= r->cap)
            r->reader_waits = WAIT_SLOTS;
        else if (r->submitted != r->released && r->bytes_in_flight + held > IN_FLIGHT_BYTES)
            r->reader_waits = WAIT_BYTES;
        else
            break;
        pthread_cond_wait(&r->space_cv, &r->mu);
    }
    r->reader_waits = WAIT_NONE;
    if (r->stop) {
        pthread_mutex_unlock(&r->mu);
        free(name);
        free(data);
        return -1;
    }
    slot *sl = &r->slots[r->submitted % r->cap];
    sl->kind = kind;
    sl->name = name;
    sl->data = data;
    sl->len = len;
    sl->line = line;
    sl->raw = raw;
    sl->done = 0;
    r->submitted++;
    r->bytes_in_flight += held;
    if (r->idle_workers)
        pthread_cond_signal(&r->work_cv);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    char small[512];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof small)
        return strdup(small);
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* An error record for a document that never reached a worker's hands. */
static int submit_error(run *r, const char *id, const char *msg)
{
    char *m = strdup(msg);
    if (!m) {
        pthread_mutex_lock(&r->mu);
        r->nomem = r->stop = 1;
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    return submit(r, J_ERROR, strdup(id), m, strlen(m), 0, 0);
}

/* The error record "path: why" of an input that cannot be read. */
static int path_error(run *r, const char *path, const char *why)
{
    char *msg = str_printf("%s: %s", path, why);
    int rc = msg ? submit_error(r, path, msg) : -1;
    free(msg);
    return rc;
}

/* A line reader over a stance_stream (plain or gzip) that never holds
 * more than about max_bytes + 2 chunks, whatever the length of the input. */
typedef struct lreader {
    stance_stream *in;
    char *buf;
    size_t cap, beg, end;
    int eof, failed;        /* failed: the stream reported an error */
    stance_error err;       /* ... this one, "NAME: reason" */
} lreader;

enum { LR_END, LR_LINE, LR_TOOLONG, LR_ERROR };

static int lr_next(lreader *lr, size_t max, const char **line, size_t *len)
{
    size_t scanned = 0;
    int toolong = 0;
    for (;;) {
        char *from = lr->buf ? lr->buf + lr->beg + scanned : NULL;
        char *nl = from ? memchr(from, '\n', lr->end - lr->beg - scanned) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (lr->buf + lr->beg));
            *line = lr->buf + lr->beg;
            *len = n;
            lr->beg += n + 1;
            return toolong || n > max ? LR_TOOLONG : LR_LINE;
        }
        scanned = lr->end - lr->beg;
        if (scanned > max) {
            /* over the limit: drop what we have and look for the line's end */
            toolong = 1;
            lr->beg = lr->end = 0;
            scanned = 0;
        }
        if (lr->eof) {
            if (lr->failed)
                return LR_ERROR;
            if (lr->end == lr->beg && !toolong)
                return LR_END;
            *line = lr->buf + lr->beg;
            *len = lr->end - lr->beg;
            lr->beg = lr->end;
            return toolong ? LR_TOOLONG : LR_LINE;
        }
        if (lr->beg) {
            memmove(lr->buf, lr->buf + lr->beg, lr->end - lr->beg);
            lr->end -= lr->beg;
            lr->beg = 0;
        }
        if (lr->cap - lr->end < READ_CHUNK) {
            /* never more than a line at the limit plus two chunks */
            size_t nc = lr->cap ? lr->cap * 2 : 4 * READ_CHUNK;
            if (nc > max + 2 * READ_CHUNK)
                nc = max + 2 * READ_CHUNK;
            if (nc < lr->end + READ_CHUNK)
                nc = lr->end + READ_CHUNK;
            char *p = realloc(lr->buf, nc);
            if (!p) {
                lr->failed = 1;
                lr->eof = 1;
                snprintf(lr->err.msg, sizeof lr->err.msg, "stream: out of memory");
                continue;
            }
            lr->buf = p;
            lr->cap = nc;
        }
        size_t want = lr->cap - lr->end;
        if (want > (size_t)INT_MAX)
            want = (size_t)INT_MAX;
        size_t got = 0;
        if (stance_stream_read(lr->in, lr->buf + lr->end, want, &got, &lr->err)) {
            lr->failed = 1;
            lr->eof = 1;
            continue;
        }
        if (got > 0) {
            lr->end += got;
            continue;
        }
        lr->eof = 1;
    }
}

/* The stream's error without its "NAME: " prefix: records name the line. */
static const char *lr_reason(const lreader *lr)
{
    const char *m = lr->err.msg, *sep = strstr(m, ": ");
    return sep ? sep + 2 : m;
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

static int read_jsonl(run *r, lreader *lr, const char *path)
{
    const char *name = display_name(path);
    memset(&lr->err, 0, sizeof lr->err);
    if (stance_stream_open(path, &lr->in, &lr->err)) {
        return path_error(r, name, lr_reason(lr));
    }
    lr->beg = lr->end = 0;
    lr->eof = lr->failed = 0;
    long lineno = 0;
    uint64_t last = 0;
    int rc = 0;
    for (;;) {
        const char *line;
        size_t len;
        int what = lr_next(lr, (size_t)r->o->max_bytes, &line, &len);
        if (what == LR_END)
            break;
        lineno++;
        uint64_t off = stance_stream_offset(lr->in); /* compressed bytes for gzip */
        uint64_t raw = off > last ? off - last : 0;
        last = off > last ? off : last;
        if (what == LR_ERROR) {
            char *id = str_printf("%s:%ld", name, lineno);
            char *msg = str_printf("%s:%ld: %s", name, lineno, lr_reason(lr));
            rc = id && msg ? submit_error(r, id, msg) : -1;
            free(id);
            free(msg);
            break;
        }
        if (what == LR_TOOLONG) {
            char *id = str_printf("%s:%ld", name, lineno);
            char *msg = str_printf("%s:%ld: line longer than the limit of %ld bytes (--max-bytes)",
                                   name, lineno, r->o->max_bytes);
            rc = id && msg ? submit_error(r, id, msg) : -1;
            free(id);
            free(msg);
            if (rc)
                break;
            continue;
        }
        if (len && line[len - 1] == '\r')
            len--;
        /* a byte order mark before the first record, as the corpus reader
         * allows */
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            len -= 3;
        }
        if (blank(line, len))
            continue;
        char *copy = malloc(len ? len : 1);
        if (copy)
            memcpy(copy, line, len);
        else {
            pthread_mutex_lock(&r->mu);
            r->nomem = r->stop = 1;
            pthread_mutex_unlock(&r->mu);
            rc = -1;
            break;
        }
        if ((rc = submit(r, J_LINE, strdup(name), copy, len, lineno, raw)))
            break;
    }
    stance_stream_close(lr->in);
    lr->in = NULL;
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_jsonl(const run *r, const char *path)
{
    return r->o->jsonl || ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz");
}

static int score_file(run *r, lreader *lr, const char *path)
{
    if (is_jsonl(r, path))
        return read_jsonl(r, lr, path);
    return submit(r, J_FILE, strdup(path), NULL, 0, 0, 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    return str_printf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* The names in dir, sorted by bytes, or NULL with errno set. */
static char **list_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int eno = 0;
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (!e) {
            eno = errno;
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **p = realloc(names, nc * sizeof *p);
            if (!p) {
                eno = ENOMEM;
                break;
            }
            names = p;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name))) {
            eno = ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (eno) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        errno = eno;
        return NULL;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    if (!names)
        names = malloc(sizeof *names); /* an empty listing, not a failure */
    if (!names)
        errno = ENOMEM;
    return names;
}

static int walk(run *r, lreader *lr, const char *dir)
{
    size_t n = 0;
    char **names = list_dir(dir, &n);
    if (!names)
        return path_error(r, dir, strerror(errno));
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char *p = join_path(dir, names[i]);
        struct stat st;
        if (!p)
            rc = submit(r, J_ERROR, NULL, NULL, 0, 0, 0);
        else if (lstat(p, &st) != 0 || (S_ISLNK(st.st_mode) && stat(p, &st) != 0))
            rc = path_error(r, p, strerror(errno));
        else if (S_ISDIR(st.st_mode)) {
            /* a link to a folder is not followed, where a loop could never
             * end; it holds no document of its own, so it is a notice, not
             * an error record */
            struct stat l;
            if (lstat(p, &l) == 0 && !S_ISLNK(l.st_mode))
                rc = walk(r, lr, p);
            else
                cli_error(CMD, "%s: a symbolic link to a folder, not followed (name it to score "
                               "it)", p);
        } else if (!r->o->glob || fnmatch(r->o->glob, names[i], 0) == 0) {
            if (S_ISREG(st.st_mode))
                rc = score_file(r, lr, p);
            else
                rc = path_error(r, p, S_ISFIFO(st.st_mode)    ? "a named pipe, not a file"
                                      : S_ISSOCK(st.st_mode) ? "a socket, not a file"
                                                             : "a device, not a file");
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* A FILE/DIR argument or a --files-from entry. */
static int add_input(run *r, lreader *lr, const char *path)
{
    if (strcmp(path, "-") == 0) {
        if (r->stdin_used)
            return submit_error(r, "stdin", "stdin: standard input was already read");
        r->stdin_used = 1;
        return score_file(r, lr, path);
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return path_error(r, path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return walk(r, lr, path);
    return score_file(r, lr, path);
}

static int files_from(run *r, lreader *lr, FILE *f, const char *listname)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        rc = add_input(r, lr, line);
    }
    if (!rc && ferror(f)) {
        char *msg = str_printf("%s: read error: %s", listname, strerror(errno));
        rc = msg ? submit_error(r, listname, msg) : -1;
        free(msg);
    }
    free(line);
    return rc;
}

/* Input bytes to come, for the ETA: only when every input can be sized. */
static uint64_t size_of(const char *path, const char *glob, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (uint64_t)st.st_size;
    size_t n = 0;
    uint64_t total = 0;
    char **names = depth < 64 ? list_dir(path, &n) : NULL;
    if (!names)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char *p = join_path(path, names[i]);
        struct stat l;
        if (p && lstat(p, &l) == 0 && !S_ISLNK(l.st_mode) && S_ISDIR(l.st_mode))
            total += size_of(p, glob, depth + 1);
        else if (p && stat(p, &l) == 0 && S_ISREG(l.st_mode) &&
                 (!glob || fnmatch(glob, names[i], 0) == 0))
            total += (uint64_t)l.st_size;
        free(p);
        free(names[i]);
    }
    free(names);
    return total;
}

/* ------------------------------------------------------------ summary */

static void summary_text(const run *r)
{
    fprintf(stderr,
            "stance score: %llu documents, %llu errors, %llu sentences (model %s)\n"
            "%-28s %12s %8s %12s\n",
            (unsigned long long)r->docs, (unsigned long long)r->errors,
            (unsigned long long)r->sentences, r->model_id, "label", "sentences", "share",
            "dominant in");
    for (int j = 0; j < r->k; j++)
        fprintf(stderr, "%-28s %12llu %8.4f %12llu\n", stance_model_label(r->m, j),
                (unsigned long long)r->label_count[j],
                r->sentences ? (double)r->label_count[j] / (double)r->sentences : 0.0,
                (unsigned long long)r->label_dominant[j]);
}

static int summary_json(const run *r, const char *path, int complete)
{
    cli_buf b = {0};
    int rc = cli_buf_printf(&b, "{\"documents\":%llu,\"errors\":%llu,\"sentences\":%llu,"
                                "\"complete\":%s,\"model\":\"%s\",\"labels\":{",
                            (unsigned long long)r->docs, (unsigned long long)r->errors,
                            (unsigned long long)r->sentences, complete ? "true" : "false",
                            r->model_id);
    for (int j = 0; j < r->k; j++) {
        if (j)
            rc |= cli_buf_put(&b, ",", 1);
        rc |= cli_buf_put(&b, r->label_json[j].data, r->label_json[j].len);
        rc |= cli_buf_printf(
            &b, ":{\"count\":%llu,\"share\":%.6f,\"dominant\":%llu}",
            (unsigned long long)r->label_count[j],
            r->sentences ? (double)r->label_count[j] / (double)r->sentences : 0.0,
            (unsigned long long)r->label_dominant[j]);
    }
    rc |= cli_buf_put(&b, "}}\n", 3);
    if (rc) {
        cli_buf_free(&b);
        cli_error(CMD, "out of memory");
        return EXIT_IO;
    }
    FILE *f = fopen(path, "w");
    int bad = !f || fwrite(b.data, 1, b.len, f) != b.len;
    int eno = errno;
    if (f && fclose(f) != 0 && !bad) {
        bad = 1;
        eno = errno;
    }
    cli_buf_free(&b);
    if (bad) {
        cli_error(CMD, "%s: cannot write the summary: %s", path, strerror(eno));
        return EXIT_IO;
    }
    return EXIT_OK;
}

/* ---------------------------------------------------------------- main */

static int parse_opts(int argc, char **argv, opts *o)
{
    enum {
        O_JSONL = 256, O_TEXT, O_ID, O_KEEP, O_GLOB, O_FROM, O_SENT, O_PROBS, O_SUM,
        O_SUMJSON, O_MAXERR, O_MAXBYTES
    };
    static const struct option lopts[] = {
        {"model", required_argument, NULL, 'm'},     {"threads", required_argument, NULL, 'j'},
        {"jsonl", no_argument, NULL, O_JSONL},       {"text-field", required_argument, NULL, O_TEXT},
        {"id-field", required_argument, NULL, O_ID}, {"keep-fields", no_argument, NULL, O_KEEP},
        {"glob", required_argument, NULL, O_GLOB},   {"files-from", required_argument, NULL, O_FROM},
        {"sentences", no_argument, NULL, O_SENT},    {"probs", no_argument, NULL, O_PROBS},
        {"format", required_argument, NULL, 'f'},    {"wrapped", no_argument, NULL, 'w'},
        {"summary", no_argument, NULL, O_SUM},       {"summary-json", required_argument, NULL, O_SUMJSON},
        {"max-errors", required_argument, NULL, O_MAXERR},
        {"max-bytes", required_argument, NULL, O_MAXBYTES},
        {"quiet", no_argument, NULL, 'q'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:j:f:wqh", lopts, NULL)) != -1) {
        switch (opt) {
        case 'm': o->model = optarg; break;
        case 'j':
            if (cli_parse_long(CMD, "--threads", optarg, 1, 1024, &o->threads))
                return EXIT_USAGE;
            break;
        case O_JSONL: o->jsonl = 1; break;
        case O_TEXT: o->text_field = optarg; break;
        case O_ID: o->id_field = optarg; break;
        case O_KEEP: o->keep = 1; break;
        case O_GLOB: o->glob = optarg; break;
        case O_FROM: o->files_from = optarg; break;
        case O_SENT: o->sentences = 1; break;
        case O_PROBS: o->probs = 1; break;
        case 'f':
            if (strcmp(optarg, "jsonl") == 0)
                o->format = FMT_JSONL;
            else if (strcmp(optarg, "tsv") == 0)
                o->format = FMT_TSV;
            else {
                cli_error(CMD, "--format: expected jsonl or tsv, got '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'w': o->flags |= STANCE_WRAPPED; break;
        case O_SUM: o->summary = 1; break;
        case O_SUMJSON: o->summary_json = optarg; break;
        case O_MAXERR:
            if (cli_parse_long(CMD, "--max-errors", optarg, 1, LONG_MAX, &o->max_errors))
                return EXIT_USAGE;
            break;
        case O_MAXBYTES:
            if (cli_parse_long(CMD, "--max-bytes", optarg, 1, 1L << 30, &o->max_bytes))
                return EXIT_USAGE;
            break;
        case 'q': o->quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (!*o->text_field || !*o->id_field) {
        cli_error(CMD, "--text-field and --id-field need a name");
        return EXIT_USAGE;
    }
    if (strcmp(o->text_field, o->id_field) == 0) {
        cli_error(CMD, "--text-field and --id-field must differ");
        return EXIT_USAGE;
    }
    if (o->format == FMT_TSV && (o->sentences || o->keep)) {
        cli_error(CMD, "--sentences and --keep-fields need --format jsonl");
        return EXIT_USAGE;
    }
    if (o->probs && !o->sentences) {
        cli_error(CMD, "--probs goes with --sentences");
        return EXIT_USAGE;
    }
    int dashes = o->files_from && strcmp(o->files_from, "-") == 0;
    for (int i = optind; i < argc; i++)
        dashes += strcmp(argv[i], "-") == 0;
    if (dashes > 1) {
        cli_error(CMD, "standard input ('-') can be read only once");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Everything the reader does: the inputs in order, then the end mark. */
static void read_inputs(run *r, char **paths, int npaths, FILE *list)
{
    lreader lr = {0};
    int rc = 0;
    r->stdin_used = list == stdin;
    for (int i = 0; i < npaths && !rc; i++)
        rc = add_input(r, &lr, paths[i]);
    if (!rc && list)
        rc = files_from(r, &lr, list, display_name(r->o->files_from));
    free(lr.buf);
    pthread_mutex_lock(&r->mu);
    r->finished = 1;
    pthread_cond_broadcast(&r->work_cv);
    pthread_cond_broadcast(&r->done_cv);
    pthread_mutex_unlock(&r->mu);
}

int cmd_score(int argc, char **argv)
{
    opts o = {.text_field = "text", .id_field = "id", .max_bytes = 16L << 20};
    int status = parse_opts(argc, argv, &o);
    if (status < 0)
        return cli_finish_stdout(CMD);
    if (status)
        return status;
    if (!o.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n < 1 ? 1 : n > 1024 ? 1024 : n;
    }
    int npaths;
    char **paths = cli_input_paths(argc, argv, optind, o.files_from != NULL, &npaths);

    run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    worker *w = NULL;
    FILE *list = NULL;
    int nstarted = 0, writer_started = 0, mutex_ready = 0;
    stance_model *model = NULL;
    if ((status = cli_load_model(CMD, o.model, &model)))
        return status;
    r.m = model;
    r.k = stance_model_nlabels(model);
    r.model_id = stance_model_id(model);

    if (o.files_from) {
        list = strcmp(o.files_from, "-") == 0 ? stdin : fopen(o.files_from, "r");
        if (!list) {
            cli_error(CMD, "%s: %s", o.files_from, strerror(errno));
            status = EXIT_IO;
            goto done;
        }
    }

    r.cap = (size_t)o.threads * SLOTS_PER_THREAD;
    r.slots = calloc(r.cap, sizeof *r.slots);
    r.label_json = calloc((size_t)r.k, sizeof *r.label_json);
    r.label_count = calloc((size_t)r.k, sizeof *r.label_count);
    r.label_dominant = calloc((size_t)r.k, sizeof *r.label_dominant);
    w = calloc((size_t)o.threads, sizeof *w);
    if (!r.slots || !r.label_json || !r.label_count || !r.label_dominant || !w)
        goto nomem;
    for (size_t i = 0; i < r.cap; i++)
        if (!(r.slots[i].counts = calloc((size_t)r.k, sizeof *r.slots[i].counts)))
            goto nomem;
    for (int j = 0; j < r.k; j++) {
        const char *l = stance_model_label(model, j);
        if (cli_buf_json(&r.label_json[j], l, strlen(l)))
            goto nomem;
    }
    for (long i = 0; i < o.threads; i++) {
        stance_error err = {0};
        w[i].r = &r;
        w[i].mem_cap = 64;
        w[i].mem = malloc(w[i].mem_cap * sizeof *w[i].mem);
        w[i].psum = calloc((size_t)r.k, sizeof *w[i].psum);
        if (!w[i].mem || !w[i].psum)
            goto nomem;
        int rc = stance_session_new(model, &w[i].s, &err);
        if (rc) {
            cli_error(CMD, "%s", err.msg);
            status = cli_exit_code(rc);
            goto done;
        }
    }

    r.progress = !o.quiet && isatty(STDERR_FILENO);
    if (r.progress) {
        int sizable = !o.files_from;
        for (int i = 0; i < npaths && sizable; i++)
            sizable = strcmp(paths[i], "-") != 0;
        for (int i = 0; i < npaths && sizable; i++)
            r.total_raw += size_of(paths[i], o.glob, 0);
        if (!sizable)
            r.total_raw = 0;
    }
    r.t0 = now_sec();

    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.work_cv, NULL);
    pthread_cond_init(&r.done_cv, NULL);
    pthread_cond_init(&r.space_cv, NULL);
    mutex_ready = 1;
    for (; nstarted < o.threads; nstarted++)
        if (pthread_create(&w[nstarted].th, NULL, worker_main, &w[nstarted]))
            break;
    pthread_t writer;
    if (nstarted > 0 && pthread_create(&writer, NULL, writer_main, &r) == 0)
        writer_started = 1;
    if (!writer_started || nstarted < o.threads) {
        cli_error(CMD, "cannot start threads");
        pthread_mutex_lock(&r.mu);
        r.stop = 1;
        pthread_mutex_unlock(&r.mu);
        status = EXIT_IO;
    }

    if (writer_started)
        read_inputs(&r, paths, npaths, list);
    else {
        pthread_mutex_lock(&r.mu);
        r.finished = 1;
        pthread_cond_broadcast(&r.work_cv);
        pthread_mutex_unlock(&r.mu);
    }
    for (int i = 0; i < nstarted; i++)
        pthread_join(w[i].th, NULL);
    if (writer_started)
        pthread_join(writer, NULL);
    if (status)
        goto done;

    if (o.summary)
        summary_text(&r);
    if (!r.write_errno && ferror(stdout))
        r.write_errno = EIO;
    int complete = !r.write_errno && !r.nomem && !r.max_errors_hit;
    if (o.summary_json && (status = summary_json(&r, o.summary_json, complete)))
        goto done;
    if (r.write_errno) {
        cli_error(CMD, "error writing output: %s", strerror(r.write_errno));
        status = EXIT_IO;
    } else if (r.nomem) {
        cli_error(CMD, "out of memory");
        status = EXIT_IO;
    } else if (r.max_errors_hit) {
        cli_error(CMD, "stopped after %llu documents that could not be scored (--max-errors %ld)",
                  (unsigned long long)r.errors, o.max_errors);
        status = EXIT_CHECK;
    } else if (r.errors) {
        cli_error(CMD, "%llu of %llu documents could not be scored",
                      (unsigned long long)r.errors, (unsigned long long)r.docs);
        status = EXIT_CHECK;
    }
    goto done;

nomem:
    cli_error(CMD, "out of memory");
    status = EXIT_IO;
done:
    if (w)
        for (long i = 0; i < o.threads; i++) {
            stance_session_free(w[i].s);
            free(w[i].mem);
            free(w[i].psum);
            cli_buf_free(&w[i].idj);
            cli_buf_free(&w[i].idt);
        }
    free(w);
    if (r.slots)
        for (size_t i = 0; i < r.cap; i++) {
            free(r.slots[i].counts);
            free(r.slots[i].name);
            free(r.slots[i].data);
            cli_buf_free(&r.slots[i].out);
        }
    free(r.slots);
    if (r.label_json)
        for (int j = 0; j < r.k; j++)
            cli_buf_free(&r.label_json[j]);
    free(r.label_json);
    free(r.label_count);
    free(r.label_dominant);
    if (mutex_ready) {
        pthread_mutex_destroy(&r.mu);
        pthread_cond_destroy(&r.work_cv);
        pthread_cond_destroy(&r.done_cv);
        pthread_cond_destroy(&r.space_cv);
    }
    if (list && list != stdin)
        fclose(list);
    stance_model_free(model);
    return status;
}
