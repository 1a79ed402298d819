/* cmd_segment.c - `stance segment`: sentences and their byte offsets, no
 * model needed. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: stance segment [--wrapped] [--format tsv|jsonl] [FILE... | -]\n\n"
    "Split text into sentences as `classify` does and print each with its byte\n"
    "offsets.  tsv columns: doc, sentence, start, end, text.\n\n"
    "  -w, --wrapped      single line breaks inside paragraphs are spaces\n"
    "  -f, --format FMT   tsv (default) or jsonl\n"
    "      --max-bytes N  refuse a line (a paragraph with --wrapped) longer than N\n"
    "                     bytes (default 64 MiB); files are read as a stream\n";

typedef struct seg_ctx {
    stance_session *s;
    int jsonl;
    unsigned flags;
    size_t index;    /* next sentence number in the document */
    size_t invalid;  /* invalid UTF-8 sequences in the document */
    size_t invalid_line; /* the line of the first of them */
    cli_buf b;
} seg_ctx;

static int chunk(void *arg, const char *doc, const char *text, size_t len, size_t base,
                 size_t line)
{
    seg_ctx *c = arg;
    stance_error err = {0};
    const stance_result *r;
    int rc = stance_segment(c->s, text, len, c->flags, &r, &err);
    if (rc) {
        cli_error("segment", "%s: %s", doc, err.msg);
        return cli_exit_code(rc);
    }
    if (r->invalid_utf8 && !c->invalid)
        c->invalid_line = cli_first_invalid_line(text, len, line);
    c->invalid += r->invalid_utf8;
    cli_buf *b = &c->b;
    b->len = 0;
    for (size_t j = 0; j < r->n; j++, c->index++) {
        const stance_sentence *st = &r->sentences[j];
        if (c->jsonl) {
            cli_buf_put(b, "{\"doc\":", 7);
            cli_buf_json(b, doc, strlen(doc));
            cli_buf_printf(b, ",\"sentence\":%zu,\"start\":%zu,\"end\":%zu,\"text\":", c->index,
                           base + st->start, base + st->end);
            cli_buf_json(b, text + st->start, st->end - st->start);
            cli_buf_put(b, "}\n", 2);
        } else {
            cli_put_flat(b, doc, strlen(doc));
            cli_buf_printf(b, "\t%zu\t%zu\t%zu\t", c->index, base + st->start, base + st->end);
            cli_put_flat(b, text + st->start, st->end - st->start);
            cli_buf_put(b, "\n", 1);
        }
    }
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return EXIT_IO;
    return EXIT_OK;
}

/* The input pauses: what is printed so far goes out now. */
static int idle(void *arg, const char *doc)
{
    (void)arg;
    (void)doc;
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

int cmd_segment(int argc, char **argv)
{
    static const struct option opts[] = {{"wrapped", no_argument, NULL, 'w'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"max-bytes", required_argument, NULL, 'B'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    unsigned flags = 0;
    int jsonl = 0, opt;
    long max_bytes = 64L << 20;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "wf:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'w': flags |= STANCE_WRAPPED; break;
        case 'f':
            if (strcmp(optarg, "tsv") == 0)
                jsonl = 0;
            else if (strcmp(optarg, "jsonl") == 0)
                jsonl = 1;
            else {
                cli_error("segment", "--format: expected tsv or jsonl, got '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'B':
            if (cli_parse_long("segment", "--max-bytes", optarg, 1, 1L << 30, &max_bytes))
                return EXIT_USAGE;
            break;
        case 'h': fputs(usage_text, stdout); return cli_finish_stdout("segment");
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    stance_error err = {0};
    seg_ctx c = {NULL, jsonl, flags, 0, 0, 0, {0}};
    int rc = stance_session_new(NULL, &c.s, &err);
    if (rc) {
        cli_error("segment", "%s", err.msg);
        return cli_exit_code(rc);
    }
    int npaths, status = EXIT_OK;
    char **paths = cli_input_paths(argc, argv, optind, 0, &npaths);
    for (int i = 0; i < npaths; i++) {
        const char *doc = strcmp(paths[i], "-") == 0 ? "stdin" : paths[i];
        c.index = 0;
        c.invalid = 0;
        int x = cli_stream_chunks("segment", paths[i], (flags & STANCE_WRAPPED) != 0,
                                  (size_t)max_bytes, chunk, idle, &c);
        if (c.invalid)
            cli_warn_invalid_utf8("segment", doc, c.invalid, c.invalid_line);
        status = x > status ? x : status;
        if (x == EXIT_IO && ferror(stdout))
            break;
    }
    cli_buf_free(&c.b);
    stance_session_free(c.s);
    int fin = cli_finish_stdout("segment");
    return fin ? fin : status;
}
