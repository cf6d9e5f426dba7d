# latency.gp — end-to-end p50/p95/p99 latency against input size. One colour
# per scheduler and concurrency (latency.dat blocks); p95 solid, p50 dashed,
# p99 dotted. The x tics are the measured sizes only.
load plotsdir.'/common.gp'
set title sprintf("Latency percentiles vs input size — %s", run_name)
set xlabel "input size (MB, 1 MB = 1 MiB)"
set ylabel "end-to-end latency (ms)"
set yrange [0:*]
set offsets graph 0.03, graph 0.03, graph 0.05, 0
if (size_min == size_max) { set xrange [size_min * 0.5:size_max * 1.5] }
set key outside right top
f = datadir.'/latency.dat'
# A percentile no cell could resolve (p99 of fewer than 100 samples: all
# "?") is left out of the chart and its key, not drawn as an empty series.
p95 = latency_p95_points > 0 ? \
    "for [i=0:latency_blocks-1] f index i using 1:3:xtic(1) with linespoints lw 2 pt 7 lc rgb series_color(i) title columnheader(1), NaN with lines lw 2 lc rgb 'black' title 'p95 (solid)'," : ""
p99 = latency_p99_points > 0 ? \
    "for [i=0:latency_blocks-1] f index i using 1:4 with linespoints lw 1 dt 3 pt 4 lc rgb series_color(i) notitle, NaN with lines lw 1 dt 3 lc rgb 'black' title 'p99 (dotted)'," : ""
p50_title = latency_p95_points > 0 ? "notitle" : "title columnheader(1)"
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/latency.%s", outdir, fmt)
    plot @p95 @p99 \
         for [i=0:latency_blocks-1] f index i using 1:2:xtic(1) with linespoints lw 1 dt 2 pt 6 lc rgb series_color(i) @p50_title, \
         NaN with lines lw 1 dt 2 lc rgb 'black' title 'p50 (dashed)'
    set output
}
