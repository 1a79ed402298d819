/* cli.h - what the subcommands share.  The CLI sees only the public header. */
#ifndef STANCE_CLI_H
#define STANCE_CLI_H

#include "stance.h"

#include <stdio.h>

/* Exit codes, documented in the README and in `stance --help`. */
enum {
    EXIT_OK = 0,      /* success */
    EXIT_CHECK = 1,   /* a requested check failed, or some documents failed */
    EXIT_USAGE = 2,   /* bad command line */
    EXIT_DATA = 3,    /* bad input data or model */
    EXIT_IO = 4       /* a file could not be read or written */
};

/* The one mapping from library statuses to exit codes. */
int cli_exit_code(int status);

/* Print "stance CMD: msg" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resolve -m (NULL: the default model) and load it; prints the error. */
int cli_load_model(const char *cmd, const char *path, stance_model **out);

/* The default model's path, or NULL if none is found. Static storage. */
const char *cli_default_model_path(void);

/* Parse a non-negative integer / a finite double option strictly. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *out);

/* The input paths of a command: argv[first..argc), or standard input ("-")
 * alone when there are none and `other_inputs` is 0 (no --text, no
 * --files-from).  *n may be 0 only when other_inputs is set. */
char **cli_input_paths(int argc, char **argv, int first, int other_inputs, int *n);

/* Read path ("-": standard input; gzip inflated) as a stream of chunks that
 * end at line breaks, or at blank lines when wrapped, and call fn on each
 * with its offset `base` in the document and the number of its first line;
 * fn returns an exit status, and a non-zero one stops the stream.  A line
 * (paragraph) over max_line bytes or a NUL byte is reported naming the
 * document and the line, and ends it after the lines before it; so does a
 * bad gzip stream.  Returns an exit status. */
typedef int (*cli_chunk_fn)(void *ctx, const char *doc, const char *text, size_t len,
                            size_t base, size_t line);
/* When the input pauses (nothing to read for CLI_IDLE_MS), idle (if not
 * NULL) is called before the read that waits, with every complete line so
 * far handed to fn: the place to print what is done and flush, so that
 * input that comes slowly (a terminal, tail -f) is answered as it comes.
 * It returns an exit status too. */
typedef int (*cli_idle_fn)(void *ctx, const char *doc);
#define CLI_IDLE_MS 50
/* The line of text[0..len) that holds its first invalid UTF-8 sequence,
 * counting from first_line; 0 if there is none. */
size_t cli_first_invalid_line(const char *text, size_t len, size_t first_line);
/* The warning for n invalid UTF-8 sequences in doc, the first on line. */
void cli_warn_invalid_utf8(const char *cmd, const char *doc, size_t n, size_t line);

int cli_stream_chunks(const char *cmd, const char *path, int wrapped, size_t max_line,
                      cli_chunk_fn fn, cli_idle_fn idle, void *ctx);

/* Flush stdout and report a write error (closed pipe, full disk). */
int cli_finish_stdout(const char *cmd);

/* Append a JSON string to a growable buffer (aborts the command on OOM via
 * the return value). */
int cli_json_str(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

typedef int (*cli_cmd_fn)(int argc, char **argv);

int cmd_classify(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_export(int argc, char **argv);



/* A growable output buffer for records built before they are written. */
typedef struct cli_buf {
    char *data;
    size_t len, cap;
} cli_buf;
int cli_buf_printf(cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_buf_put(cli_buf *b, const char *s, size_t n);
/* v in decimal, as printf's %zu would write it */
int cli_buf_uint(cli_buf *b, size_t v);
/* printf("%.*f", prec, x), byte for byte, and fast for 0 <= x <= 1. */
int cli_buf_fixed(cli_buf *b, double x, int prec);
int cli_buf_json(cli_buf *b, const char *s, size_t n); /* a JSON string */
void cli_buf_free(cli_buf *b);

/* Append text on one line: tabs and line breaks become spaces and invalid
 * UTF-8 becomes U+FFFD, so tsv and text output are always valid UTF-8. */
int cli_put_flat(cli_buf *b, const char *p, size_t n);

/* One classified sentence as a JSON object (no newline):
 * {"doc":..,"sentence":i,"start":..,"end":..,"label":..,"probs":{..},"text":..} */
int cli_sentence_json(cli_buf *b, const char *doc, size_t doc_len, size_t index,
                      const stance_sentence *s, const stance_model *m, const char *text,
                      int with_probs, int with_doc);
/* The same, with the sentence's own text given (s->start and s->end are
 * only printed). */
int cli_sentence_json_text(cli_buf *b, const char *doc, size_t doc_len, size_t index,
                           const stance_sentence *s, const stance_model *m, const char *sent,
                           size_t sent_len, int with_probs, int with_doc);
#endif
