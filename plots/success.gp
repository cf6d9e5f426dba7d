# success.gp — share of measured workflows that completed, per cell
# (success.dat: index "label" success_rate sent).
load plotsdir.'/common.gp'
set title sprintf("Success rate per cell — %s", run_name)
set ylabel "success rate (ok / sent)"
set xlabel "cell (input size, concurrency)"
set yrange [0:1.12]
set xrange [-0.6:success_rows - 0.4]
set ytics 0,0.2,1
set style fill solid 0.7 border -1
set boxwidth 0.6
# Vertical cell names end at their tic, so a long last one cannot run off
# the right edge; the value above each bar is left out when bars are many.
set xtics rotate by 90 right noenhanced
set key off
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/success.%s", outdir, fmt)
    if (success_rows <= 20) {
        plot datadir.'/success.dat' using 1:3:xtic(2) with boxes lc rgb '#4a8f5a', \
             '' using 1:3:(sprintf("%.3f\n(n=%d)", $3, $4)) with labels offset 0,1.2 font ",8"
    } else {
        plot datadir.'/success.dat' using 1:3:xtic(2) with boxes lc rgb '#4a8f5a'
    }
    set output
}
