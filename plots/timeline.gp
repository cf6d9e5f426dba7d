# timeline.gp — Gantt chart of the function calls of a sample of requests of
# one cell (timeline.dat: one block per function; rows: request sent
# received exec_start exec_end node, in ms since the first send of the
# sample). Each function has its own lane inside a request's row so parallel
# calls stay visible: the pale bar is the call as the client saw it (sent →
# response received), the solid bar inside it the server's execution.
load plotsdir.'/common.gp'
set title sprintf("Function calls of %d requests of %s — %s", timeline_requests, timeline_cell, run_name)
set xlabel "time since the first call of the sample (ms)"
set ylabel "request (sample order)"
set yrange [timeline_requests-0.4:-0.6]   # request 0 on top
set xrange [0:*]
set ytics 1
set grid xtics ytics lc rgb '#eeeeee'
set key outside right top
lane(fi) = -0.4 + (fi + 0.5) * 0.8 / timeline_blocks
half = 0.36 / timeline_blocks
f = datadir.'/timeline.dat'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/timeline.%s", outdir, fmt)
    plot for [i=0:timeline_blocks-1] f index i \
             using (($2+$3)/2):($1 + lane(i)):(($3-$2)/2):(half) \
             with boxxyerror fs transparent solid 0.3 noborder lc i+1 title columnheader(1), \
         for [i=0:timeline_blocks-1] f index i \
             using (($4+$5)/2):($1 + lane(i)):(($5-$4)/2):(half) \
             with boxxyerror fs solid 0.9 noborder lc i+1 notitle
    set output
}
