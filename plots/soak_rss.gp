# soak_rss.gp — the driver's resident memory over a long open-loop run
# (bench/bench_soak.sh; datafile: a TSV with a header row, t_s
# driver_rss_kib server_rss_kib, one sample a second). The dashed red line is
# the 64 MiB bound (limit_mib); the dotted vertical lines bound the part that
# must stay flat: from the settling time (settle) to the end of the measured
# window (window_end; after it the driver writes its results). The server's
# RSS is drawn thin, for scale: another process, not under the bound.
load plotsdir.'/common.gp'
set title sprintf("Driver memory, open loop %g wf/s for %d s — %s", rate, duration, run_name)
set xlabel "time since the driver started (s)"
set ylabel "resident memory (MiB)"
set datafile separator tab
set key inside left center box opaque
set grid xtics ytics lc rgb '#eeeeee'
set xrange [0:*] noextend
set yrange [0:*]
set arrow 1 from settle, graph 0 to settle, graph 1 nohead dt 3 lc rgb '#555555'
set arrow 2 from window_end, graph 0 to window_end, graph 1 nohead dt 3 lc rgb '#555555'
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? png_term : svg_term)
    set output sprintf("%s/soak_rss.%s", outdir, fmt)
    plot datafile skip 1 using 1:($2 / 1024) with lines lw 2 lc rgb series_color(0) title 'driver (flowgate run)', \
         '' skip 1 using 1:($3 / 1024) with lines lw 1 lc rgb series_color(1) title 'server (flowgate-functions)', \
         limit_mib with lines dt 2 lw 1.5 lc rgb '#d55e00' title sprintf('bound %d MiB', limit_mib)
    set output
}
