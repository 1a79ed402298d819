/* cmd_export.c - `stance export`: the model as a libsvm text model, and the
 * feature vectors of documents in libsvm's data format, so that libsvm's own
 * svm-predict can be run (and timed) on exactly what stance classifies; and
 * the model itself again, stored (fast to load) or compressed (small). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: stance export [-m MODEL] --libsvm-model OUT.model\n"
    "       stance export [-m MODEL] --features [-o OUT] [--wrapped] [--max-bytes N]\n"
    "                     [--text TEXT]... [FILE... | -]\n"
    "       stance export [-m MODEL] --compressed-model OUT.stm | --stored-model OUT.stm\n\n"
    "Write the model, or the feature vectors of documents, in libsvm's text formats,\n"
    "or the model again as a stance model file.  The options may be given together.\n\n"
    "  -m, --model MODEL         model file (default: the shipped default model)\n"
    "      --compressed-model OUT\n"
    "                            the model in format 1: deflated, about a third\n"
    "                            smaller, about three times slower to load\n"
    "      --stored-model OUT    the model in format 2 (what `train` writes): stored,\n"
    "                            fast to load\n"
    "      --libsvm-model OUT    write the classifier as a libsvm model with probA and\n"
    "                            probB (`svm-predict -b 1` works); labels are the\n"
    "                            model's label indices 0..k-1, in `stance info` order\n"
    "      --features            write one line per sentence of the inputs:\n"
    "                            \"LABEL idx:val ...\", LABEL the predicted label index,\n"
    "                            idx 1-based: the exact vector the classifier sees\n"
    "  -o, --output OUT          write the features to OUT (default: standard output)\n"
    "  -w, --wrapped             single line breaks inside paragraphs are spaces\n"
    "      --max-bytes N         refuse documents larger than N bytes (default 64 MiB)\n"
    "  -t, --text TEXT           a document given on the command line (repeatable)\n\n"
    "Inputs are files (gzip read transparently) and '-' for standard input; with\n"
    "--features and no inputs, standard input is read.  `svm-predict -b 1 FEATURES\n"
    "OUT.model PRED` then reproduces the labels and probabilities of `stance classify`.\n";

typedef struct fctx {
    FILE *out;
    cli_buf line;
} fctx;

static int put_line(void *ctx, size_t sentence, const stance_sentence *s, const uint32_t *index,
                    const double *value, size_t n)
{
    fctx *c = ctx;
    cli_buf *b = &c->line;
    b->len = 0;
    if (cli_buf_printf(b, "%d", s->label))
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* 17 significant digits: svm-predict reads back the very doubles */
        char num[48];
        int k = snprintf(num, sizeof num, " %lu:%.17g", (unsigned long)index[i] + 1, value[i]);
        if (k < 0 || (size_t)k >= sizeof num || cli_buf_put(b, num, (size_t)k))
            return -1;
    }
    if (cli_buf_put(b, "\n", 1))
        return -1;
    return fwrite(b->data, 1, b->len, c->out) == b->len ? 0 : -1;
}

