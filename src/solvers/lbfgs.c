/*
 * lbfgs.c -- limited-memory BFGS (Nocedal & Wright, Numerical Optimization,
 * 2nd ed., Algorithms 7.4 and 7.5), with the Armijo line search that
 * gradient descent and Newton share.
 *
 * The direction is p = -H g, H the BFGS inverse-Hessian approximation built
 * from the last m pairs  s_i = x_{i+1} - x_i,  y_i = g_{i+1} - g_i  on
 * gamma I,  gamma = s.y / y.y  of the newest pair, by the two-loop
 * recursion (O(m d) per iteration, 2 m d doubles of memory):
 *
 *     q = g;  for i newest..oldest:  a_i = rho_i s_i.q,  q -= a_i y_i
 *     r = gamma q;  for i oldest..newest:  b = rho_i y_i.r,  r += (a_i - b) s_i
 *     p = -r,   rho_i = 1 / (s_i.y_i)
 *
 * The step starts at t = 1 (at the first iteration, with no pairs, see
 * first_step below) and is searched for the strong Wolfe conditions (N&W
 * Algorithms 3.5 and 3.6)
 *
 *     phi(t) <= phi(0) + c1 t phi'(0),    |phi'(t)| <= c2 |phi'(0)|,
 *     phi(t) = L(x + t p),  c1 = armijo_c1,  c2 = 0.9,
 *
 * extrapolating (x4) while the slope is still steep and then zooming in on
 * the bracket by the minimizer of the cubic through both ends' values and
 * slopes.  Every trial is one pass over A for loss and gradient together,
 * so the slope phi'(t) = g(t).p costs nothing more.  (Halving alone, the
 * Armijo search of gd and newton, took 6-7 trials at each of the first
 * iterations on d = 300 and 45 iterations where this takes ~30.)  A pair
 * enters only when s.y > 1e-10 |s||y|: the objective is not convex without
 * regularisation, and a pair with s.y <= 0 would make H indefinite.  If p
 * is not a descent direction (rounding), the memory is dropped and p = -g.
 *
 * Why it is here: a Newton iteration costs one O(n d^2) Hessian; an L-BFGS
 * iteration one pass over A (loss and gradient together, fused.c).  From
 * d of about a hundred the Hessian costs more than the extra iterations
 * L-BFGS needs, and auto chooses it there (docs/solvers.md).
 */
#include "solver.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* zoom trials once a decrease is in hand.  One: over bench_peers' grid
 * (14 problems; 12 of similar shapes from each of two other seeds) 6 zooms
 * took 289 / 183 / 185 evaluations in all, 1 zoom 259 / 176 / 201, with
 * first_step below 235 / 164 / 163, and with the clamped zoom too 235 /
 * 160 / 163 (0 zooms 227 / 164 / 161 before the clamp: about the
 * same, and no curvature test at all; /tmp drivers, counts to the peers'
 * target, liblbfgs 267 / 161 / 185) */
#define SMR_LBFGS_ZOOMS 1

typedef struct {
    int m, count, head; /* pairs held; slot of the next pair */
    double *S, *Y;      /* m x d each, pair i at S + i d */
    double *rho, *alpha; /* m each */
    double *p;          /* direction, d */
    double *xlo, *glo;  /* the line search's best Armijo point, d each */
    bool ws_at_x;       /* the workspace's forward pass is at the iterate
                           (the accepted point was the last trial) */
} lbfgs_state;

static int lbfgs_init_into(smr_solver *sv, lbfgs_state *st)
{
    int64_t m = sv->opt.lbfgs_memory, d = sv->d;
    if ((uint64_t)d > SIZE_MAX / sizeof(double) / (uint64_t)(2 * m + 3) - 2)
        return SMR_ERR_NO_MEMORY;
    st->m = (int)m;
    st->S = malloc((size_t)((2 * m + 3) * d + 2 * m) * sizeof(double));
    if (!st->S)
        return SMR_ERR_NO_MEMORY;
    st->Y = st->S + m * d;
    st->p = st->Y + m * d;
    st->xlo = st->p + d;
    st->glo = st->xlo + d;
    st->rho = st->glo + d;
    st->alpha = st->rho + m;
    /* L-BFGS reads no f or z after an evaluation: the one pass may skip
     * them (fused.c, the lean pass) */
    sv->ws.lean = true;
    return SMR_OK;
}

