/* cmd_eval.c - `stance eval`: a model against labelled test files. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: stance eval [-m MODEL] [--json] [--min-macro-f1 X] TEST...\n\n"
    "Classify every record of the labelled test files (same formats as `train`)\n"
    "and report per-class precision, recall, F1 and support, accuracy, macro and\n"
    "weighted averages and the confusion matrix (rows: gold, columns: predicted).\n\n"
    "  -m, --model MODEL     model file (default: the shipped default model)\n"
    "      --json            print the report as JSON\n"
    "      --min-macro-f1 X  exit with status 1 if macro-F1 is below X\n";

int cmd_eval(int argc, char **argv)
{
    enum { O_JSON = 256, O_MIN };
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"min-macro-f1", required_argument, NULL, O_MIN},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *model = NULL;
    int json = 0, opt;
    double min_f1 = -1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case O_JSON: json = 1; break;
        case O_MIN:
            if (cli_parse_double("eval", "--min-macro-f1", optarg, 0, 1, &min_f1))
                return EXIT_USAGE;
            break;
        case 'h': fputs(usage_text, stdout); return cli_finish_stdout("eval");
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("eval", "no test files given");
        return EXIT_USAGE;
    }
    stance_model *m = NULL;
    stance_corpus *c = NULL;
    stance_metrics *mt = NULL;
    stance_error err = {0};
    int status = cli_load_model("eval", model, &m), rc;
    if (status)
        return status;
    if (stance_corpus_new(&c)) {
        status = EXIT_IO;
        goto done;
    }
    for (int i = optind; i < argc; i++)
        if ((rc = stance_corpus_add_file(c, argv[i], &err))) {
            cli_error("eval", "%s", err.msg);
            status = cli_exit_code(rc);
            goto done;
        }
    if ((rc = stance_evaluate(m, c, &mt, &err))) {
        cli_error("eval", "%s", err.msg);
        status = cli_exit_code(rc);
        goto done;
    }
    char *out = json ? stance_metrics_json(mt) : stance_metrics_text(mt);
    if (!out) {
        status = EXIT_IO;
        goto done;
    }
    if (json)
        printf("%s\n", out);
    else
        printf("model %s on %zu sentences (%zu exact duplicates dropped)\n%s", stance_model_id(m),
               stance_corpus_size(c), stance_corpus_duplicates(c), out);
    free(out);
    /* compared at the precision it is printed with: 0.66 passes a 0.6600
     * requirement even if the sum came out at 0.6599999999999999 */
    if (min_f1 >= 0 && mt->macro_f1 + 5e-9 < min_f1) {
        cli_error("eval", "macro-F1 %.4f is below the required %.4f", mt->macro_f1, min_f1);
        status = EXIT_CHECK;
    }
done:;
    int fin = cli_finish_stdout("eval");
    if (fin && !status)
        status = fin;
    stance_metrics_free(mt);
    stance_corpus_free(c);
    stance_model_free(m);
    return status;
}
