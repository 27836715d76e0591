/*
 * bench_theory -- the papers' checkable claims (MATH.md section 7) as
 * experiments; docs/theory.md shows each with its plot and figure.
 *
 *   bench_theory [--quick] [--out DIR] [EXPERIMENT...]
 *
 * EXPERIMENT: derivs pd newton sketch spsa minibatch (default: all).
 * Writes DIR/<experiment>*.csv and DIR/summary.txt; plots come from
 * bench/plot_theory.gp (bash bench/theory.sh does both).  Exit status 1
 * when a checked claim fails, 2 on usage or I/O errors.
 */
#include "theory.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(th_ctx *);
} experiments[] = {
    {"derivs", th_derivs}, {"pd", th_pd},     {"newton", th_newton},
    {"sketch", th_sketch}, {"spsa", th_spsa}, {"minibatch", th_minibatch},
};
enum { NEXP = sizeof experiments / sizeof experiments[0] };

int main(int argc, char **argv)
{
    th_ctx c = {.dir = "."};
    int want[NEXP] = {0}, any = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--quick")) {
            c.quick = 1;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            c.dir = argv[++i];
        } else {
            int k = 0;
            while (k < NEXP && strcmp(argv[i], experiments[k].name))
                ++k;
            if (k == NEXP) {
                fprintf(stderr, "usage: bench_theory [--quick] [--out DIR] "
                                "[derivs|pd|newton|sketch|spsa|minibatch]...\n");
                return 2;
            }
            want[k] = any = 1;
        }
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/summary.txt", c.dir);
    c.summary = fopen(path, "w");
    if (!c.summary) {
        perror(path);
        return 2;
    }
    fprintf(c.summary, "# %s;mode=%s\n", bench_machine(), c.quick ? "quick" : "full");
    for (int k = 0; k < NEXP; ++k) {
        if (any && !want[k])
            continue;
        double t0 = bench_now();
        printf("== %s\n", experiments[k].name);
        fprintf(c.summary, "== %s\n", experiments[k].name);
        experiments[k].run(&c);
        printf("   (%.1f s)\n", bench_now() - t0);
    }
    printf("%d claims checked, %d failed\n", c.checks, c.failures);
    fprintf(c.summary, "%d claims checked, %d failed\n", c.checks, c.failures);
    fclose(c.summary);
    return c.failures ? 1 : 0;
}