static int lbfgs_init(smr_solver *sv)
{
    lbfgs_state *st = calloc(1, sizeof *st);
    if (!st)
        return SMR_ERR_NO_MEMORY;
    sv->state = st;
    return lbfgs_init_into(sv, st);
}

static void lbfgs_free(smr_solver *sv)
{
    lbfgs_state *st = sv->state;
    if (st)
        free(st->S);
    free(st);
    sv->state = NULL;
}

/* p = -H g by the two-loop recursion */
static void direction(const lbfgs_state *st, int64_t d, const double *g, double *p)
{
    for (int64_t j = 0; j < d; ++j)
        p[j] = g[j];
    for (int k = 0; k < st->count; ++k) {
        int i = (st->head - 1 - k + st->m) % st->m;
        const double *si = st->S + i * d, *yi = st->Y + i * d;
        double a = st->alpha[i] = st->rho[i] * smr_k_dot(d, si, p);
        for (int64_t j = 0; j < d; ++j)
            p[j] -= a * yi[j];
    }
    if (st->count > 0) {
        int i = (st->head - 1 + st->m) % st->m;
        const double *yi = st->Y + i * d;
        double gamma = 1.0 / (st->rho[i] * smr_k_dot(d, yi, yi)); /* s.y / y.y */
        for (int64_t j = 0; j < d; ++j)
            p[j] *= gamma;
    }
    for (int k = st->count - 1; k >= 0; --k) {
        int i = (st->head - 1 - k + st->m) % st->m;
        const double *si = st->S + i * d, *yi = st->Y + i * d;
        double c = st->alpha[i] - st->rho[i] * smr_k_dot(d, yi, p);
        for (int64_t j = 0; j < d; ++j)
            p[j] += c * si[j];
    }
    for (int64_t j = 0; j < d; ++j)
        p[j] = -p[j];
}

/* phi(t) and phi'(t) at x + t p, into sv->xt and sv->gt: 0, 1 when the
 * values are not finite (a step too long), -1 on an error */
static int trial(smr_solver *sv, const double *p, double t, double *f, double *df)
{
    int64_t d = sv->d;
    for (int64_t j = 0; j < d; ++j)
        sv->xt[j] = sv->x[j] + t * p[j];
    int rc = smr_sv_eval(sv, sv->xt, f, sv->gt);
    if (rc == SMR_ERR_OVERFLOW)
        return 1;
    if (rc != SMR_OK)
        return -1;
    *df = smr_k_dot(d, sv->gt, p);
    return isfinite(*f) && isfinite(*df) ? 0 : 1;
}

/* the minimizer of the cubic with values fa, fb and slopes da, db at a, b
 * (N&W (3.59)); NaN when it has none */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
    double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    double r = d1 * d1 - da * db;
    if (!(r >= 0.0))
        return NAN;
    double d2 = copysign(sqrt(r), b - a);
    return b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
}

/* the strong Wolfe search from step *t along st->p (slope gp < 0); on
 * success sv->xt, sv->gt hold the point, *lt its loss, *t the step */
