/* spending.c — Lan–DeMets O'Brien–Fleming alpha spending (spending.h).
 * The normal quantile is a bisection on erfc: 100 halvings of [-40, 40]
 * reach double precision, and it runs once per look, not per sample. */
#include "flowgate/spending.h"

#include <math.h>

double fg_norm_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

double fg_norm_quantile(double p)
{
    if (!(p > 0 && p < 1)) return NAN;
    double lo = -40, hi = 40;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (fg_norm_cdf(mid) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double fg_obf_spent(double level, double t)
{
    if (!(t > 0)) return 0;
    if (t >= 1) return level;
    double spent = 2.0 - 2.0 * fg_norm_cdf(fg_norm_quantile(1.0 - level / 2.0) / sqrt(t));
    return spent < level ? spent : level;
}

double fg_look_level(double level, double t_prev, double t, int final)
{
    double before = fg_obf_spent(level, t_prev);
    double now = final ? level : fg_obf_spent(level, t);
    return now > before ? now - before : 0;
}
