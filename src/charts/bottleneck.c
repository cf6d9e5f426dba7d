/* bottleneck.c — the critical path's parts and their bottleneck.dat row
 * (bottleneck.h). */
#include "bottleneck.h"

const char *const fg_plot_parts[FG_PLOT_PARTS] = {"exec", "transfer", "queue", "driver"};

int fg_plot_dominant_part(const double ms[FG_PLOT_PARTS])
{
    int dom = 0;
    for (int p = 1; p < FG_PLOT_PARTS; p++)
        if (ms[p] > ms[dom]) dom = p;
    return dom;
}

void fg_plot_bottleneck_row(FILE *out, const char *label, const double ms[FG_PLOT_PARTS])
{
    fprintf(out, "\"%s\" %.6g %.6g %.6g %.6g \"%s\"\n", label, ms[0], ms[1], ms[2], ms[3],
            fg_plot_parts[fg_plot_dominant_part(ms)]);
}
