/*
 * demo.c -- the README's main job: generate a realistic problem, evaluate
 * the objective and its derivatives, check them against finite differences
 * and print the figures with timings.  (The solver layer turns this into a
 * solve with every method.)
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <softmaxreg.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static unsigned long long rng = 2024;
static double normal(void)
{
    double u[2];
    for (int k = 0; k < 2; ++k) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        u[k] = ((double)(rng >> 11) + 0.5) * 0x1.0p-53;
    }
    return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

static double norm(int64_t d, const double *v)
{
    double s = 0;
    for (int64_t j = 0; j < d; ++j)
        s += v[j] * v[j];
    return sqrt(s);
}

#define CHECK(call)                                                          \
    do {                                                                     \
        int rc_ = (call);                                                    \
        if (rc_ != SMR_OK) {                                                 \
            fprintf(stderr, "%s: %s\n", #call, smr_strerror(rc_));           \
            return 1;                                                        \
        }                                                                    \
    } while (0)

int main(void)
{
    const int64_t n = 20000, d = 64;
    double *A = malloc(sizeof(double) * (size_t)(n * d));
    double *b = malloc(sizeof(double) * (size_t)n);
    double *x = calloc((size_t)d, sizeof(double));
    double *xs = malloc(sizeof(double) * (size_t)d);
    double *g = malloc(sizeof(double) * (size_t)d);
    double *s = malloc(sizeof(double) * (size_t)d);
    double *H = malloc(sizeof(double) * (size_t)(d * d));
    double *hv = malloc(sizeof(double) * (size_t)d);
    if (!A || !b || !x || !xs || !g || !s || !H || !hv)
        return 1;
    for (int64_t k = 0; k < n * d; ++k)
        A[k] = normal() / sqrt((double)d);
    for (int64_t j = 0; j < d; ++j)
        xs[j] = normal();
    /* a realizable target: b = softmax(A x*) */
    smr_problem p = {.n = n, .d = d, .A = A, .b = b};
    {
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < n; ++i) {
            double z = 0;
            for (int64_t j = 0; j < d; ++j)
                z += A[i * d + j] * xs[j];
            b[i] = z;
            mx = z > mx ? z : mx;
        }
        for (int64_t i = 0; i < n; ++i)
            sum += (b[i] = exp(b[i] - mx));
        for (int64_t i = 0; i < n; ++i)
            b[i] /= sum;
    }
    printf("libsoftmaxreg %s demo: n = %lld, d = %lld, b = softmax(A x*)\n\n",
           smr_version(), (long long)n, (long long)d);
    CHECK(smr_problem_check(&p));

    double L, t0 = now();
    int reps = 20;
    for (int r = 0; r < reps; ++r)
        CHECK(smr_loss_gradient(&p, x, &L, g));
    double t_lg = (now() - t0) / reps;
    t0 = now();
    CHECK(smr_hessian(&p, x, H, 0));
    double t_h = now() - t0;
    for (int64_t j = 0; j < d; ++j)
        s[j] = normal();
    t0 = now();
    CHECK(smr_hessian_vector(&p, x, s, hv));
    double t_hv = now() - t0;

    /* directional derivative check: (L(x + h s) - L(x - h s)) / 2h = g.s */
    double h = 1e-4, Lp, Lm, gs = 0;
    double *xp = malloc(sizeof(double) * (size_t)d);
    for (int64_t j = 0; j < d; ++j) {
        xp[j] = x[j] + h * s[j];
        gs += g[j] * s[j];
    }
    CHECK(smr_loss(&p, xp, &Lp));
    for (int64_t j = 0; j < d; ++j)
        xp[j] = x[j] - h * s[j];
    CHECK(smr_loss(&p, xp, &Lm));
    double fd = (Lp - Lm) / (2 * h);

    printf("%-34s %14s %12s\n", "quantity at x = 0", "value", "time");
    printf("%-34s %14.6e %10.3f ms\n", "loss L(0)", L, 1e3 * t_lg);
    printf("%-34s %14.6e %10s\n", "|grad L(0)|", norm(d, g), "(same call)");
    printf("%-34s %14.3e\n", "grad.s vs finite difference, rel.", fabs(gs - fd) / fabs(gs));
    printf("%-34s %14.6e %10.3f ms\n", "|H(0)|_F", norm(d * d, H), 1e3 * t_h);
    printf("%-34s %14.6e %10.3f ms\n", "|H(0) s|", norm(d, hv), 1e3 * t_hv);

    /* at the generating point the loss and gradient vanish */
    double L0 = L, g0 = norm(d, g);
    CHECK(smr_loss_gradient(&p, xs, &L, g));
    printf("%-34s %14.6e   (L(0) = %.3e)\n", "loss L(x*)", L, L0);
    printf("%-34s %14.6e   (|grad L(0)| = %.3e)\n", "|grad L(x*)|", norm(d, g), g0);
    free(A); free(b); free(x); free(xs); free(g); free(s); free(H);
    free(hv); free(xp);
    return 0;
}
