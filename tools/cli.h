/*
 * cli.h -- shared pieces of the `softmaxreg` command-line program: strict
 * option parsing, loading a problem from Matrix Market files, JSON output.
 * Exit statuses: 0 success (solve: converged), 1 ran but did not converge,
 * 2 usage or input error (one line on stderr naming the file, line or
 * option).
 */
#ifndef SMR_CLI_H
#define SMR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "softmaxreg.h"

#define CLI_OK 0
#define CLI_NOT_CONVERGED 1
#define CLI_USAGE 2

/* print "softmaxreg: <message>" on stderr; returns CLI_USAGE */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An argv walker: options "--name value" or "--name=value", flags, and
 * positional arguments in order. */
typedef struct {
    int argc, i;
    char **argv;
    const char *name;  /* current option, without its value */
    const char *value; /* its "=value" part, if any */
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv);
/* next argument: 1 for an option (a->name set), 0 for a positional
 * (returned in *pos), -1 at the end */
int cli_args_next(cli_args *a, const char **pos);
/* the option's value (following argument or =value); NULL -> error printed */
const char *cli_args_value(cli_args *a);

/* strict conversions; on failure print an error naming opt and return false */
bool cli_double(const char *opt, const char *s, double lo, double hi, double *out);
bool cli_int64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);
bool cli_uint64(const char *opt, const char *s, uint64_t *out);

/* A problem loaded from files (A: n x d, b and w: n, column-major). */
typedef struct {
    smr_matrix A, b, w;
    smr_problem p;
} cli_problem;

/* load A, b and (if wpath) w; lambda >= 0.  Prints the error; returns false */
bool cli_load_problem(cli_problem *cp, const char *apath, const char *bpath,
                      const char *wpath, double lambda);
/* load a vector of length len (n x 1 or 1 x n) that must match what */
bool cli_load_vector(smr_matrix *v, const char *path, int64_t len, const char *what);
void cli_problem_free(cli_problem *cp);

/* JSON helpers: a finite number with 17 digits, or null */
void cli_json_number(FILE *f, double v);

int cli_solve(int argc, char **argv);
int cli_gen(int argc, char **argv);
int cli_eval(int argc, char **argv);

#endif
