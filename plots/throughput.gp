# throughput.gp — completed workflows per second against concurrency, a line
# per scheduler and input size (throughput.dat: one block per line, its
# first row the line's title). The x tics are the measured concurrency
# levels only: there is no such thing as 1.5 workflows in flight.
load plotsdir.'/common.gp'
set title sprintf("Throughput vs concurrency — %s", run_name)
set xlabel "concurrency (workflows in flight)"
set ylabel "throughput (completed workflows / s)"
set yrange [0:*]
set offsets graph 0.03, graph 0.03, graph 0.05, 0
if (conc_min == conc_max) { set xrange [conc_min - 1:conc_max + 1] }
set key outside right top
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/throughput.%s", outdir, fmt)
    plot for [i=0:throughput_blocks-1] datadir.'/throughput.dat' index i using 1:2:xtic(1) \
         with linespoints lw 2 pt 7 ps 1.2 lc rgb series_color(i) title columnheader(1)
    set output
}
