/*
 * loss_gradient.c -- the smallest use of libsoftmaxreg: build a problem over
 * your own arrays, evaluate the loss and the gradient, handle errors; then
 * a few steps of your own gradient descent through a reusable evaluator.
 *
 *   cc loss_gradient.c $(pkg-config --cflags --libs softmaxreg) -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <softmaxreg.h>

int main(void)
{
    enum { n = 1000, d = 8 };
    static double A[n * d], b[n];
    double x[d], g[d], loss;
    unsigned long long s = 42; /* a tiny LCG, to stay dependency-free */
    for (int k = 0; k < n * d; ++k) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        A[k] = (double)(s >> 11) * 0x1.0p-53 - 0.5;
    }
    for (int i = 0; i < n; ++i)
        b[i] = 1.0 / n;
    for (int j = 0; j < d; ++j)
        x[j] = 0.1 * j;

    smr_problem p = {.n = n, .d = d, .A = A, .b = b, .lambda = 1e-3};
    int rc = smr_loss_gradient(&p, x, &loss, g);
    if (rc != SMR_OK) {
        fprintf(stderr, "softmaxreg: %s\n", smr_strerror(rc));
        return 1;
    }
    double gn = 0;
    for (int j = 0; j < d; ++j)
        gn += g[j] * g[j];
    printf("libsoftmaxreg %s: n=%d d=%d loss=%.12e |grad|=%.6e\n",
           smr_version(), n, d, loss, sqrt(gn));
    /* your own optimizer: an evaluator keeps its workspace between calls,
     * so each call after the first is one pass over A */
    smr_evaluator *ev;
    rc = smr_evaluator_new(&p, &ev);
    if (rc != SMR_OK) {
        fprintf(stderr, "softmaxreg: %s\n", smr_strerror(rc));
        return 1;
    }
    double l0 = loss;
    for (int it = 0; it < 5 && rc == SMR_OK; ++it) {
        rc = smr_evaluator_loss_gradient(ev, x, &loss, g);
        for (int j = 0; j < d && rc == SMR_OK; ++j)
            x[j] -= 1e3 * g[j]; /* a fixed step, for the example */
    }
    smr_evaluator_free(ev);
    if (rc != SMR_OK || !(loss < l0)) {
        fprintf(stderr, "softmaxreg: %s\n", rc != SMR_OK ? smr_strerror(rc) : "no decrease");
        return 1;
    }
    printf("5 steps of gradient descent: loss %.3e -> %.3e\n", l0, loss);
    /* a bad input is refused with a clear code, nothing is written */
    p.lambda = -1;
    rc = smr_loss(&p, x, &loss);
    printf("negative lambda -> %s\n", smr_strerror(rc));
    return rc == SMR_ERR_BAD_LAMBDA ? 0 : 1;
}
