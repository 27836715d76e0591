# plot_theory.gp -- figures of bench_theory (issue 8, docs/theory.md).
#   gnuplot -e "dir='bench/results/theory'; out='docs/figures'" bench/plot_theory.gp
# Reads dir/*.csv written by bench_theory (and dir/sketch-time.csv by
# bench_sketch); writes out/theory-{derivs,pd,newton,sketch,spsa}.png.
if (!exists("dir")) dir = 'bench/results/theory'
if (!exists("out")) out = 'docs/figures'
set datafile separator ','
set datafile commentschars '#'
set datafile missing 'nan'
set key autotitle columnhead
set terminal pngcairo size 1200,460 noenhanced font ',10'
set grid

# ---- claim 1 ----
set output out.'/theory-derivs.png'
set multiplot layout 1,2 title 'Claim 1: derivatives against finite differences; the middle matrix is diagonal + rank 2'
set logscale xy
set format y '%.0e'
set xlabel 'scale of x (logits of about this size)'
set ylabel 'relative error vs finite differences'
set key top left
plot dir.'/derivs.csv' using 7:10 with points pt 7 ps 0.5 title 'gradient (5-point FD of the loss)', \
     dir.'/derivs.csv' using 7:13 with points pt 6 ps 0.5 title 'Hessian (5-point FD of the gradient)', \
     1e-6 with lines dt 2 lc rgb 'black' title 'MATH.md tolerance 1e-6'
unset logscale x
set xlabel 'index i'
set ylabel 'sigma_i / sigma_1 of B - diag(delta)'
set yrange [1e-18:10]
set key bottom left
plot dir.'/middle-spectrum.csv' using 2:3 with linespoints pt 7 title 'library Hessian, A = I (4 points)', \
     dir.'/middle-spectrum.csv' using 2:4 with points pt 6 title 'finite differences'
unset multiplot
set yrange [*:*]
set format y '%g'

# ---- claim 2 ----
set output out.'/theory-pd.png'
set multiplot layout 1,2 title 'Claim 2: smallest Hessian eigenvalue against a uniform row weight w (random x, |x| 0.01..100)'
unset logscale
set xlabel 'w'
set ylabel 'lambda_min(H) / sigma_min(A)^2'
set key top left
set xrange [0:0.6]
set yrange [-0.02:0.3]
plot dir.'/pd.csv' using 1:9 with linespoints pt 7 title 'min over the points', \
     dir.'/pd.csv' using 1:10 with lines dt 2 title 'w^2 - beta (beta = -min eig B, measured)', \
     dir.'/pd.csv' using 1:($2 - 12) with lines dt 3 title 'w^2 - 12 (proven; positive from w = 3.46)', \
     0 with lines lc rgb 'black' notitle
set xrange [*:*]
set yrange [*:*]
set logscale x
set xlabel '|x|'
set ylabel 'eigenvalues of the middle matrix B(Ax), w = 0'
set key bottom left
plot dir.'/pd-middle.csv' using 2:3 with points pt 7 ps 0.5 title 'smallest', \
     dir.'/pd-middle.csv' using 2:4 with points pt 6 ps 0.5 title 'largest'
unset multiplot

# ---- claim 3 ----
set output out.'/theory-newton.png'
set multiplot layout 1,2 title 'Claim 3: exact Newton near x* (realizable, n = 1000, d = 10, w = 0)'
unset logscale
set logscale y
set format y '%.0e'
set xlabel 'iteration'
set ylabel '|x_k - x*|'
set key top right
plot for [s=0:4] dir.'/newton-phase.csv' using 2:($1==s ? $3 : 1/0) with linespoints pt 7 title 'start '.s
set format y '%g'
unset logscale y
set logscale x
set xlabel 'start distance |x0 - x*| / |x*|'
set ylabel 'fraction reaching x*'
set yrange [-0.05:1.05]
set key bottom left
plot dir.'/newton-basin.csv' using 2:3 with linespoints pt 7 title 'undamped Newton', \
     dir.'/newton-basin.csv' using 2:4 with linespoints pt 6 title 'safeguarded (Levenberg + Armijo)', \
     dir.'/newton-basin.csv' using 2:5 with lines dt 2 title 'undamped stopped by an indefinite H'
unset multiplot
set yrange [*:*]

# ---- claim 4 ----
set terminal pngcairo size 1200,900 noenhanced font ',10'
set output out.'/theory-sketch.png'
set multiplot layout 2,2 title 'Claim 4: leverage-score sparsified Hessian and sketched Newton'
set logscale xy
set xlabel 'rows sampled s'
set ylabel 'eps measured = max |eig(H^-1/2 Ht H^-1/2) - 1|'
set key top right
plot dir.'/sketch-spectral.csv' using 3:4 with linespoints pt 7 title 'median over seeds', \
     dir.'/sketch-spectral.csv' using 3:5 with linespoints pt 6 title '90th percentile', \
     dir.'/sketch-spectral.csv' using 3:7 with lines dt 2 title 'rule: sqrt(4 d ln(2d/0.1)/s)'
