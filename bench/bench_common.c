#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SMR_BENCH_CFLAGS
#define SMR_BENCH_CFLAGS "unknown"
#endif
#include "smr_bench_commit.h" /* SMR_BENCH_COMMIT, written at build time */

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void bench_blas_idle(void)
{
    /* OpenBLAS's workers spin ~2^28 cycles (~64 ms here) after a threaded
     * call; wait them out so the next measurement has the cores */
    struct timespec t = {0, 200000000L};
    nanosleep(&t, NULL);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t state = 1;
void bench_seed(uint64_t s) { state = s; }

static double uniform(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return ((double)((z ^ (z >> 31)) >> 11) + 0.5) * 0x1.0p-53;
}

double bench_normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

const char *bench_machine(void)
{
    static char line[1024];
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char buf[512];
        while (fgets(buf, sizeof buf, f))
            if (!strncmp(buf, "model name", 10)) {
                char *c = strchr(buf, ':');
                if (c) {
                    snprintf(cpu, sizeof cpu, "%s", c + 2);
                    cpu[strcspn(cpu, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    for (char *c = cpu; *c; ++c)
        if (*c == ',' || *c == ';')
            *c = ' ';
    snprintf(line, sizeof line, "cpu=%s;cores=%ld;blas_threads=%d;simd=%s;read=%s;cflags=%s;version=%s;commit=%s",
             cpu, sysconf(_SC_NPROCESSORS_ONLN), openblas_get_num_threads(), smr_simd(),
             bench_read_level(), SMR_BENCH_CFLAGS, smr_version(), SMR_BENCH_COMMIT);
    return line;
}

void bench_problem(int64_t n, int64_t d, double *A, double *b, double *xs)
{
    for (int64_t k = 0; k < n * d; ++k)
        A[k] = bench_normal() / sqrt((double)d);
    for (int64_t j = 0; j < d; ++j)
        xs[j] = bench_normal();
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        b[i] = cblas_ddot((int)d, A + i * d, 1, xs, 1);
        mx = b[i] > mx ? b[i] : mx;
    }
    for (int64_t i = 0; i < n; ++i)
        sum += (b[i] = exp(b[i] - mx));
    for (int64_t i = 0; i < n; ++i)
        b[i] /= sum;
}
