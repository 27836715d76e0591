/* cli_common.c -- option parsing, problem loading and JSON output shared by
 * the commands of `softmaxreg`. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("softmaxreg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_USAGE;
}

void cli_args_init(cli_args *a, int argc, char **argv)
{
    *a = (cli_args){.argc = argc, .argv = argv, .i = 0};
}

int cli_args_next(cli_args *a, const char **pos)
{
    static char namebuf[64];
    if (a->i >= a->argc)
        return -1;
    const char *s = a->argv[a->i++];
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
        *pos = s;
        return 0;
    }
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    if (len >= sizeof namebuf)
        len = sizeof namebuf - 1;
    memcpy(namebuf, s, len);
    namebuf[len] = '\0';
    a->name = namebuf;
    a->value = eq ? eq + 1 : NULL;
    return 1;
}

const char *cli_args_value(cli_args *a)
{
    if (a->value)
        return a->value;
    if (a->i >= a->argc) {
        cli_error("option %s needs a value", a->name);
        return NULL;
    }
    return a->argv[a->i++];
}

bool cli_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) {
        cli_error("option %s: '%s' is not a finite number", opt, s);
        return false;
    }
    if (v < lo || v > hi) {
        cli_error("option %s: %s is out of range [%g, %g]", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool cli_int64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE) {
        cli_error("option %s: '%s' is not an integer", opt, s);
        return false;
    }
    if (v < lo || v > hi) {
        cli_error("option %s: %s is out of range [%lld, %lld]", opt, s, (long long)lo, (long long)hi);
        return false;
    }
    *out = v;
    return true;
}

bool cli_uint64(const char *opt, const char *s, uint64_t *out)
{
    errno = 0;
    char *end;
    if (*s == '-' || *s == '+') {
        cli_error("option %s: '%s' is not a non-negative integer", opt, s);
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno == ERANGE) {
        cli_error("option %s: '%s' is not a non-negative integer", opt, s);
        return false;
    }
    *out = v;
    return true;
}

static bool load(smr_matrix *m, const char *path)
{
    char msg[512];
    int rc = smr_mm_read(path, m, msg, sizeof msg);
    if (rc != SMR_OK) {
        cli_error("%s", msg);
        return false;
    }
    return true;
}

bool cli_load_vector(smr_matrix *v, const char *path, int64_t len, const char *what)
{
    if (!load(v, path))
        return false;
    if (!((v->cols == 1 && v->rows == len) || (v->rows == 1 && v->cols == len))) {
        cli_error("%s: %s must be a vector of length %lld, found a %lld x %lld matrix", path,
                  what, (long long)len, (long long)v->rows, (long long)v->cols);
        smr_matrix_free(v);
        return false;
    }
    return true;
}

bool cli_load_problem(cli_problem *cp, const char *apath, const char *bpath,
                      const char *wpath, double lambda)
{
    *cp = (cli_problem){0};
    if (!load(&cp->A, apath))
        return false;
    int64_t n = cp->A.rows, d = cp->A.cols;
    if (!cli_load_vector(&cp->b, bpath, n, "b (one entry per row of A)") ||
        (wpath && !cli_load_vector(&cp->w, wpath, n, "w (one entry per row of A)"))) {
        cli_problem_free(cp);
        return false;
    }
    cp->p = (smr_problem){.n = n, .d = d, .A = cp->A.data, .layout = SMR_COL_MAJOR,
                          .lda = n, .b = cp->b.data, .w = wpath ? cp->w.data : NULL,
                          .lambda = lambda};
    return true;
}

void cli_problem_free(cli_problem *cp)
{
    smr_matrix_free(&cp->A);
    smr_matrix_free(&cp->b);
    smr_matrix_free(&cp->w);
}

void cli_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}
