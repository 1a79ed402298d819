/* cmd_info.c - `stance info`: what a model is, how and on what it was
 * trained. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: stance info [-m MODEL] [--json]\n\n"
    "Describe a model: its id, labels, feature and SVM settings, training\n"
    "parameters, cross-validation metrics and the corpus files it was trained on\n"
    "(name, SHA-256, records per label).\n\n"
    "  -m, --model MODEL  model file (default: the shipped default model)\n"
    "      --json         one line of JSON instead of the indented form\n";

/* Indent compact JSON for people: two spaces a level, strings untouched. */
static void pretty(const char *s, const char *path)
{
    int depth = 0, in_str = 0;
    printf("model file: %s\n", path);
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (in_str) {
            putchar(c);
            if (c == '\\' && p[1])
                putchar(*++p);
            else if (c == '"')
                in_str = 0;
            continue;
        }
        switch (c) {
        case '"': in_str = 1; putchar(c); break;
        case '{':
        case '[':
            if ((c == '{' && p[1] == '}') || (c == '[' && p[1] == ']')) {
                putchar(c);
                putchar(*++p);
                break;
            }
            putchar(c);
            printf("\n%*s", 2 * ++depth, "");
            break;
        case '}':
        case ']': printf("\n%*s%c", 2 * --depth, "", c); break;
        case ',': printf(",\n%*s", 2 * depth, ""); break;
        case ':': printf(": "); break;
        default: putchar(c);
        }
    }
    putchar('\n');
}

int cmd_info(int argc, char **argv)
{
    enum { O_JSON = 256 };
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *model = NULL;
    int json = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': model = optarg; break;
        case O_JSON: json = 1; break;
        case 'h': fputs(usage_text, stdout); return cli_finish_stdout("info");
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("info", "unexpected argument '%s' (use -m MODEL)", argv[optind]);
        return EXIT_USAGE;
    }
    stance_model *m = NULL;
    int status = cli_load_model("info", model, &m);
    if (status)
        return status;
    char *js = stance_model_info_json(m);
    if (!js) {
        cli_error("info", "out of memory");
        stance_model_free(m);
        return EXIT_IO;
    }
    if (json)
        printf("%s\n", js);
    else
        pretty(js, model ? model : cli_default_model_path());
    free(js);
    stance_model_free(m);
    return cli_finish_stdout("info");
}
