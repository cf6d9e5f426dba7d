# scenario_curve.gp — one scenario, the schedulers side by side against the
# factor it varies: p50 and p95 latency and throughput, each point the mean
# over the replicates with its 95 % t interval as error bars (curve.dat:
# blocks per scheduler; x p50 lo hi p95 lo hi rps lo hi). A panel no cell
# has a point for (p95 of fewer than 20 requests a replicate) is left out,
# not drawn empty, which gnuplot refuses.
load plotsdir.'/common.gp'
set key inside top left
set grid xtics ytics lc rgb '#eeeeee'
set xlabel xlabel noenhanced
set yrange [0:*]
set offsets graph 0.05, graph 0.05, graph 0.1, 0
set format x '%g'
# One cell (nothing varied): a range around its point, not an empty one.
if (x_min == x_max) { set xrange [x_min - 1:x_max + 1]; set xtics (sprintf('%g', x_min) x_min) }
set xtics out rotate by -30
f = datadir.'/curve.dat'
do for [fmt in "png svg"] {
    # Three panels side by side need the width.
    eval(fmt eq "png" ? 'set terminal pngcairo size 1500,600 font "DejaVu Sans,10"' \
                      : 'set terminal svg size 1500,600 dynamic font "DejaVu Sans,10" background "white"')
    set output sprintf("%s/curve.%s", outdir, fmt)
    panels = (p50_points > 0) + (p95_points > 0) + (throughput_points > 0)
    set multiplot layout 1,panels title sprintf("Scenario %s — %s", scenario, run_name) noenhanced
    if (p50_points > 0) {
        set title "p50 latency (ms)"
        plot for [i=0:nsched-1] f index i using 1:2:3:4 with yerrorlines pt 7 lc rgb series_color(i) title columnheader(1)
    }
    if (p95_points > 0) {
        set title "p95 latency (ms)"
        plot for [i=0:nsched-1] f index i using 1:5:6:7 with yerrorlines pt 7 lc rgb series_color(i) title columnheader(1)
    }
    if (throughput_points > 0) {
        set title "throughput (workflows/s)"
        plot for [i=0:nsched-1] f index i using 1:8:9:10 with yerrorlines pt 7 lc rgb series_color(i) title columnheader(1)
    }
    unset multiplot
    set output
}