static int featurize_one(stance_session *fz, fctx *c, const char *doc, const char *text,
                         size_t len, unsigned flags)
{
    stance_error err = {0};
    int rc = stance_session_features(fz, text, len, flags, put_line, c, &err);
    if (rc == STANCE_ERR_IO && ferror(c->out)) {
        cli_error("export", "error writing features: %s", strerror(errno));
        return EXIT_IO;
    }
    if (rc) {
        cli_error("export", "%s: %s", doc, err.msg);
        return cli_exit_code(rc);
    }
    return EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
    enum { O_LIBSVM = 256, O_FEATURES, O_MAXB, O_COMPRESSED, O_STORED };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},    {"libsvm-model", required_argument, NULL, O_LIBSVM},
        {"features", no_argument, NULL, O_FEATURES}, {"output", required_argument, NULL, 'o'},
        {"wrapped", no_argument, NULL, 'w'},        {"max-bytes", required_argument, NULL, O_MAXB},
        {"text", required_argument, NULL, 't'},     {"help", no_argument, NULL, 'h'},
        {"compressed-model", required_argument, NULL, O_COMPRESSED},
        {"stored-model", required_argument, NULL, O_STORED},
        {NULL, 0, NULL, 0}};
    const char *model = NULL, *libsvm_out = NULL, *out_path = NULL;
    const char *compressed_out = NULL, *stored_out = NULL;
    int features = 0, opt, status = EXIT_OK;
    unsigned flags = 0;
    long max_bytes = 64L << 20;
    char **texts = calloc((size_t)argc + 1, sizeof *texts);
    size_t ntexts = 0;
    if (!texts)
        return EXIT_IO;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:o:wt:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case O_LIBSVM: libsvm_out = optarg; break;
        case O_COMPRESSED: compressed_out = optarg; break;
        case O_STORED: stored_out = optarg; break;
        case O_FEATURES: features = 1; break;
        case 'o': out_path = optarg; break;
        case 'w': flags |= STANCE_WRAPPED; break;
        case 't': texts[ntexts++] = optarg; break;
        case O_MAXB:
            if (cli_parse_long("export", "--max-bytes", optarg, 1, 1L << 30, &max_bytes)) {
                free(texts);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            free(texts);
            fputs(usage_text, stdout);
            return cli_finish_stdout("export");
        default:
            free(texts);
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (!libsvm_out && !features && !compressed_out && !stored_out) {
        cli_error("export", "nothing to do: give --libsvm-model OUT, --features, "
                            "--compressed-model OUT or --stored-model OUT");
        fputs(usage_text, stderr);
        free(texts);
        return EXIT_USAGE;
    }
    if (!features && (optind < argc || ntexts || out_path)) {
        cli_error("export", "inputs, --text and --output need --features");
        free(texts);
        return EXIT_USAGE;
    }

    stance_model *m = NULL;
    stance_session *fz = NULL;
    fctx c = {stdout, {0}};
    stance_error err = {0};
    status = cli_load_model("export", model, &m);
    if (status)
        goto done;
    if (compressed_out || stored_out) {
        int rc = compressed_out ? stance_model_save_compressed(m, compressed_out, &err) : 0;
        if (!rc && stored_out)
            rc = stance_model_save(m, stored_out, &err);
        if (rc) {
            cli_error("export", "%s", err.msg);
            status = cli_exit_code(rc);
            goto done;
        }
    }
    if (libsvm_out) {
        int rc = stance_model_export_libsvm(m, libsvm_out, &err);
        if (rc) {
            cli_error("export", "%s", err.msg);
            status = cli_exit_code(rc);
            goto done;
        }
    }
    if (!features)
        goto done;
    if (out_path && !(c.out = fopen(out_path, "w"))) {
        cli_error("export", "%s: %s", out_path, strerror(errno));
        c.out = stdout;
        status = EXIT_IO;
        goto done;
    }
    int rc = stance_session_new(m, &fz, &err);
    if (rc) {
        cli_error("export", "%s", err.msg);
        status = cli_exit_code(rc);
        goto done;
    }
    for (size_t i = 0; i < ntexts; i++) {
        char id[32];
        snprintf(id, sizeof id, "text:%zu", i + 1);
        int r = featurize_one(fz, &c, id, texts[i], strlen(texts[i]), flags);
        if (r > status)
            status = r;
        if (r == EXIT_IO)
            goto done;
    }
    int npaths;
    char **paths = cli_input_paths(argc, argv, optind, ntexts > 0, &npaths);
    for (int i = 0; i < npaths; i++) {
        char *text = NULL;
        size_t len = 0;
        memset(&err, 0, sizeof err);
        rc = stance_read_file(paths[i], (size_t)max_bytes, &text, &len, &err);
        if (rc) {
            cli_error("export", "%s", err.msg);
            int r = cli_exit_code(rc);
            if (r > status)
                status = r;
            continue;
        }
        int r = featurize_one(fz, &c, strcmp(paths[i], "-") == 0 ? "stdin" : paths[i], text,
                              len, flags);
        free(text);
        if (r > status)
            status = r;
        if (r == EXIT_IO)
            break;
    }
done:
    if (c.out != stdout && fclose(c.out) != 0 && status == EXIT_OK) {
        cli_error("export", "%s: %s", out_path, strerror(errno));
        status = EXIT_IO;
    }
    {
        int fin = cli_finish_stdout("export");
        if (fin && !status)
            status = fin;
    }
    cli_buf_free(&c.line);
    stance_session_free(fz);
    stance_model_free(m);
    free(texts);
    return status;
}
