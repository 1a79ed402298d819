/* cmd_classify.c - `stance classify`: every sentence's label and
 * probabilities, from --text, files or standard input. */
#include "cli.h"

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
    "      --max-bytes N    refuse documents larger than N bytes (default 64 MiB)\n"
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
    int header_done;
    cli_buf out;
} ctx;

/* A sentence for one-line output: tabs and line breaks become spaces. */
static void put_flat(cli_buf *b, const char *p, size_t n)
{
    size_t start = b->len;
    if (cli_buf_put(b, p, n))
        return;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '\t' || b->data[i] == '\n' || b->data[i] == '\r')
            b->data[i] = ' ';
}

static int emit(ctx *c, const char *doc, const char *text, const stance_result *r)
{
    cli_buf *b = &c->out;
    const int k = stance_model_nlabels(c->m);
    b->len = 0;
    if (c->format == FMT_TSV && !c->header_done) {
        cli_buf_printf(b, "doc\tsentence\tstart\tend\tlabel");
        if (c->probs)
            for (int j = 0; j < k; j++)
                cli_buf_printf(b, "\tp_%s", stance_model_label(c->m, j));
        cli_buf_printf(b, "\ttext\n");
        c->header_done = 1;
    }
    if (c->format == FMT_TEXT)
        cli_buf_printf(b, "== %s: %zu sentence%s\n", doc, r->n, r->n == 1 ? "" : "s");
    for (size_t i = 0; i < r->n; i++) {
        const stance_sentence *s = &r->sentences[i];
        const char *label = stance_model_label(c->m, s->label);
        if (c->format == FMT_JSONL) {
            if (cli_sentence_json(b, doc, strlen(doc), i, s, c->m, text, c->probs, 1))
                return -1;
            cli_buf_put(b, "\n", 1);
        } else if (c->format == FMT_TSV) {
            put_flat(b, doc, strlen(doc));
            cli_buf_printf(b, "\t%zu\t%zu\t%zu\t%s", i, s->start, s->end, label);
            if (c->probs)
                for (int j = 0; j < k; j++)
                    cli_buf_printf(b, "\t%.4f", s->probs[j]);
            cli_buf_put(b, "\t", 1);
            put_flat(b, text + s->start, s->end - s->start);
            cli_buf_put(b, "\n", 1);
        } else {
            cli_buf_printf(b, "%3zu  %-22s %.2f  ", i, label, s->probs[s->label]);
            put_flat(b, text + s->start, s->end - s->start);
            cli_buf_put(b, "\n", 1);
            if (c->probs) {
                cli_buf_put(b, "     ", 5);
                for (int j = 0; j < k; j++)
                    cli_buf_printf(b, " %s=%.3f", stance_model_label(c->m, j), s->probs[j]);
                cli_buf_put(b, "\n", 1);
            }
        }
    }
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    return 0;
}

static int one(ctx *c, const char *doc, const char *text, size_t len)
{
    stance_error err = {0};
    const stance_result *r;
    int rc = stance_classify(c->s, text, len, c->flags, &r, &err);
    if (rc) {
        cli_error("classify", "%s: %s", doc, err.msg);
        return cli_exit_code(rc);
    }
    if (r->invalid_utf8)
        cli_error("classify", "%s: warning: %zu invalid UTF-8 sequence%s replaced by U+FFFD", doc,
                  r->invalid_utf8, r->invalid_utf8 == 1 ? "" : "s");
    if (emit(c, doc, text, r))
        return EXIT_IO;
    return EXIT_OK;
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
    static char dash[] = "-";
    char *stdin_only[] = {dash};
    char **paths = argv + optind;
    int npaths = argc - optind;
    if (npaths == 0 && ntexts == 0) {
        paths = stdin_only;
        npaths = 1;
    }
    for (int i = 0; i < npaths; i++) {
        char *text = NULL;
        size_t len = 0;
        memset(&err, 0, sizeof err);
        rc = stance_read_file(paths[i], (size_t)max_bytes, &text, &len, &err);
        if (rc) {
            cli_error("classify", "%s", err.msg);
            int r = cli_exit_code(rc);
            if (r > status)
                status = r;
            continue;
        }
        int r = one(&c, strcmp(paths[i], "-") == 0 ? "stdin" : paths[i], text, len);
        free(text);
        if (r == EXIT_IO) {
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
    stance_session_free(c.s);
    stance_model_free(c.m);
    free(texts);
    return status;
}
