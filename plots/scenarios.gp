# scenarios.gp — the scenario cells: mean p50 latency and mean throughput
# over the replicates, with their 95 % confidence intervals as error bars
# (scenarios.dat: index "label" p50_mean p50_lo p50_hi rps_mean rps_lo rps_hi).
load plotsdir.'/common.gp'
set xrange [-0.6:scenario_rows - 0.4]
set xtics rotate by 90 right noenhanced font ",8"
set key off
set bmargin 16
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/scenarios_p50.%s", outdir, fmt)
    set title sprintf("Scenario cells: p50 latency, mean and 95 %% CI over replicates — %s", run_name)
    set ylabel "p50 latency (ms)"
    plot datadir.'/scenarios.dat' using 1:3:xtic(2) with points pt 7 lc rgb series_color(0), \
         '' using 1:3:4:5 with yerrorbars pt 7 lc rgb series_color(0)
    set output
    set output sprintf("%s/scenarios_throughput.%s", outdir, fmt)
    set title sprintf("Scenario cells: throughput, mean and 95 %% CI over replicates — %s", run_name)
    set ylabel "throughput (workflows/s)"
    plot datadir.'/scenarios.dat' using 1:6:xtic(2) with points pt 7 lc rgb series_color(1), \
         '' using 1:6:7:8 with yerrorbars pt 7 lc rgb series_color(1)
    set output
}
