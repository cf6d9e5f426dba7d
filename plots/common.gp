# common.gp — shared look of every chart; loaded by the chart scripts.
# render(name) is called twice by each chart: once for PNG, once for SVG.
set encoding utf8
set datafile missing '?'
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key noenhanced
set title noenhanced
png_term = 'set terminal pngcairo size 1100,650 font "DejaVu Sans,10"'
svg_term = 'set terminal svg size 1100,650 dynamic font "DejaVu Sans,10" background "white"'
run_name = sprintf("%s run %s", category, runid)
# Line colours for the series of a chart, cycled: no black or grey among
# them, since black is the style key (latency.gp) and grey the grid.
series_colors = "#9400d3 #009e73 #56b4e9 #e69f00 #0072b2 #d55e00 #cc79a7 #b8a000 #8b4513 #00ced1 #ff1493 #2e8b57"
series_color(i) = word(series_colors, i % words(series_colors) + 1)
