# resources.gp — each node's CPU (top, % of one core used by its
# invocations) and resident memory (bottom) over one experiment, sampled
# every second from the nodes' GET /stats (resources.dat: one block per node:
# t_s cpu_pct rss_mb). The dashed lines bound the measured window (warm-up
# before it, drain after it). Memory is the serving process's: with several
# nodes in one process every node shows the same curve.
load plotsdir.'/common.gp'
set xlabel "time since the experiment's start (s)"
set key outside right top
set grid xtics ytics lc rgb '#eeeeee'
set xrange [0:*]
set yrange [0:*]
if (window_start >= 0) {
    set arrow 1 from window_start, graph 0 to window_start, graph 1 nohead dt 2 lc rgb '#555555'
    set arrow 2 from window_end, graph 0 to window_end, graph 1 nohead dt 2 lc rgb '#555555'
}
f = datadir.'/resources.dat'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/resources.%s", outdir, fmt)
    set multiplot layout 2,1 title sprintf("Per-node resources of %s — %s", resources_cell, run_name) noenhanced
    set ylabel "CPU (% of one core)"
    plot for [i=0:resources_blocks-1] f index i using 1:2 with linespoints pt 7 ps 0.4 lc i+1 title columnheader(1)
    set ylabel "resident memory (MB)"
    plot for [i=0:resources_blocks-1] f index i using 1:3 with lines lc i+1 title columnheader(1)
    unset multiplot
    set output
}
