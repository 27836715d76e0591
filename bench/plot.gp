# plot.gp -- scaling plots from bench/run.sh's CSV files.
#   gnuplot -e "dir='bench/results'; out='docs/figures'" bench/plot.gp
# kernels-vs-n.png   log-log time against n at fixed d, with the limit line;
#                    every series' fitted slope in its legend
# kernels-vs-d.png   log-log time against d at fixed n, with the limit lines
# peers.png          our time / peer time, per problem
# Series are selected with awk (Debian's mawk).
if (!exists("dir")) dir = 'bench/results'
if (!exists("out")) out = 'docs/figures'
set datafile separator ','
set terminal pngcairo size 1200,460 noenhanced
k = dir.'/kernels.csv'
# rows of kernel K, layout row, with column C equal to V; prints x and columns
sel(K, C, V) = sprintf("< awk -F, '$1==\"%s\" && $2==\"row\" && $%d==%s' %s", K, C, V, k)

set output out.'/kernels-vs-n.png'
set multiplot layout 1,2 title 'Objective kernels vs n (row-major A); limit = one streaming read of A, measured in the same run'
set logscale xy
set format y '%g'
set xlabel 'n'
set ylabel 'seconds'
set key top left
# fitted log-log slopes (least squares, gnuplot's stats): the scaling
# target is slope 1 +- 0.1 in n for the O(n d) kernels
do for [dd in '10 100'] {
  set title 'd = '.dd
  stats sel('loss_grad', 4, dd) using (log($3)):(log($5)) nooutput
  s1 = STATS_slope
  stats sel('two_call', 4, dd) using (log($3)):(log($5)) nooutput
  s2 = STATS_slope
  stats sel('loss', 4, dd) using (log($3)):(log($5)) nooutput
  s3 = STATS_slope
  stats sel('hessvec', 4, dd) using (log($3)):(log($5)) nooutput
  s4 = STATS_slope
  plot sel('loss_grad', 4, dd) using 3:5 with linespoints title sprintf('loss+grad (slope %.2f)', s1), \
       sel('two_call', 4, dd) using 3:5 with linespoints title sprintf('two calls (gemv, gemv^T) (slope %.2f)', s2), \
       sel('loss', 4, dd) using 3:5 with linespoints title sprintf('loss (slope %.2f)', s3), \
       sel('hessvec', 4, dd) using 3:5 with linespoints title sprintf('Hv (slope %.2f)', s4), \
       sel('loss_grad', 4, dd) using 3:8 with lines dashtype 2 lw 2 lc rgb 'black' title 'limit: 1 read of A'
}
unset multiplot

set output out.'/kernels-vs-d.png'
set multiplot layout 1,2 title 'Objective kernels vs d (row-major A)'
set xlabel 'd'
do for [nn in '10000 100000'] {
  set title 'n = '.nn
  stats sel('loss_grad', 3, nn) using (log($4)):(log($5)) nooutput
  s1 = STATS_slope
  stats sel('hessian', 3, nn) using (log($4)):(log($5)) nooutput
  s2 = STATS_slope
  plot sel('loss_grad', 3, nn) using 4:5 with linespoints title sprintf('loss+grad (slope %.2f)', s1), \
       sel('loss_grad', 3, nn) using 4:8 with lines dashtype 2 lw 2 lc rgb 'black' title 'limit: 1 read of A', \
       sel('hessian', 3, nn) using 4:5 with linespoints title sprintf('Hessian (slope %.2f; n d^2 gives 2)', s2), \
       sel('hessian', 3, nn) using 4:8 with lines dashtype 3 lw 2 lc rgb 'red' title 'limit: dsyrk on A'
}
unset multiplot

p = dir.'/peers.csv'
set output out.'/peers.png'
unset logscale
set logscale y
set format y '%g'
set title 'Our time / peer time to the same accuracy (below 1: we are faster)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set xtics rotate by -35 font ',9'
set ylabel 'ours / peer'
set xlabel ''
set key outside top center horizontal
# one line per problem: label, ratio vs gsl_lm, gsl_bfgs, lbfgs (0 if not reached)
wide = sprintf("< awk -F, 'NR>2 && $4!=\"ours\" {key=$1\" n=\"$2\" d=\"$3; if(!(key in seen)){seen[key]=1; order[++m]=key} r[key,$4]=($7==1?$8:\"NaN\")} END {for(i=1;i<=m;i++){q=order[i]; printf \"%%s,%%s,%%s,%%s\\n\", q, r[q,\"gsl_lm\"], r[q,\"gsl_bfgs\"], r[q,\"lbfgs\"]}}' %s", p)
plot wide using 2:xtic(1) title 'GSL multifit LM', '' using 3 title 'GSL BFGS2', '' using 4 title 'liblbfgs', \
     1 with lines dashtype 2 lc rgb 'black' notitle
