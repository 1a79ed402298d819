/* cmd_score.c - `stance score`: placeholder until the bulk path lands. */
#include "cli.h"

int cmd_score(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("score", "not implemented yet");
    return EXIT_USAGE;
}
