# trend.gp — one cell's history (trend.c, trend.h): p50 and p95 (ms, left
# axis) and throughput (wf/s, right axis) per run in commit order. x is the
# run's ordinal; its tick the commit, every step-th. Change points: dashed
# orange line at the first run of the new level, the change written down
# from the top; A/B verdicts: dotted red line at their commit. The data file
# holds the runs (index 0) and the marks' texts (index 1: changes, then the
# A/B marks), so nothing from outside is on gnuplot's command line but the
# checked cell name.
load plotsdir.'/common.gp'
set title sprintf("Trend of %s over %d run%s", cell, npoints, npoints == 1 ? "" : "s")
set xlabel "run, in commit order (tick: commit)"
set ylabel "end-to-end latency (ms)"
set y2label "throughput (completed workflows/s)"
set ytics nomirror
set y2tics nomirror
set xrange [-0.5:npoints - 0.5]
set yrange [0:ymax]
set y2range [0:y2max]
set xtics rotate by 45 right font ",9"
set key below horizontal
f = datafile
change_color = '#d55e00'
ab_color = '#cc0000'
do for [w in change_idx] {
    set arrow from w + 0, graph 0 to w + 0, graph 1 nohead dt 2 lw 2 lc rgb change_color
}
do for [w in ab_idx] {
    set arrow from w + 0, graph 0 to w + 0, graph 1 nohead dt 3 lw 2 lc rgb ab_color
}
ab_block = has_change ? 2 : 1
# The ticks come from an invisible series (below the axis), so they are
# there whichever metric is missing.
ticks = "f index 0 using 1:(-1):xtic(int($1) % step == 0 ? strcol(2) : '') with points ps 0 notitle,"
p50 = has_p50 ? "f index 0 using 1:3 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#0072b2' title 'p50 (ms)'," : ""
p95 = has_p95 ? "f index 0 using 1:4 with linespoints lw 2 pt 5 ps 0.8 lc rgb '#9400d3' title 'p95 (ms)'," : ""
rps = has_rps ? "f index 0 using 1:5 axes x1y2 with linespoints lw 1 dt 4 pt 9 ps 0.8 lc rgb '#009e73' title 'throughput (wf/s, right axis)'," : ""
changes = has_change ? "f index 1 using 1:(ymax * 0.98):2 with labels rotate by 90 right offset -1.4,0 noenhanced font ',9' tc rgb change_color notitle, NaN with lines dt 2 lw 2 lc rgb change_color title 'change point (first run of the new level)'," : ""
abmarks = has_ab ? "f index ab_block using 1:(ymax * 0.98):2 with labels rotate by 90 right offset 1.4,0 noenhanced font ',9' tc rgb ab_color notitle, NaN with lines dt 3 lw 2 lc rgb ab_color title 'A/B verdict'," : ""
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s.%s", outstem, fmt)
    plot @ticks @p50 @p95 @rps @changes @abmarks NaN notitle
    set output
}
