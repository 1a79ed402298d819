/* main.c - `stance COMMAND ...`: dispatch through the command table. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"classify", cmd_classify, "label every sentence of text, files or standard input"},
    {"score", cmd_score, "score many documents (directories, .gz, JSON Lines) into profiles"},
    {"train", cmd_train, "train a model from labelled corpora, with cross-validation"},
    {"eval", cmd_eval, "evaluate a model on labelled test files"},
    {"info", cmd_info, "describe a model: labels, settings, training data, metrics"},
    {"segment", cmd_segment, "split text into sentences (no model needed)"},
    {"export", cmd_export, "write the model and feature vectors in libsvm's formats"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: stance COMMAND [OPTIONS] [ARGS]\n\n"
               "Label the sentences of diplomatic statements, press releases and news analysis\n"
               "with the stance they express.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`stance help COMMAND` or `stance COMMAND --help` for a command's options.\n"
               "`stance --version` for the versions of stance and its libraries.\n\n"
               "exit codes:\n"
               "  0  success\n"
               "  1  a requested check failed, or some documents could not be scored\n"
               "  2  usage error (unknown option, missing argument)\n"
               "  3  bad data: malformed corpus, document or model file\n"
               "  4  input/output error: a file could not be read or written\n\n"
               "The default model is $STANCE_MODEL if set, else the one installed with the\n"
               "binary (../share/stance/default.stm, or models/default.stm beside it).\n");
}

int main(int argc, char **argv)
{
    /* a reader that goes away (`| head`) is a write error like any other:
     * exit 4 with a message, not death by SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return cli_finish_stdout("help");
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("%s\n", stance_versions());
        return cli_finish_stdout("version");
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return cli_finish_stdout("help");
        }
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                char *args[] = {argv[2], "--help", NULL};
                return commands[i].fn(2, args);
            }
        fprintf(stderr, "stance: no such command '%s'\n", argv[2]);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "stance: no such command '%s' (see `stance --help`)\n", cmd);
    return EXIT_USAGE;
}
