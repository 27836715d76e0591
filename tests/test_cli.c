/*
 * test_cli.c -- the `softmaxreg` program end to end: gen, solve and eval on
 * generated problems, checked against the library called directly on the
 * same files; every class of bad input refused with exit 2 and one line on
 * stderr naming the file or option; exit 1 when a solve does not converge.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SMR_CLI
#error "SMR_CLI must name the softmaxreg binary"
#endif

static char dir[] = "/tmp/smr_cli_XXXXXX";
static char out[1 << 16], err[4096];

static void slurp(const char *name, char *buf, size_t cap)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    size_t k = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[k] = '\0';
    if (f)
        fclose(f);
}

/* run `softmaxreg ARGS` in dir; returns the exit status */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >stdout.txt 2>stderr.txt", dir, SMR_CLI, args);
    int st = system(cmd);
    slurp("stdout.txt", out, sizeof out);
    slurp("stderr.txt", err, sizeof err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *path_of(const char *name)
{
    static char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void put(const char *name, const char *content)
{
    FILE *f = fopen(path_of(name), "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* the number after "key": in the JSON on stdout */
static double json_num(const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(out, pat);
    TU_CHECK(p != NULL, "no %s in %s", key, out);
    return strtod(p + strlen(pat), NULL);
}

static void load(const char *name, smr_matrix *m)
{
    char msg[256];
    assert_int_equal(smr_mm_read(path_of(name), m, msg, sizeof msg), SMR_OK);
}

static void test_gen_solve_eval(void **state)
{
    (void)state;
    const char *kinds[] = {"gaussian", "lowrank", "ill-conditioned"};
    for (int k = 0; k < 3; ++k) {
        char args[256];
        snprintf(args, sizeof args, "gen --n 1500 --d 12 --seed %d --kind %s --prefix p", k, kinds[k]);
        assert_int_equal(run(args), 0);
        int rc = run("solve p-A.mtx p-b.mtx --out x.mtx --history h.csv");
        TU_CHECK(rc == 0 || rc == 1, "rc %d: %s", rc, err);
        /* exactly one JSON object, one line */
        TU_CHECK(out[0] == '{' && strchr(out, '\n') == out + strlen(out) - 1, "stdout: %s", out);
        for (const char *key = "status\0converged\0method\0n\0d\0iterations\0loss\0grad_norm\0seconds\0"
                               "loss_evals\0grad_evals\0hess_evals\0";
             *key; key += strlen(key) + 1) {
            char pat[64];
            snprintf(pat, sizeof pat, "\"%s\": ", key);
            TU_CHECK(strstr(out, pat), "missing %s in %s", key, out);
        }
        /* the library on the same files, default options */
        smr_matrix A, b, x;
        load("p-A.mtx", &A);
        load("p-b.mtx", &b);
        load("x.mtx", &x);
        smr_problem p = {.n = A.rows, .d = A.cols, .A = A.data, .layout = SMR_COL_MAJOR, .b = b.data};
        double xl[12] = {0};
        smr_result r;
        assert_int_equal(smr_solve(&p, NULL, xl, &r), SMR_OK);
        TU_CHECK(json_num("loss") == r.loss, "cli loss %.17g, library %.17g", json_num("loss"), r.loss);
        assert_true(json_num("iterations") == (double)r.iterations);
        assert_true(json_num("loss_evals") == (double)r.loss_evals);
        assert_true(json_num("hess_evals") == (double)r.hess_evals);
        assert_int_equal(rc, r.converged ? 0 : 1);
        assert_true(strstr(out, r.converged ? "\"converged\": true" : "\"converged\": false"));
        assert_int_equal(x.rows, 12);
        assert_memory_equal(x.data, xl, sizeof xl); /* --out: full precision */
        /* history: header + one line per iteration, iteration 0 included */
        slurp("h.csv", err, sizeof err);
        int lines = 0;
        for (char *c = err; *c; ++c)
            lines += *c == '\n';
        assert_int_equal(lines, 1 + r.iterations + 1);
        /* eval at the answer and at x* */
        assert_int_equal(run("eval p-A.mtx p-b.mtx x.mtx"), 0);
        double L;
        assert_int_equal(smr_loss(&p, xl, &L), SMR_OK);
        assert_true(json_num("loss") == L);
        assert_true(strstr(out, "\"gradient\": [") && strstr(out, "hess_eig_min") && strstr(out, "hess_eig_max"));
        TU_CHECK(json_num("hess_eig_min") <= json_num("hess_eig_max"), "%s", out);
        assert_int_equal(run("eval p-A.mtx p-b.mtx p-xstar.mtx"), 0);
        TU_CHECK(json_num("loss") <= 1e-25, "L(x*) = %g", json_num("loss"));
        smr_matrix_free(&A);
        smr_matrix_free(&b);
        smr_matrix_free(&x);
    }
    /* with --reg: weights written, no x*; solve with them and a ridge */
    assert_int_equal(run("gen --n 300 --d 5 --reg 0.3 --prefix q"), 0);
    assert_int_equal(access(path_of("q-w.mtx"), F_OK), 0);
    assert_int_equal(access(path_of("q-xstar.mtx"), F_OK), -1);
    assert_int_equal(run("solve q-A.mtx q-b.mtx --w q-w.mtx --lambda 1e-3 --method gd --seed 4 --threads 1 --verbose"), 0);
    TU_CHECK(strstr(err, "iter") && strstr(err, "loss"), "verbose table missing: %s", err);
    assert_int_equal(run("solve q-A.mtx q-b.mtx --method lbfgs"), 0);
    assert_true(strstr(out, "\"method\": \"lbfgs\""));
    assert_int_equal(run("solve q-A.mtx q-b.mtx --method spsa --gtol 1e-3 --max-iter 5000"), 0);
    assert_true(strstr(out, "\"method\": \"spsa\""));
    assert_int_equal(run("gen --n 20000 --d 6 --prefix s"), 0);
    assert_int_equal(run("solve s-A.mtx s-b.mtx --method sketch --sketch-eps 0.25 --seed 2"), 0);
    assert_true(strstr(out, "\"method\": \"sketch\"") && strstr(out, "\"converged\": true"));
}

static void test_not_converged_exit_1(void **state)
{
    (void)state;
    assert_int_equal(run("gen --n 500 --d 6 --prefix m"), 0);
    assert_int_equal(run("solve m-A.mtx m-b.mtx --max-iter 1 --out mx.mtx"), 1);
    assert_true(strstr(out, "\"status\": \"max_iter\"") && strstr(out, "\"converged\": false"));
    assert_int_equal(access(path_of("mx.mtx"), F_OK), 0); /* best x still written */
}

static void test_help_version(void **state)
{
    (void)state;
    assert_int_equal(run("--version"), 0);
    assert_non_null(strstr(out, smr_version()));
    char simd[64];
    snprintf(simd, sizeof simd, "(simd %s)", smr_simd());
    assert_non_null(strstr(out, simd));
    assert_int_equal(run("--help"), 0);
    assert_non_null(strstr(out, "solve"));
    const char *opts[] = {"--method", "sketch", "--sketch-eps", "--w", "--lambda", "--x0", "--gtol", "--max-iter", "--seed",
                          "--threads", "--out", "--history", "--verbose"};
    assert_int_equal(run("solve --help"), 0);
    for (size_t k = 0; k < sizeof opts / sizeof *opts; ++k)
        TU_CHECK(strstr(out, opts[k]), "solve --help lacks %s", opts[k]);
    assert_int_equal(run("gen --help"), 0);
    assert_true(strstr(out, "--kind") && strstr(out, "--reg") && strstr(out, "--prefix"));
    assert_int_equal(run("eval --help"), 0);
    assert_true(strstr(out, "--lambda") && strstr(out, "--w"));
}

typedef struct { const char *args, *in_err; } bad;

static void test_bad_input_exit_2(void **state)
{
    (void)state;
    assert_int_equal(run("gen --n 40 --d 3 --prefix g"), 0);
    put("empty.mtx", "");
    put("trunc.mtx", "%%MatrixMarket matrix array real general\n40 3\n1\n2\n");
    put("more.mtx", "%%MatrixMarket matrix array real general\n2 1\n1\n2\n3\n");
    put("hdr.mtx", "%%MatrixMarket matrix array complex general\n1 1\n1 1\n");
    put("word.mtx", "%%MatrixMarket matrix array real general\n2 1\n1\nfoo\n");
    put("nan.mtx", "%%MatrixMarket matrix array real general\n2 1\n1\nNaN\n");
    put("inf.mtx", "%%MatrixMarket matrix array real general\n2 1\ninf\n1\n");
    put("big.mtx", "%%MatrixMarket matrix array real general\n2 1\n1\n1e400\n");
    put("neg.mtx", "%%MatrixMarket matrix array real general\n-40 3\n");
    put("zero.mtx", "%%MatrixMarket matrix array real general\n0 3\n");
    put("absurd.mtx", "%%MatrixMarket matrix array real general\n1000000000 1000000000\n1\n");
    put("range.mtx", "%%MatrixMarket matrix coordinate real general\n40 3 1\n41 1 1\n");
    put("b3.mtx", "%%MatrixMarket matrix array real general\n3 1\n0.2\n0.3\n0.5\n");
    put("x2.mtx", "%%MatrixMarket matrix array real general\n2 1\n0\n0\n");
    put("bin.mtx", "%%MatrixMarket matrix array real general\n1 1\n\x01\x02\x03\n");
    FILE *f = fopen(path_of("bin.mtx"), "ab");
    fputc('\0', f);
    fclose(f);
    mkdir(path_of("adir"), 0700);
    static const bad cases[] = {
        {"solve empty.mtx g-b.mtx", "empty.mtx"},
        {"solve trunc.mtx g-b.mtx", "trunc.mtx"},
        {"solve g-A.mtx more.mtx", "more.mtx:5"},
        {"solve hdr.mtx g-b.mtx", "complex"},
        {"solve g-A.mtx word.mtx", "word.mtx:4"},
        {"solve g-A.mtx nan.mtx", "nan.mtx:4"},
        {"solve g-A.mtx inf.mtx", "inf.mtx:3"},
        {"solve g-A.mtx big.mtx", "overflows"},
        {"solve neg.mtx g-b.mtx", "neg.mtx:2"},
        {"solve zero.mtx g-b.mtx", "zero.mtx:2"},
        {"solve absurd.mtx g-b.mtx", "absurd.mtx"},
        {"solve range.mtx g-b.mtx", "out of range"},
        {"solve bin.mtx g-b.mtx", "binary"},
        {"solve g-A.mtx b3.mtx", "b3.mtx"},
        {"solve g-A.mtx g-b.mtx --w b3.mtx", "b3.mtx"},
        {"solve g-A.mtx g-b.mtx --x0 x2.mtx", "x2.mtx"},
        {"eval g-A.mtx g-b.mtx x2.mtx", "x2.mtx"},
        {"solve adir g-b.mtx", "directory"},
        {"solve missing.mtx g-b.mtx", "missing.mtx"},
        {"solve g-A.mtx g-b.mtx --frobnicate 1", "--frobnicate"},
        {"solve g-A.mtx g-b.mtx --method bfgs", "bfgs"},
        {"solve g-A.mtx g-b.mtx --method sketch --sketch-eps 1", "--sketch-eps"},
        {"solve g-A.mtx g-b.mtx --lambda -1", "--lambda"},
        {"solve g-A.mtx g-b.mtx --lambda nan", "--lambda"},
        {"solve g-A.mtx g-b.mtx --gtol 2", "--gtol"},
        {"solve g-A.mtx g-b.mtx --max-iter 0", "--max-iter"},
        {"solve g-A.mtx g-b.mtx --max-iter 1.5", "--max-iter"},
        {"solve g-A.mtx g-b.mtx --threads -1", "--threads"},
        {"solve g-A.mtx g-b.mtx --seed -3", "--seed"},
        {"solve g-A.mtx g-b.mtx --seed abc", "--seed"},
        {"solve g-A.mtx g-b.mtx --max-iter", "needs a value"},
        {"solve g-A.mtx", "needs A.mtx and b.mtx"},
        {"solve g-A.mtx g-b.mtx extra", "extra"},
        {"solve g-A.mtx g-b.mtx --out /nonexistent-dir/x.mtx", "/nonexistent-dir/x.mtx"},
        {"gen --n 0 --d 3 --prefix z", "--n"},
        {"gen --n 10 --d 3", "--prefix"},
        {"gen --n 10 --d 3 --prefix z --kind sparse", "sparse"},
        {"gen --n 10 --d 3 --prefix z --reg -1", "--reg"},
        {"eval g-A.mtx g-b.mtx", "needs"},
        {"frobnicate", "unknown command"},
        {"", "usage"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
        int rc = run(cases[k].args);
        TU_CHECK(rc == 2, "'%s': exit %d, stderr: %s", cases[k].args, rc, err);
        TU_CHECK(strstr(err, cases[k].in_err), "'%s': stderr '%s' lacks '%s'", cases[k].args, err,
                 cases[k].in_err);
        TU_CHECK(out[0] == '\0', "'%s': stdout not empty: %s", cases[k].args, out);
        if (strcmp(cases[k].args, "") != 0) { /* one line (bare usage is a page) */
            size_t len = strlen(err);
            TU_CHECK(len > 0 && strchr(err, '\n') == err + len - 1, "'%s': not one line: %s",
                     cases[k].args, err);
        }
    }
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_solve_eval),
        cmocka_unit_test(test_not_converged_exit_1),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_bad_input_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
