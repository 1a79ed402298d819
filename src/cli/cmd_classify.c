/* cmd_classify.c - `stance classify`: every sentence's label and
 * probabilities, from --text, files or standard input. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: stance classify [-m MODEL] [-j N] [--format text|tsv|jsonl] [--probs]\n"
    "                       [--wrapped] [--max-bytes N] [--text TEXT]... [FILE... | -]\n\n"
    "Split each input into sentences and label every sentence.  Inputs are files\n"
    "(gzip-compressed files are read transparently), '-' for standard input, and\n"
    "--text arguments; with none of these, standard input is read.\n\n"
    "  -m, --model MODEL    model file (default: the shipped default model)\n"
    "  -j, --threads N      worker threads for files and standard input (default: the\n"
    "                       number of online CPUs); the output is the same for any N\n"
    "  -f, --format FMT     text (default on a terminal), tsv (default otherwise), jsonl\n"
    "  -p, --probs          print every class probability\n"
    "  -w, --wrapped        single line breaks inside paragraphs are spaces\n"
    "      --max-bytes N    refuse a line (a paragraph with --wrapped) longer than N\n"
    "                       bytes (default 64 MiB); files are read as a stream\n"
    "  -t, --text TEXT      classify TEXT (repeatable); its document id is text:N\n\n"
    "tsv columns: doc, sentence, start, end, label, [one column per label], text\n"
    "jsonl: {\"doc\",\"sentence\",\"start\",\"end\",\"label\",\"probs\",\"text\"} per sentence\n"
    "start and end are byte offsets into the document.\n";

enum { FMT_TEXT, FMT_TSV, FMT_JSONL };

typedef struct ctx {
    stance_model *m;
    stance_session *s;
    int format, probs;
    unsigned flags;
    cli_buf out;
    cli_buf doc_out;      /* text format: one document's lines */
    size_t index;         /* next sentence number in the document */
    size_t invalid;       /* invalid UTF-8 sequences in the document */
    size_t invalid_line;  /* the line of the first of them */
    int streaming;        /* text: header out, lines go straight to stdout */
    struct pool *pool;    /* -j N > 1: chunks classified by worker threads */
} ctx;

/* Text format: put the document's header out now, without the count of
 * its sentences, then the lines held for it; from here on lines go straight
 * out.  0, or -1 when stdout fails. */
static int text_stream(ctx *c, const char *doc)
{
    cli_buf *b = &c->doc_out;
    if (!c->streaming && printf("== %s\n", doc) < 0)
        return -1;
    c->streaming = 1;
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    b->len = 0;
    return 0;
}

/* Append the sentences of one chunk of a document: offsets are shifted by
 * `base`, the chunk's offset in the document, and numbering goes on from
 * c->index.  Text-format lines are held in c->doc_out until the document
 * ends, because their header counts the sentences. */
