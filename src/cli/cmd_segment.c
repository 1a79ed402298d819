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
    "  -f, --format FMT   tsv (default) or jsonl\n";

int cmd_segment(int argc, char **argv)
{
    static const struct option opts[] = {{"wrapped", no_argument, NULL, 'w'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    unsigned flags = 0;
    int jsonl = 0, opt;
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
        case 'h': fputs(usage_text, stdout); return cli_finish_stdout("segment");
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    stance_session *s = NULL;
    stance_error err = {0};
    int rc = stance_session_new(NULL, &s, &err);
    if (rc) {
        cli_error("segment", "%s", err.msg);
        return cli_exit_code(rc);
    }
    int npaths, status = EXIT_OK;
    char **paths = cli_input_paths(argc, argv, optind, 0, &npaths);
    cli_buf b = {0};
    for (int i = 0; i < npaths; i++) {
        char *text = NULL;
        size_t len = 0;
        const char *doc = strcmp(paths[i], "-") == 0 ? "stdin" : paths[i];
        const stance_result *r;
        if ((rc = stance_read_file(paths[i], 0, &text, &len, &err)) ||
            (rc = stance_segment(s, text, len, flags, &r, &err))) {
            /* read errors name the file already; segmentation errors do not */
            if (text)
                cli_error("segment", "%s: %s", doc, err.msg);
            else
                cli_error("segment", "%s", err.msg);
            free(text);
            int x = cli_exit_code(rc);
            status = x > status ? x : status;
            continue;
        }
        if (r->invalid_utf8)
            cli_error("segment", "%s: warning: %zu invalid UTF-8 sequence%s replaced by U+FFFD",
                      doc, r->invalid_utf8, r->invalid_utf8 == 1 ? "" : "s");
        for (size_t j = 0; j < r->n; j++) {
            const stance_sentence *st = &r->sentences[j];
            b.len = 0;
            if (jsonl) {
                cli_buf_put(&b, "{\"doc\":", 7);
                cli_buf_json(&b, doc, strlen(doc));
                cli_buf_printf(&b, ",\"sentence\":%zu,\"start\":%zu,\"end\":%zu,\"text\":", j,
                               st->start, st->end);
                cli_buf_json(&b, text + st->start, st->end - st->start);
                cli_buf_put(&b, "}\n", 2);
            } else {
                cli_put_flat(&b, doc, strlen(doc));
                cli_buf_printf(&b, "\t%zu\t%zu\t%zu\t", j, st->start, st->end);
                cli_put_flat(&b, text + st->start, st->end - st->start);
                cli_buf_put(&b, "\n", 1);
            }
            fwrite(b.data, 1, b.len, stdout);
        }
        free(text);
    }
    cli_buf_free(&b);
    stance_session_free(s);
    int fin = cli_finish_stdout("segment");
    return fin ? fin : status;
}