set xlabel 'delta'
set ylabel 'failure rate (eps measured > 0.25)'
set logscale x
unset logscale y
set yrange [-0.05:1.05]
set key center right
plot dir.'/sketch-failure.csv' using 1:4 with linespoints pt 7 title 's = rule(d, 0.25, delta)', \
     dir.'/sketch-failure.csv' using 1:5 with linespoints pt 6 title 's / 4', \
     dir.'/sketch-failure.csv' using 1:6 with linespoints pt 5 title 's / 16', \
     x with lines dt 2 title 'delta'
set yrange [*:*]
set logscale xy
set xlabel 'eps (sketch_eps)'
set ylabel 'local contraction |e_k+1| / |e_k|'
set key top left
plot dir.'/sketch-contraction.csv' using 1:4 with points pt 7 title 'measured (3 seeds)', \
     dir.'/sketch-contraction.csv' using 1:6 with lines dt 2 title 'eps/(1-eps)'
set xlabel 'n (rows), d fixed (bench_sketch)'
set ylabel 'seconds per iteration'
set key top left
# log-log slopes over n >= 20 d (below that fixed costs dominate)
set fit quiet logfile '/dev/null'
f(x) = a + b*x
fit f(x) dir.'/sketch-time.csv' using (log($1)):($1 >= 20*$2 ? log($12) : 1/0) via a, b
g(x) = c + e*x
fit g(x) dir.'/sketch-time.csv' using (log($1)):($1 >= 20*$2 ? log($13) : 1/0) via c, e
plot dir.'/sketch-time.csv' using 1:12 with linespoints pt 7 title sprintf('exact Newton (slope %.2f)', b), \
     dir.'/sketch-time.csv' using 1:13 with linespoints pt 6 title sprintf('sketched, eps = 0.5 (slope %.2f)', e)
unset multiplot

# ---- claim 5 and the minibatch form ----
set output out.'/theory-spsa.png'
set multiplot layout 2,3 title 'Claim 5: SPSA (k directions per step) and its minibatch form'
set logscale xy
set format y '%.0e'
set xlabel 'eps'
set ylabel '|E(g^ - g0)| / |grad L|'
set key top left
plot dir.'/spsa-bias.csv' using 1:2 with linespoints pt 7 title 'bias (common directions)', \
     dir.'/spsa-bias.csv' using 1:4 with lines dt 3 title 'Monte Carlo s.e. of a plain mean', \
     dir.'/spsa-bias.csv' using 1:($1*$1*0.2) with lines dt 2 title 'slope 2 (reference)'
set format y '%g'
set xlabel 'predicted E|g^|^2 / |g|^2'
set ylabel 'measured'
set key top left
plot dir.'/spsa-moment.csv' using 4:(strcol(3) eq 'gaussian' ? $5 : 1/0) with points pt 7 title 'Gaussian: (d+k+1)/k', \
     dir.'/spsa-moment.csv' using 4:(strcol(3) eq 'rademacher' ? $5 : 1/0) with points pt 6 title 'Rademacher: (d+k-1)/k', \
     x with lines dt 2 title 'y = x'
set xlabel 'd (rank 4 embedded)'
set ylabel 'iterations to 1e-4 L(0)'
plot dir.'/spsa-dims.csv' using 1:6 with linespoints pt 7 title 'step k/((r+k+1) lmax)', \
     dir.'/spsa-dims.csv' using 1:7 with linespoints pt 6 title 'step k/((d+k+1) lmax)', \
     dir.'/spsa-dims.csv' using 1:8 with linespoints pt 5 title 'automatic step'
set xlabel 'rank r (kappa = 1), d = 256'
plot dir.'/spsa-rank.csv' using 2:4 with linespoints pt 7 title 'r-based step', \
     dir.'/spsa-rank.csv' using 2:5 with linespoints pt 6 title 'automatic step', \
     dir.'/spsa-rank.csv' using 2:6 with lines dt 2 title 'ln(1e4)(r+k+1)/k'
set xlabel 'k (directions per step), r = 64'
set ylabel 'count'
plot dir.'/spsa-k.csv' using 3:4 with linespoints pt 7 title 'iterations', \
     dir.'/spsa-k.csv' using 3:6 with lines dt 2 title 'ln(1e4)(r+k+1)/k', \
     dir.'/spsa-k.csv' using 3:5 with linespoints pt 6 title 'loss evaluations'
set xlabel 'batch size B (of m problems)'
set ylabel 'count to 1% of the initial gap'
plot dir.'/minibatch.csv' using 5:6 with linespoints pt 7 title 'iterations', \
     dir.'/minibatch.csv' using 5:7 with linespoints pt 6 title 'problem evaluations'
unset multiplot