static int emit(ctx *c, const char *doc, const char *text, size_t base, const stance_result *r)
{
    cli_buf *b = c->format == FMT_TEXT ? &c->doc_out : &c->out;
    const int k = stance_model_nlabels(c->m);
    if (c->format != FMT_TEXT)
        b->len = 0;
    for (size_t i = 0; i < r->n; i++, c->index++) {
        stance_sentence s = r->sentences[i];
        const char *t = text + s.start;
        size_t tn = s.end - s.start;
        s.start += base;
        s.end += base;
        const char *label = stance_model_label(c->m, s.label);
        if (c->format == FMT_JSONL) {
            if (cli_sentence_json_text(b, doc, strlen(doc), c->index, &s, c->m, t, tn, c->probs,
                                       1))
                return -1;
            cli_buf_put(b, "\n", 1);
        } else if (c->format == FMT_TSV) {
            cli_put_flat(b, doc, strlen(doc));
            cli_buf_put(b, "\t", 1);
            cli_buf_uint(b, c->index);
            cli_buf_put(b, "\t", 1);
            cli_buf_uint(b, s.start);
            cli_buf_put(b, "\t", 1);
            cli_buf_uint(b, s.end);
            cli_buf_put(b, "\t", 1);
            cli_buf_put(b, label, strlen(label));
            if (c->probs)
                for (int j = 0; j < k; j++) {
                    cli_buf_put(b, "\t", 1);
                    cli_buf_fixed(b, s.probs[j], 4);
                }
            cli_buf_put(b, "\t", 1);
            cli_put_flat(b, t, tn);
            cli_buf_put(b, "\n", 1);
        } else {
            cli_buf_printf(b, "%3zu  %-22s %.2f  ", c->index, label, s.probs[s.label]);
            cli_put_flat(b, t, tn);
            cli_buf_put(b, "\n", 1);
            if (c->probs) {
                cli_buf_put(b, "     ", 5);
                for (int j = 0; j < k; j++) {
                    const char *l = stance_model_label(c->m, j);
                    cli_buf_put(b, " ", 1);
                    cli_buf_put(b, l, strlen(l));
                    cli_buf_put(b, "=", 1);
                    cli_buf_fixed(b, s.probs[j], 3);
                }
                cli_buf_put(b, "\n", 1);
            }
        }
    }
    if (c->format != FMT_TEXT && b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    /* text lines wait for the header that counts them, but only up to a
     * point: past 1 MiB the header goes out without the count, and the
     * lines follow as they come, so memory stays bounded */
    if (c->format == FMT_TEXT && (c->streaming || b->len > ((size_t)1 << 20)))
        return text_stream(c, doc);
    return 0;
}

/* Print a classified chunk, or report why it could not be: one thread and
 * many print through here alike. */
static int print_chunk(ctx *c, const char *doc, int rc, const char *msg, const char *text,
                       size_t len, size_t base, size_t line, const stance_result *r)
{
    if (rc) {
        cli_error("classify", "%s: %s", doc, msg);
        return cli_exit_code(rc);
    }
    if (r->invalid_utf8 && !c->invalid)
        c->invalid_line = cli_first_invalid_line(text, len, line);
    c->invalid += r->invalid_utf8;
    return emit(c, doc, text, base, r) ? EXIT_IO : EXIT_OK;
}

/* ---------------------------------------------------------------- -j N
 *
 * With more than one thread, the chunks of a file are classified by worker
 * threads, each with its own session, while this thread reads the next
 * chunks and prints finished ones in order: numbering, offsets and the
 * lines themselves are those of one thread.  A ring of N + 1 jobs bounds
 * the memory to about a chunk per thread. */

typedef struct job {
    char *text;
    size_t len, cap, base, line;
    stance_sentence *sent; /* a copy of the session's result */
    double *probs;
    size_t n, sent_cap;
    size_t invalid;
    int rc;                /* stance status of the classification */
    char msg[sizeof ((stance_error *)0)->msg];
    int done;
} job;

typedef struct pool {
    const stance_model *m;
    unsigned flags;
    int nthreads;
    pthread_t *th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    job *jobs;
    size_t njobs;
    uint64_t head, tail, next; /* next to print, next to fill, next to classify */
    int quit;
    int failed; /* a job failed or output could not be written: print no more */
    /* when no thread can be started, jobs are classified by the caller */
    stance_session *own;
    int own_srf;
    stance_error own_err;
} pool;

/* Classify one job with session *s (created on first use; *srf keeps the
 * status of creating it) and copy the result into the job. */
static void run_job(pool *p, stance_session **s, int *srf, stance_error *err, job *j)
{
    if (!*s && !*srf)
        *srf = stance_session_new(p->m, s, err);
    const stance_result *r = NULL;
    j->rc = *srf ? *srf : stance_classify(*s, j->text, j->len, p->flags, &r, err);
    if (j->rc) {
        snprintf(j->msg, sizeof j->msg, "%s", err->msg);
        return;
    }
    const size_t k = (size_t)stance_model_nlabels(p->m);
    if (r->n > j->sent_cap) {
        stance_sentence *ns = realloc(j->sent, r->n * sizeof *ns);
        if (ns)
            j->sent = ns;
        double *np = ns ? realloc(j->probs, r->n * k * sizeof *np) : NULL;
        if (np)
            j->probs = np;
        if (!ns || !np) {
            j->rc = STANCE_ERR_NOMEM;
            snprintf(j->msg, sizeof j->msg, "out of memory");
            return;
        }
        j->sent_cap = r->n;
    }
    for (size_t i = 0; i < r->n; i++) {
        j->sent[i] = r->sentences[i];
        memcpy(j->probs + i * k, r->sentences[i].probs, k * sizeof *j->probs);
        j->sent[i].probs = j->probs + i * k;
    }
    j->n = r->n;
    j->invalid = r->invalid_utf8;
}

static void *pool_worker(void *arg)
{
    pool *p = arg;
    stance_session *s = NULL;
    stance_error err = {0};
    int srf = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->next == p->tail)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->quit)
            break;
        job *j = &p->jobs[p->next++ % p->njobs];
        pthread_mutex_unlock(&p->mu);
        run_job(p, &s, &srf, &err, j);
        pthread_mutex_lock(&p->mu);
        j->done = 1;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    stance_session_free(s);
    return NULL;
}

