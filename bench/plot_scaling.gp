# plot_scaling.gp -- per-iteration cost of the solvers (bench_scaling):
#   gnuplot -e "dir='bench/results'; out='docs/figures'" bench/plot_scaling.gp
# scaling.png  left: seconds per iteration against n (d = 16) for greedy
#              descent, SPSA (k = 16) and Newton, each with its fitted
#              log-log slope (target 1 +- 0.1), A from 320 MB to 2.56 GB (one A, sizes
#              interleaved); right: Newton's seconds per
#              iteration against n d^2 + d^3 (n = 2^18, d = 64 ... 2048),
#              slope 1 when the model holds: fitted over all d and over
#              d >= 512, where the n d^2 term has overtaken the passes
#              over A (bench_scaling's d_fit), with a line of slope 1
#              through the last point.  Rows whose solves stopped
#              early (ok = 0) are left out.
if (!exists("dir")) dir = 'bench/results'
if (!exists("out")) out = 'docs/figures'
set datafile separator ','
set terminal pngcairo size 1200,460 noenhanced
c = dir.'/scaling.csv'
sel(S, M) = sprintf("< awk -F, '$1==\"%s\" && $2==\"%s\" && $7==1' %s", S, M, c)
set output out.'/scaling.png'
set multiplot layout 1,2 title 'Cost of one solver iteration (history timestamps inside one solve; median of 5 solves, sizes interleaved)'
set logscale xy
set format y '%g'
set key top left
set title 'against n, d = 16, row-major A'
set xlabel 'n'
set ylabel 'seconds per iteration'
stats sel('n', 'gd') using (log($3)):(log($5)) nooutput
s1 = STATS_slope
stats sel('n', 'spsa') using (log($3)):(log($5)) nooutput
s2 = STATS_slope
stats sel('n', 'newton') using (log($3)):(log($5)) nooutput
s3 = STATS_slope
plot sel('n', 'gd') using 3:5 with linespoints title sprintf('greedy descent (slope %.2f)', s1), \
     sel('n', 'spsa') using 3:5 with linespoints title sprintf('SPSA step, k = 16 (slope %.2f)', s2), \
     sel('n', 'newton') using 3:5 with linespoints title sprintf('Newton (slope %.2f)', s3)
set title 'Newton against n d^2 + d^3, n = 262144'
set xlabel 'n d^2 + d^3'
stats sel('newton_d', 'newton') using (log($6)):(log($5)) nooutput
s4 = STATS_slope
lab = sprintf('Newton iteration (slope %.2f)', s4)
stats sel('newton_d', 'newton') using 4 nooutput
if (STATS_max >= 1024) {
    # the quick run's d sweep (32, 64) has no such rows
    top = sprintf("< awk -F, '$1==\"newton_d\" && $2==\"newton\" && $7==1 && $4>=512' %s", c)
    stats top using (log($6)):(log($5)) nooutput
    lab = sprintf('Newton iteration (slope %.2f; d >= 512: %.2f)', s4, STATS_slope)
}
stats sel('newton_d', 'newton') using 6:5 nooutput
xl = STATS_max_x
yl = STATS_max_y
plot sel('newton_d', 'newton') using 6:5 with linespoints title lab, \
     [xl/1000:xl] yl * x / xl with lines dashtype 2 title 'slope 1'
unset multiplot
