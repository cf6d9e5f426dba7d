# scenario_cdf.gp — latency CDF of one scenario's heaviest cell, one line
# per scheduler, every measured request of every replicate (cdf.dat: blocks
# per scheduler; latency_ms fraction).
load plotsdir.'/common.gp'
set key outside right top
set grid xtics ytics lc rgb '#eeeeee'
set xlabel "end-to-end latency (ms)"
set ylabel "fraction of requests"
set yrange [0:1]
set xrange [0:*]
f = datadir.'/cdf.dat'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/cdf.%s", outdir, fmt)
    set title sprintf("Scenario %s, heaviest cell: latency CDF — %s", scenario, run_name) noenhanced
    plot for [i=0:cdf_blocks-1] f index i using 1:2 with steps lw 2 lc rgb series_color(i) title columnheader(1)
    set output
}