static smr_status wolfe_search(smr_solver *sv, lbfgs_state *st, double gp, double *t,
                               double *lt)
{
    const double c1 = sv->opt.armijo_c1, c2 = 0.9, f0 = sv->loss;
    int64_t d = sv->d;
    double lo = 0.0, flo = f0, dlo = gp; /* the best Armijo point so far */
    double hi = 0.0, fhi = NAN, dhi = NAN;
    bool bracket = false, saved = false;
    double step = *t, wprev = INFINITY;
    int zooms = 0;
    st->ws_at_x = false;
    for (int k = 0; k < sv->opt.max_backtracks; ++k) {
        double f = NAN, df = NAN;
        int r = trial(sv, st->p, step, &f, &df);
        if (r < 0)
            return SMR_STATUS_NONFINITE;
        if (r > 0 || f > f0 + c1 * step * gp || f >= flo) {
            hi = step, fhi = r ? NAN : f, dhi = r ? NAN : df; /* too long */
            bracket = true;
            /* the decrease this step could give is below the loss's
             * rounding (as in smr_line_search) */
            if (!saved && r == 0 && smr_ls_no_gain(sv, step, gp, f))
                return SMR_STATUS_ROUNDOFF;
        } else {
            if (fabs(df) <= -c2 * gp && f < f0) {
                st->ws_at_x = true;
                *t = step;
                *lt = f;
                return SMR_STATUS_NONE;
            }
            if (df > 0.0) { /* past the minimum: it lies between lo and step */
                hi = lo, fhi = flo, dhi = dlo;
                bracket = true;
            }
            lo = step, flo = f, dlo = df;
            memcpy(st->xlo, sv->xt, (size_t)d * sizeof(double));
            memcpy(st->glo, sv->gt, (size_t)d * sizeof(double));
            saved = true;
        }
        if (!bracket) {
            step *= 4.0;
            continue;
        }
        /* a decrease in hand and the bracket zoomed a few times: enough
         * (the pair test keeps a poor curvature pair out) */
        if (saved && ++zooms > SMR_LBFGS_ZOOMS)
            break;
        double w = fabs(hi - lo), a = fmin(lo, hi), c = NAN;
        if (w <= 1e-12 * fmax(lo, hi))
            break;
        if (isfinite(fhi) && isfinite(dhi) && w <= 0.5 * wprev)
            c = cubic_min(lo, flo, dlo, hi, fhi, dhi);
        /* the cubic's minimizer kept 0.1 w inside the bracket, else (no
         * minimizer, or the last zoom did not halve the bracket) its
         * middle.  Clamped, not replaced by the middle when it falls
         * outside: where the first step was 10^6 times too long (w = 0.1
         * and lambda = 1e-3, whose quadratic terms hold the minimizer near
         * x = 0), halving took 21 trials at the first iteration and the
         * clamp 8, since a bracket can then shrink tenfold a trial (auto:
         * 942 -> 853 evaluations over 32 problems of four kinds, the
         * peers' grid unchanged) */
        step = isfinite(c) ? fmin(fmax(c, a + 0.1 * w), a + 0.9 * w) : 0.5 * (lo + hi);
        wprev = w;
    }
    if (saved) { /* no Wolfe point: the best Armijo point is still a decrease */
        memcpy(sv->xt, st->xlo, (size_t)d * sizeof(double));
        memcpy(sv->gt, st->glo, (size_t)d * sizeof(double));
        *t = lo;
        *lt = flo;
        return SMR_STATUS_NONE;
    }
    return *t * fabs(gp) <= 1e3 * DBL_EPSILON * fabs(f0) ? SMR_STATUS_ROUNDOFF
                                                         : SMR_STATUS_LINE_SEARCH;
}

/*
 * The first step (no pairs, p = -g):  t = L / |g|^2, where the line's
 * linear model L + t g.p reaches 0, a lower bound of L (every term of L is
 * a square), kept within 0.01 ... 100 moves of unit length (t |p| = 1).
 * The search takes it from there.  The unit move itself (t = 1/|g|, as in
 * gradient descent) was the start before: at n = 10^6, d = 10 the minimum
 * along -g lay 4.4 units out, where L falls from 2.9e-6 to 1.9e-10, and
 * extrapolating to it (x4) and zooming in took 7 trials; from L/|g|^2 (6.6
 * units) the search takes 3 and stops at L = 1.5e-7 (one zoom), and the
 * solve to the peers' target took 12 evaluations in 8 iterations where it
 * took 16 in 5.  (A zero minimum is the realizable case; with noise L* > 0
 * and the step is long, which the search shortens.)
 */
static double first_step(double loss, double gp)
{
    double unit = 1.0 / sqrt(-gp), t = loss / -gp;
    return isfinite(t) ? fmin(fmax(t, 0.01 * unit), 100.0 * unit) : unit;
}