static void pool_free(pool *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->quit = 1;
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->started; i++)
            pthread_join(p->th[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    for (size_t i = 0; i < p->njobs; i++) {
        free(p->jobs[i].text);
        free(p->jobs[i].sent);
        free(p->jobs[i].probs);
    }
    free(p->jobs);
    free(p->th);
    stance_session_free(p->own);
    free(p);
}

static pool *pool_new(const stance_model *m, unsigned flags, int nthreads)
{
    pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->m = m;
    p->flags = flags;
    p->nthreads = nthreads;
    p->njobs = (size_t)nthreads + 1; /* one for each thread, one being read or printed */
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->jobs = calloc(p->njobs, sizeof *p->jobs);
    p->th = calloc((size_t)nthreads, sizeof *p->th);
    if (!p->jobs || !p->th) {
        pool_free(p);
        return NULL;
    }
    return p;
}

/* Print the finished jobs at the head of the ring, in order; with wait,
 * wait for the head job first; with all, for every job.  Stops at the
 * first job that failed: its error is reported and its status returned, as
 * one thread would have; after that it prints nothing more. */
static int pool_print(ctx *c, const char *doc, int wait, int all)
{
    pool *p = c->pool;
    int status = EXIT_OK;
    pthread_mutex_lock(&p->mu);
    while (!p->failed && p->head < p->tail) {
        job *j = &p->jobs[p->head % p->njobs];
        if (!j->done) {
            if (!wait && !all)
                break;
            pthread_cond_wait(&p->done_cv, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        stance_result r = {j->n, j->sent, j->invalid};
        status = print_chunk(c, doc, j->rc, j->msg, j->text, j->len, j->base, j->line, &r);
        pthread_mutex_lock(&p->mu);
        j->done = 0;
        p->head++;
        wait = 0;
        if (status) {
            p->failed = 1;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return status;
}

/* Forget the jobs not printed (after an error): wait for those being
 * classified, drop the queued ones. */
static void pool_discard(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->tail = p->next; /* nothing queued is started any more */
    while (p->head < p->tail) {
        job *j = &p->jobs[p->head % p->njobs];
        if (!j->done) {
            pthread_cond_wait(&p->done_cv, &p->mu);
            continue;
        }
        j->done = 0;
        p->head++;
    }
    pthread_mutex_unlock(&p->mu);
}

/* The chunk callback with a pool: hand the chunk to a worker, printing
 * what is finished (and waiting for the oldest job when the ring is
 * full). */
static int pool_chunk(ctx *c, const char *doc, const char *text, size_t len, size_t base,
                      size_t line)
{
    pool *p = c->pool;
    int status = pool_print(c, doc, p->tail - p->head == p->njobs, 0);
    if (status)
        return status;
    job *j = &p->jobs[p->tail % p->njobs];
    if (len > j->cap) {
        char *t = realloc(j->text, len);
        if (!t) {
            cli_error("classify", "%s: out of memory", doc);
            return EXIT_IO;
        }
        j->text = t;
        j->cap = len;
    }
    memcpy(j->text, text, len);
    j->len = len;
    j->base = base;
    j->line = line;
    j->n = 0;
    j->rc = 0;
    pthread_mutex_lock(&p->mu);
    p->tail++;
    /* threads start as the work comes, so one chunk costs one thread */
    if (p->started < p->nthreads && (int)(p->tail - p->next) > 0 &&
        pthread_create(&p->th[p->started], NULL, pool_worker, p) == 0)
        p->started++;
    pthread_cond_signal(&p->work_cv);
    if (!p->started) {
        /* no thread could be started: classify the chunk here */
        job *w = &p->jobs[p->next++ % p->njobs];
        pthread_mutex_unlock(&p->mu);
        run_job(p, &p->own, &p->own_srf, &p->own_err, w);
        pthread_mutex_lock(&p->mu);
        w->done = 1;
    }
    pthread_mutex_unlock(&p->mu);
    return EXIT_OK;
}

static int classify_chunk(ctx *c, const char *doc, const char *text, size_t len, size_t base,
                          size_t line)
{
    stance_error err = {0};
    const stance_result *r = NULL;
    /* this thread's session: for --text, and for files with one thread */
    int rc = c->s ? STANCE_OK : stance_session_new(c->m, &c->s, &err);
    if (!rc)
        rc = stance_classify(c->s, text, len, c->flags, &r, &err);
    return print_chunk(c, doc, rc, err.msg, text, len, base, line, rc ? NULL : r);
}

static void begin_doc(ctx *c)
{
    c->index = 0;
    c->invalid = 0;
    c->doc_out.len = 0;
    c->streaming = 0;
}

static int end_doc(ctx *c, const char *doc)
{
    if (c->invalid)
        cli_warn_invalid_utf8("classify", doc, c->invalid, c->invalid_line);
    if (c->format != FMT_TEXT || c->streaming)
        return EXIT_OK;
    if (printf("== %s: %zu sentence%s\n", doc, c->index, c->index == 1 ? "" : "s") < 0 ||
        (c->doc_out.len && fwrite(c->doc_out.data, 1, c->doc_out.len, stdout) != c->doc_out.len))
        return EXIT_IO;
    return EXIT_OK;
}

static int one(ctx *c, const char *doc, const char *text, size_t len)
{
    begin_doc(c);
    int rc = classify_chunk(c, doc, text, len, 0, 1);
    int e = end_doc(c, doc);
    return rc ? rc : e;
}

static int chunk(void *arg, const char *doc, const char *text, size_t len, size_t base,
                 size_t line)
{
    ctx *c = arg;
    if (c->pool)
        return pool_chunk(c, doc, text, len, base, line);
    return classify_chunk(c, doc, text, len, base, line);
}

/* The input pauses (a terminal, tail -f): everything read so far is
 * classified and printed now, the text format's header without its count
 * (as past 1 MiB), and flushed. */
static int idle(void *arg, const char *doc)
{
    ctx *c = arg;
    if (c->pool) {
        int status = pool_print(c, doc, 0, 1);
        if (status)
            return status;
    }
    if (c->format == FMT_TEXT && text_stream(c, doc))
        return EXIT_IO;
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

/* Classify a file or standard input chunk by chunk (cli_stream_chunks). */
static int stream_file(ctx *c, const char *path, size_t max_line)
{
    const char *doc = strcmp(path, "-") == 0 ? "stdin" : path;
    begin_doc(c);
    int status = cli_stream_chunks("classify", path, (c->flags & STANCE_WRAPPED) != 0, max_line,
                                   chunk, idle, c);
    if (c->pool) {
        /* the chunks read before the end (or a reading error) are printed
         * first, up to the first that failed; after a failure nothing
         * more is */
        int p = pool_print(c, doc, 0, 1);
        if (p && (status == EXIT_OK || p == EXIT_IO))
            status = p;
        pool_discard(c->pool);
        c->pool->failed = 0;
    }
    /* the sentences before an error are printed in every format */
    int e = end_doc(c, doc);
    return status ? status : e;
}

int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"format", required_argument, NULL, 'f'},
        {"probs", no_argument, NULL, 'p'},       {"wrapped", no_argument, NULL, 'w'},
        {"text", required_argument, NULL, 't'},  {"max-bytes", required_argument, NULL, 'B'},
        {"threads", required_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model = NULL;
    ctx c;
    memset(&c, 0, sizeof c);
    c.format = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_TSV;
    long max_bytes = 64L << 20;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    long threads = nproc > 0 ? (nproc > 256 ? 256 : nproc) : 1;
    char **texts = calloc((size_t)argc + 1, sizeof *texts);
    size_t ntexts = 0;
    int opt, status = EXIT_OK;
    if (!texts)
        return EXIT_IO;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:j:f:pwt:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case 'f':
            if (strcmp(optarg, "text") == 0)
                c.format = FMT_TEXT;
            else if (strcmp(optarg, "tsv") == 0)
                c.format = FMT_TSV;
            else if (strcmp(optarg, "jsonl") == 0)
                c.format = FMT_JSONL;
            else {
                cli_error("classify", "--format: expected text, tsv or jsonl, got '%s'", optarg);
                free(texts);
                return EXIT_USAGE;
            }
            break;
        case 'p': c.probs = 1; break;
        case 'w': c.flags |= STANCE_WRAPPED; break;
        case 't': texts[ntexts++] = optarg; break;
        case 'j':
            if (cli_parse_long("classify", "--threads", optarg, 1, 256, &threads)) {
                free(texts);
                return EXIT_USAGE;
            }
            break;
        case 'B':
            if (cli_parse_long("classify", "--max-bytes", optarg, 1, 1L << 30, &max_bytes)) {
                free(texts);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            free(texts);
            return cli_finish_stdout("classify");
        default:
            fputs(usage_text, stderr);
            free(texts);
            return EXIT_USAGE;
        }
    }
    status = cli_load_model("classify", model, &c.m);
    if (status) {
        free(texts);
        return status;
    }
    if (c.format == FMT_TSV) {
        /* the header comes first, even when no input has a sentence */
        printf("doc\tsentence\tstart\tend\tlabel");
        if (c.probs)
            for (int j = 0; j < stance_model_nlabels(c.m); j++)
                printf("\tp_%s", stance_model_label(c.m, j));
        printf("\ttext\n");
    }
    for (size_t i = 0; i < ntexts; i++) {
        char id[32];
        snprintf(id, sizeof id, "text:%zu", i + 1);
        int r = one(&c, id, texts[i], strlen(texts[i]));
        if (r == EXIT_IO) {
            status = r;
            goto done;
        }
        if (r > status)
            status = r;
    }
    if (threads > 1 && !(c.pool = pool_new(c.m, c.flags, (int)threads))) {
        cli_error("classify", "out of memory");
        status = EXIT_IO;
        goto done;
    }
    /* with neither files nor --text, standard input is the one document */
    int npaths;
    char **paths = cli_input_paths(argc, argv, optind, ntexts > 0, &npaths);
    for (int i = 0; i < npaths; i++) {
        int r = stream_file(&c, paths[i], (size_t)max_bytes);
        if (r == EXIT_IO && ferror(stdout)) {
            status = r;
            break;
        }
        if (r > status)
            status = r;
    }
done:;
    int fin = cli_finish_stdout("classify");
    if (fin && !status)
        status = fin;
    pool_free(c.pool);
    cli_buf_free(&c.out);
    cli_buf_free(&c.doc_out);
    stance_session_free(c.s);
    stance_model_free(c.m);
    free(texts);
    return status;
}
