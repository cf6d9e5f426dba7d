# success.gp — share of measured workflows that completed, per cell
# (success.dat: index "label" success_rate sent).
load plotsdir.'/common.gp'
set title sprintf("Success rate per cell — %s", run_name)
set ylabel "success rate (ok / sent)"
set xlabel "cell (input size, concurrency)"
set yrange [0:1.12]
set ytics 0,0.2,1
set style fill solid 0.7 border -1
set boxwidth 0.6
set xtics rotate by -30 noenhanced
set key off
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/success.%s", outdir, fmt)
    plot datadir.'/success.dat' using 1:3:xtic(2) with boxes lc rgb '#4a8f5a', \
         '' using 1:3:(sprintf("%.3f\n(n=%d)", $3, $4)) with labels offset 0,1.2 font ",8"
    set output
}
