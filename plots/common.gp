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
