# functions.gp — where each function's time goes, stacked: input transfer,
# queue wait for a worker, execution (count-weighted means in ms, one bar per
# function and input size; functions.dat).
load plotsdir.'/common.gp'
set title sprintf("Per-function latency breakdown — %s", run_name)
set ylabel "mean time per invocation (ms)"
set xlabel "function and input size"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -40 noenhanced
set yrange [0:*]
set key outside right top
f = datadir.'/functions.dat'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/functions.%s", outdir, fmt)
    plot f using 2:xtic(1) title 'transfer' lc rgb '#e69f00', \
         '' using 3 title 'queue' lc rgb '#56b4e9', \
         '' using 4 title 'exec' lc rgb '#009e73'
    set output
}
