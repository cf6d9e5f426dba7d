/* spending.h — how a sequential test spends its error rate over its looks
 * (src/base/spending.c).
 *
 * A test looked at k times, each at level a_k, has an overall error rate of
 * at most the sum of the a_k (the union bound), whatever the correlation
 * between the looks and whenever the run stops, as long as a look's level is
 * fixed before its data are seen. So optional stopping cannot inflate it.
 * The a_k are the increments of a Lan–DeMets spending function of the
 * information fraction t = pairs so far / most pairs the run may take; the
 * O'Brien–Fleming shape spends almost nothing on the early looks (where a
 * handful of pairs could only be fooled) and nearly all of it at the end:
 *   spent(L, t) = 2 - 2 Phi(z_{1 - L/2} / sqrt(t)),   spent(L, 1) = L.
 * A run that stops before t = 1 (budget, Ctrl-C) spends what is left at its
 * final look, which is still within the union bound. The bound ignores the
 * looks' correlation, so the real rate is lower than L: conservative, never
 * liberal. */
#ifndef FLOWGATE_SPENDING_H
#define FLOWGATE_SPENDING_H

/* Standard normal CDF and its inverse (p in (0, 1); NAN outside). */
double fg_norm_cdf(double z);
double fg_norm_quantile(double p);

/* Level spent up to information fraction t in [0, 1] of a total level L. */
double fg_obf_spent(double level, double t);

/* The level of the look at fraction t whose previous look was at t_prev
 * (0 for the first): spent(t) - spent(t_prev), or everything left
 * (L - spent(t_prev)) when final. */
double fg_look_level(double level, double t_prev, double t, int final);

#endif
