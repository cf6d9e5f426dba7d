# bottleneck.gp — where each cell's request time goes along its critical
# path, stacked: exec, transfer, queue, driver (mean ms per request over the
# cell's measured requests and repeats; bottleneck.dat). The parts add up to
# the mean latency; the tallest segment is the cell's bottleneck.
load plotsdir.'/common.gp'
set title sprintf("Critical-path breakdown — %s", run_name)
set ylabel "mean time per request (ms)"
set xlabel "cell"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -40 noenhanced
set yrange [0:*]
set key outside right top
f = datadir.'/bottleneck.dat'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/bottleneck.%s", outdir, fmt)
    plot f using 2:xtic(1) title 'exec' lc rgb '#009e73', \
         '' using 3 title 'transfer' lc rgb '#e69f00', \
         '' using 4 title 'queue' lc rgb '#56b4e9', \
         '' using 5 title 'driver' lc rgb '#999999'
    set output
}
