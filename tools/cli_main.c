/*
 * cli_main.c -- `softmaxreg`: solve softmax-regression problems from Matrix
 * Market files, generate test problems, evaluate a solution.
 */
#include "cli.h"

#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: softmaxreg COMMAND [ARGS]   (libsoftmaxreg %s)\n"
            "\n"
            "Fit softmax(Ax) to b: minimize 1/2|softmax(Ax) - b|^2 + 1/2|diag(w)Ax|^2 + 1/2 lambda|x|^2.\n"
            "Matrices and vectors are Matrix Market files (array or coordinate, real, general).\n"
            "\n"
            "commands:\n"
            "  solve A.mtx b.mtx [options]   minimize; prints one JSON object\n"
            "  gen --n N --d D --prefix P    write a generated problem P-A.mtx, P-b.mtx, ...\n"
            "  eval A.mtx b.mtx X.mtx        loss, gradient and Hessian eigenvalue range at X\n"
            "\n"
            "  softmaxreg COMMAND --help     the options of a command\n"
            "  softmaxreg --version          the library version and its vector instructions\n"
            "\n"
            "exit status: 0 success (solve: converged), 1 solve ran but did not converge,\n"
            "2 usage or input error (one line on stderr naming the file, line or option).\n",
            smr_version());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("softmaxreg %s (simd %s)\n", smr_version(), smr_simd());
        return CLI_OK;
    }
    if (!strcmp(cmd, "solve"))
        return cli_solve(argc - 2, argv + 2);
    if (!strcmp(cmd, "gen"))
        return cli_gen(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval"))
        return cli_eval(argc - 2, argv + 2);
    return cli_error("unknown command '%s' (commands: solve, gen, eval; see softmaxreg --help)", cmd);
}
