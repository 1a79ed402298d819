/* cmd_classify.c - `stance classify`: every sentence's label and
 * probabilities, from --text, files or standard input. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: stance classify [-m MODEL] [--format text|tsv|jsonl] [--probs] [--wrapped]\n"
    "                       [--max-bytes N] [--text TEXT]... [FILE... | -]\n\n"
    "Split each input into sentences and label every sentence.  Inputs are files\n"
    "(gzip-compressed files are read transparently), '-' for standard input, and\n"
    "--text arguments; with none of these, standard input is read.\n\n"
    "  -m, --model MODEL    model file (default: the shipped default model)\n"
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
    int streaming;        /* text: header out, lines go straight to stdout */
} ctx;

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
            cli_buf_printf(b, "\t%zu\t%zu\t%zu\t%s", c->index, s.start, s.end, label);
            if (c->probs)
                for (int j = 0; j < k; j++)
                    cli_buf_printf(b, "\t%.4f", s.probs[j]);
            cli_buf_put(b, "\t", 1);
            cli_put_flat(b, t, tn);
            cli_buf_put(b, "\n", 1);
        } else {
            cli_buf_printf(b, "%3zu  %-22s %.2f  ", c->index, label, s.probs[s.label]);
            cli_put_flat(b, t, tn);
            cli_buf_put(b, "\n", 1);
            if (c->probs) {
                cli_buf_put(b, "     ", 5);
                for (int j = 0; j < k; j++)
                    cli_buf_printf(b, " %s=%.3f", stance_model_label(c->m, j), s.probs[j]);
                cli_buf_put(b, "\n", 1);
            }
        }
    }
    if (c->format != FMT_TEXT && b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    /* text lines wait for the header that counts them, but only up to a
     * point: past 1 MiB the header goes out without the count, and the
     * lines follow as they come, so memory stays bounded */
    if (c->format == FMT_TEXT && (c->streaming || b->len > ((size_t)1 << 20))) {
        if (!c->streaming && printf("== %s\n", doc) < 0)
            return -1;
        c->streaming = 1;
        if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
            return -1;
        b->len = 0;
    }
    return 0;
}

static int classify_chunk(ctx *c, const char *doc, const char *text, size_t len, size_t base)
{
    stance_error err = {0};
    const stance_result *r;
    int rc = stance_classify(c->s, text, len, c->flags, &r, &err);
    if (rc) {
        cli_error("classify", "%s: %s", doc, err.msg);
        return cli_exit_code(rc);
    }
    c->invalid += r->invalid_utf8;
    return emit(c, doc, text, base, r) ? EXIT_IO : EXIT_OK;
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
        cli_error("classify", "%s: warning: %zu invalid UTF-8 sequence%s replaced by U+FFFD", doc,
                  c->invalid, c->invalid == 1 ? "" : "s");
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
    int rc = classify_chunk(c, doc, text, len, 0);
    int e = end_doc(c, doc);
    return rc ? rc : e;
}

static int chunk(void *arg, const char *doc, const char *text, size_t len, size_t base)
{
    return classify_chunk(arg, doc, text, len, base);
}

/* Classify a file or standard input chunk by chunk (cli_stream_chunks). */
static int stream_file(ctx *c, const char *path, size_t max_line)
{
    const char *doc = strcmp(path, "-") == 0 ? "stdin" : path;
    begin_doc(c);
    int status = cli_stream_chunks("classify", path, (c->flags & STANCE_WRAPPED) != 0, max_line,
                                   chunk, c);
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
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *model = NULL;
    ctx c;
    memset(&c, 0, sizeof c);
    c.format = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_TSV;
    long max_bytes = 64L << 20;
    char **texts = calloc((size_t)argc + 1, sizeof *texts);
    size_t ntexts = 0;
    int opt, status = EXIT_OK;
    if (!texts)
        return EXIT_IO;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:f:pwt:h", opts, NULL)) != -1) {
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
    stance_error err = {0};
    int rc = stance_session_new(c.m, &c.s, &err);
    if (rc) {
        cli_error("classify", "%s", err.msg);
        status = cli_exit_code(rc);
        goto done;
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
    cli_buf_free(&c.out);
    cli_buf_free(&c.doc_out);
    stance_session_free(c.s);
    stance_model_free(c.m);
    free(texts);
    return status;
}
