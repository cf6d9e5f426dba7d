# schedulers.gp — the schedulers side by side per cell: p95 latency (top) and
# throughput (bottom). schedulers.dat: "label", then nsched p95 columns, then
# nsched throughput columns; header row = scheduler names; ? = not measured.
# A panel with nothing measured (no cell had the 20 samples a p95 needs) is
# left out rather than drawn empty, which gnuplot refuses.
load plotsdir.'/common.gp'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30 noenhanced
set yrange [0:*]
set xrange [-0.6:scheduler_rows - 0.4]
set key outside right top
f = datadir.'/schedulers.dat'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/schedulers.%s", outdir, fmt)
    panels = (scheduler_p95_rows > 0) + (scheduler_tp_rows > 0)
    set multiplot layout panels,1 title sprintf("Scheduler comparison — %s", run_name) noenhanced
    if (scheduler_p95_rows > 0) {
        set title "p95 end-to-end latency"
        set ylabel "p95 latency (ms)"
        set xlabel ""
        plot for [i=2:nsched+1] f using i:xtic(1) title columnheader(i)
    }
    if (scheduler_tp_rows > 0) {
        set title "throughput"
        set ylabel "throughput (completed workflows / s)"
        set xlabel "cell (input size, concurrency)"
        plot for [i=nsched+2:2*nsched+1] f using i:xtic(1) title columnheader(i)
    }
    unset multiplot
    set output
}