static smr_status lbfgs_step(smr_solver *sv, lbfgs_state *st)
{
    int64_t d = sv->d;
    direction(st, d, sv->g, st->p);
    double gp = smr_k_dot(d, sv->g, st->p);
    if (!(gp < 0.0) || !isfinite(gp)) { /* rounding: start the memory again */
        st->count = 0;
        direction(st, d, sv->g, st->p);
        gp = smr_k_dot(d, sv->g, st->p);
    }
    double t = 1.0, lt;
    if (st->count == 0)
        t = sv->opt.gd_step_size > 0 ? sv->opt.gd_step_size : first_step(sv->loss, gp);
    smr_status s = wolfe_search(sv, st, gp, &t, &lt);
    if (s != SMR_STATUS_NONE)
        return s;
    smr_sv_accept(sv, lt, t * smr_norm2(d, st->p));
    /* after smr_sv_accept, xt and gt hold the previous iterate */
    double *si = st->S + st->head * d, *yi = st->Y + st->head * d;
    for (int64_t j = 0; j < d; ++j) {
        si[j] = sv->x[j] - sv->xt[j];
        yi[j] = sv->g[j] - sv->gt[j];
    }
    double sy = smr_k_dot(d, si, yi);
    double ss = smr_k_dot(d, si, si), yy = smr_k_dot(d, yi, yi);
    if (sy > 1e-10 * sqrt(ss) * sqrt(yy) && isfinite(sy) && yy > 0.0) {
        st->rho[st->head] = 1.0 / sy;
        st->head = (st->head + 1) % st->m;
        if (st->count < st->m)
            st->count++;
    }
    return SMR_STATUS_NONE;
}

static smr_status lbfgs_iterate(smr_solver *sv) { return lbfgs_step(sv, sv->state); }

const smr_method_ops smr_lbfgs_ops = {
    .name = "lbfgs",
    .needs_hessian_blocks = false,
    .init = lbfgs_init,
    .iterate = lbfgs_iterate,
    .free = lbfgs_free,
};

/*
 * auto above SMR_AUTO_NEWTON_MAX_D: L-BFGS, and Newton from where it got
 * to if it has not converged within a budget of iterations worth about a
 * Newton solve.  L-BFGS is 1.7-6x faster than Newton on well-conditioned
 * problems from d = 10 (bench_solvers, bench_peers), but on ill-conditioned
 * ones (softmaxreg gen --kind ill-conditioned, d = 12, 48 or 100) it was
 * still far from the minimizer after 5000 iterations where Newton took 4.
 * A Newton iteration costs about 1 + d/20 passes over A in its Hessian
 * (n d^2 flops against a pass's n d doubles) plus ~3 passes (forward,
 * A^T [f v], line search), and a Newton solve ~6 iterations: at d = 10 one
 * Newton iteration took as long as 3.5 L-BFGS ones (bench_solvers, n = 10^6).
 * So the budget is max(20, 6 + 6 d/20) L-BFGS iterations: the worst case
 * costs about two Newton solves, the usual case one L-BFGS solve (10-15
 * iterations at d = 10).  A failed L-BFGS line search also hands over.
 */
typedef struct {
    lbfgs_state lb;
    smr_newton_core nc;
    int64_t budget;
    bool newton;
} hybrid_state;

static int hybrid_init(smr_solver *sv)
{
    hybrid_state *h = calloc(1, sizeof *h);
    if (!h)
        return SMR_ERR_NO_MEMORY;
    sv->state = h;
    int rc = lbfgs_init_into(sv, &h->lb);
    if (rc == SMR_OK)
        rc = smr_newton_core_init(&h->nc, sv->d, sv->opt.newton_mu0);
    h->budget = 6 + (6 * sv->d) / 20;
    if (h->budget < 20)
        h->budget = 20;
    return rc;
}

static void hybrid_free(smr_solver *sv)
{
    hybrid_state *h = sv->state;
    if (h) {
        free(h->lb.S);
        smr_newton_core_free(&h->nc);
    }
    free(h);
    sv->state = NULL;
}

static smr_status hybrid_iterate(smr_solver *sv)
{
    hybrid_state *h = sv->state;
    if (!h->newton) {
        if (sv->iter < h->budget) {
            smr_status s = lbfgs_step(sv, &h->lb);
            if (s == SMR_STATUS_NONE || s == SMR_STATUS_NONFINITE)
                return s;
        }
        /* hand over; the Hessian needs the forward pass at x, which the
         * workspace lacks when the last search accepted its best Armijo
         * point or failed (its last trial is elsewhere); after a lean
         * pass (no f) smr_newton_core_iterate runs it */
        h->newton = true;
        sv->ws.lean = false; /* Newton's Hessians read f */
        double l;
        if (!h->lb.ws_at_x && smr_sv_loss(sv, sv->x, &l) != SMR_OK)
            return SMR_STATUS_NONFINITE;
    }
    return smr_newton_core_iterate(sv, &h->nc);
}

const smr_method_ops smr_auto_ops = {
    .name = "auto",
    .needs_hessian_blocks = true,
    .init = hybrid_init,
    .iterate = hybrid_iterate,
    .free = hybrid_free,
};
