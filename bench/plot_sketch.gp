# plot_sketch.gp -- figures of bench_sketch (issue 4).
#   gnuplot -e "dir='bench/results'; out='docs/figures'" bench/plot_sketch.gp
# Reads sketch-d100.csv, sketch-d200.csv and sketch-d400.csv; writes sketch-time.png and
# sketch-phases.png.
if (!exists("dir")) dir = 'bench/results'
if (!exists("out")) out = 'docs/figures'
set datafile separator ','
set datafile commentschars '#'
set key autotitle columnhead
set terminal pngcairo size 1100,450 noenhanced

set output out.'/sketch-time.png'
set multiplot layout 1,2 title 'Sketched vs exact Newton, per iteration (2-core machine, 2 BLAS threads)'
set logscale xy
set xlabel 'n (rows)'
set ylabel 'seconds per iteration'
set key top left
plot for [d in '100 200 400'] dir.'/sketch-d'.d.'.csv' using 1:12 with linespoints title 'exact, d='.d, \
     for [d in '100 200 400'] dir.'/sketch-d'.d.'.csv' using 1:13 with linespoints dashtype 2 title 'sketch, d='.d
unset logscale y
set logscale x
set ylabel 'sketched / exact iteration time'
set yrange [0:1.3]
set key at graph 0.02, graph 0.5 left Left reverse samplen 2
plot for [d in '100 200 400'] dir.'/sketch-d'.d.'.csv' using 1:14 with linespoints title 'd='.d, \
     for [d in '100 200 400'] dir.'/sketch-d'.d.'.csv' using 1:28 with lines dashtype 4 title 'floor (scores = 2 reads), d='.d, \
     1.0/3 with lines dashtype 3 lc rgb 'black' title 'target 1/3'
unset multiplot

set output out.'/sketch-phases.png'
set multiplot layout 1,2 title 'Where an iteration goes (seconds, d = 400)'
set logscale xy
set yrange [1e-5:10]
set format y '%g'
set ylabel 'seconds'
set key top left
f = dir.'/sketch-d400.csv'
plot f using 1:21 with linespoints lw 2 title 'loss + gradient (1 pass, as the solvers)', \
     f using 1:4 with linespoints title 'forward (1 pass)', \
     f using 1:5 with linespoints title 'gradient (1 pass)', \
     f using 1:6 with linespoints title 'p, q (1 pass)', \
     f using 1:7 with linespoints lw 2 title 'exact Hessian dsyrk n d^2'
plot f using 1:8 with linespoints lw 2 title 'leverage scores (2 passes, QR, JL 16)', \
     f using 1:9 with linespoints title 'sampling', \
     f using 1:10 with linespoints title 'sampled dsyrk s d^2', \
     f using 1:11 with linespoints title 'Cholesky d^3'
unset multiplot
