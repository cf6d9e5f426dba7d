/* changepoint.c — E-Divisive means with a t-test, as Hunter / Apache Otava
 * find change points, in two passes over the series:
 *
 *   split  Each stretch [a, b) is split where the energy statistic
 *          q(tau) = m k / (m + k) * (2/(m k) sum|x_i - y_j|
 *                   - sum_{i<i'}|x_i - x_i'| / C(m,2) - sum_{j<j'}|y_j - y_j'| / C(k,2))
 *          (x the m runs before tau, y the k runs from tau) is largest; the
 *          split stays when Student's t between the two sides gives
 *          p <= 10 x max_p, and both halves are split again in turn.
 *   merge  Every change point is re-tested between its neighbouring
 *          levels; the one with the largest p above max_p goes, or else the
 *          one with the smallest |change| below min_magnitude, and its
 *          neighbours are re-tested, until none goes.
 *
 * Where it differs from Otava, and why:
 *   - Student's t with a pooled variance, not Welch's: a new level is often
 *     5 runs long, and Welch's degrees of freedom then fall to ~4.6, which
 *     would take a +7 % step for the average series to reach p 0.001
 *     through 2 % noise. A code change moves a metric's level, not the
 *     machine's noise.
 *   - Every stretch's best split is tested on its own rather than only the
 *     best of all (a short new level at the end has a small q beside a long
 *     stretch, yet a clear t).
 *   - Runs beyond 4 MADs of their level's median are clipped before the
 *     test: one run 1.5x as slow would otherwise swamp a short level.
 *   - max_p defaults to 0.005, not 0.001 (changepoint.h says why).
 *   - No sliding window over the series: the split costs O(n^2) per
 *     stretch, which is fine for the few hundred runs a check reads; a
 *     caller with years of history passes the recent part.
 */
#include "flowgate/changepoint.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flowgate/stats.h"

#define DEFAULT_MAX_P 0.005
#define DEFAULT_MIN_SEGMENT 3
#define DEFAULT_MIN_MAGNITUDE 0.01
#define DEFAULT_RECENT_WINDOW 10
/* Otava's proposals pass a looser test than the final one: the merge pass
 * weeds them, and a split refused early can never be re-proposed. */
#define SPLIT_P_FACTOR 10

/* Runs further than this many MADs (scaled to sigma) from their level's
 * median are clipped to that distance before the t-test: one run 1.5x as
 * slow would otherwise move a 5-run level by 10 % and swamp its variance,
 * while 4 sigma leaves Gaussian noise as it is. */
#define CLIP_MADS 4
#define MAD_TO_SIGMA 1.4826

typedef struct cp_params {
    double max_p, min_magnitude;
    size_t min_segment;
} cp_params;

/* Student's t between level a (x[a0, a1)) and level b (x[b0, b1)). */
typedef struct level_test {
    double mean_a, mean_b, change, p;
    double pooled_var, df;
} level_test;

/* One search over x[0, n): the parameters, 2n doubles of scratch (the
 * split's distance sums, or the test's sorted copies) and the change
 * points found with their tests. */
typedef struct cp_search {
    const double *x;
    size_t n;
    cp_params p;
    double *scratch;
    size_t *cps;
    level_test *tests;
    size_t k;
} cp_search;

static double median_sorted(const double *v, size_t n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Mean and variance of x[from, to) after clipping to median +- CLIP_MADS
 * MADs (no clipping when the MAD is 0: quantized values, not outliers). */
static void clipped_mean_var(const cp_search *s, size_t from, size_t to, double *mean, double *var)
{
    size_t n = to - from;
    double *sorted = s->scratch, *dev = s->scratch + s->n;
    memcpy(sorted, s->x + from, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, fg_cmp_double);
    double median = median_sorted(sorted, n);
    for (size_t i = 0; i < n; i++) dev[i] = fabs(s->x[from + i] - median);
    qsort(dev, n, sizeof *dev, fg_cmp_double);
    double reach = CLIP_MADS * MAD_TO_SIGMA * median_sorted(dev, n);
    double lo = reach > 0 ? median - reach : -INFINITY, hi = reach > 0 ? median + reach : INFINITY;
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        sorted[i] = fmin(fmax(s->x[from + i], lo), hi);
        m += sorted[i];
    }
    m /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (sorted[i] - m) * (sorted[i] - m);
    *mean = m;
    *var = n > 1 ? ss / (double)(n - 1) : 0;
}

static level_test test_levels(const cp_search *s, size_t a0, size_t a1, size_t b0, size_t b1)
{
    level_test r;
    double va, vb;
    size_t na = a1 - a0, nb = b1 - b0;
    clipped_mean_var(s, a0, a1, &r.mean_a, &va);
    clipped_mean_var(s, b0, b1, &r.mean_b, &vb);
    r.change = r.mean_b / r.mean_a - 1;
    r.df = (double)(na + nb) - 2;
    r.pooled_var = r.df > 0 ? ((double)(na - 1) * va + (double)(nb - 1) * vb) / r.df : 0;
    double diff = r.mean_b - r.mean_a;
    double se = sqrt(r.pooled_var * (1.0 / (double)na + 1.0 / (double)nb));
    if (r.df < 1 || diff == 0)
        r.p = 1;                    /* no difference, or no spread to judge one by */
    else if (se == 0)
        r.p = 0;                    /* a difference with no spread at all is certain */
    else
        r.p = 2 * fg_t_cdf(-fabs(diff / se), r.df);
    return r;
}

/* 95 % interval of mean_b / mean_a - 1 by the delta method on the ratio,
 * with the test's pooled variance and degrees of freedom. */
static void change_interval(const level_test *t, size_t na, size_t nb, double *lo, double *hi)
{
    double ratio = t->mean_b / t->mean_a;
    double se = sqrt(t->pooled_var / (double)nb + ratio * ratio * t->pooled_var / (double)na) /
                fabs(t->mean_a);
    double q = t->df >= 1 ? fg_t_quantile(0.975, t->df) : INFINITY;
    *lo = t->change - q * se;
    *hi = t->change + q * se;
}

/* The tau in [a + min_segment, b - min_segment] with the largest energy
 * statistic; 0 when the stretch is too short. Each run's distance sums to
 * the runs before it (before[]) and after it (after[]) within the stretch
 * give every tau's three sums by prefix and suffix sums: O((b-a)^2). */
static size_t best_split(const cp_search *s, size_t a, size_t b)
{
    size_t n = b - a, min_segment = s->p.min_segment;
    if (n < 2 * min_segment) return 0;
    const double *x = s->x + a;
    double *before = s->scratch, *after = s->scratch + s->n;
    memset(before, 0, n * sizeof *before);
    memset(after, 0, n * sizeof *after);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double d = fabs(x[i] - x[j]);
            after[i] += d;
            before[j] += d;
        }
    double within_right = 0;
    for (size_t i = 0; i < n; i++) within_right += after[i];
    /* Walk tau up, moving run tau - 1 from the right side to the left:
     * left_to_later sums the left runs' distances to every later run, so
     * it holds the left side's own pairs and the cross pairs. */
    double within_left = 0, left_to_later = 0, best_q = -INFINITY;
    size_t best = 0;
    for (size_t m = 1; m + min_segment <= n; m++) {
        within_left += before[m - 1];
        within_right -= after[m - 1];
        left_to_later += after[m - 1];
        if (m < min_segment) continue;
        size_t k = n - m;
        double e = 2 * (left_to_later - within_left) / ((double)m * (double)k);
        if (m > 1) e -= within_left / ((double)m * (double)(m - 1) / 2);
        if (k > 1) e -= within_right / ((double)k * (double)(k - 1) / 2);
        double q = (double)m * (double)k / (double)n * e;
        if (q > best_q) {
            best_q = q;
            best = a + m;
        }
    }
    return best;
}

/* Proposals of [a, b), in index order, appended to s->cps. */
static void split(cp_search *s, size_t a, size_t b)
{
    size_t tau = best_split(s, a, b);
    if (!tau) return;
    if (test_levels(s, a, tau, tau, b).p > SPLIT_P_FACTOR * s->p.max_p) return;
    split(s, a, tau);
    s->cps[s->k++] = tau;
    split(s, tau, b);
}

/* The levels either side of change point i run to its neighbours. */
static size_t level_start(const cp_search *s, size_t i)
{
    return i ? s->cps[i - 1] : 0;
}

static size_t level_end(const cp_search *s, size_t i)
{
    return i + 1 < s->k ? s->cps[i + 1] : s->n;
}

static void retest(cp_search *s, size_t i)
{
    s->tests[i] = test_levels(s, level_start(s, i), s->cps[i], s->cps[i], level_end(s, i));
}

/* Drops proposals until every one left passes both bars. */
static void merge(cp_search *s)
{
    for (size_t i = 0; i < s->k; i++) retest(s, i);
    while (s->k > 0) {
        size_t weakest = 0;
        for (size_t i = 1; i < s->k; i++)
            if (s->tests[i].p > s->tests[weakest].p) weakest = i;
        if (s->tests[weakest].p <= s->p.max_p) {
            for (size_t i = 1; i < s->k; i++)
                if (fabs(s->tests[i].change) < fabs(s->tests[weakest].change)) weakest = i;
            if (fabs(s->tests[weakest].change) >= s->p.min_magnitude) break;
        }
        size_t after = s->k - weakest - 1;
        memmove(s->cps + weakest, s->cps + weakest + 1, after * sizeof *s->cps);
        memmove(s->tests + weakest, s->tests + weakest + 1, after * sizeof *s->tests);
        s->k--;
        /* Only the two neighbours' levels changed. */
        if (weakest > 0) retest(s, weakest - 1);
        if (weakest < s->k) retest(s, weakest);
    }
}

static void search_free(cp_search *s)
{
    free(s->scratch);
    free(s->cps);
    free(s->tests);
}

/* Runs the search; s is freed by search_free whatever the result. */
static int search(const double *x, size_t n, const fg_cp_opts *o, cp_search *s, fg_err *err)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return fg_err_set(err, "changepoints: value %zu is %g", i, x[i]);
    s->x = x;
    s->n = n;
    s->p = (cp_params){DEFAULT_MAX_P, DEFAULT_MIN_MAGNITUDE, DEFAULT_MIN_SEGMENT};
    if (o && o->max_p > 0) s->p.max_p = o->max_p;
    if (o && o->min_magnitude > 0) s->p.min_magnitude = o->min_magnitude;
    if (o && o->min_segment > 0) s->p.min_segment = o->min_segment;
    if (n < 2 * s->p.min_segment) return 0;
    s->scratch = malloc(2 * n * sizeof *s->scratch);
    s->cps = malloc(n * sizeof *s->cps);
    s->tests = malloc(n * sizeof *s->tests);
    if (!s->scratch || !s->cps || !s->tests)
        return fg_err_set(err, "changepoints: out of memory for %zu values", n);
    split(s, 0, n);
    merge(s);
    return 0;
}

int fg_changepoints(const double *x, size_t n, const fg_cp_opts *o, fg_change_point **out,
                    size_t *n_out, fg_err *err)
{
    *out = NULL;
    *n_out = 0;
    cp_search s;
    int rc = search(x, n, o, &s, err);
    if (rc == 0 && s.k > 0) {
        *out = malloc(s.k * sizeof **out);
        if (!*out) rc = fg_err_set(err, "changepoints: out of memory for %zu change points", s.k);
    }
    for (size_t i = 0; rc == 0 && i < s.k; i++) {
        fg_change_point *c = &(*out)[i];
        c->index = s.cps[i];
        c->mean_before = s.tests[i].mean_a;
        c->mean_after = s.tests[i].mean_b;
        c->change = s.tests[i].change;
        c->p = s.tests[i].p;
        change_interval(&s.tests[i], c->index - level_start(&s, i), level_end(&s, i) - c->index,
                        &c->ci_lo, &c->ci_hi);
    }
    if (rc == 0) *n_out = s.k;
    search_free(&s);
    return rc;
}

int fg_changepoints_check(const double *x, size_t n, int higher_is_worse, double margin,
                          size_t window, const fg_cp_opts *o, fg_cp_verdict *v, fg_err *err)
{
    memset(v, 0, sizeof *v);
    cp_search s;
    if (search(x, n, o, &s, err) != 0) {
        search_free(&s);
        return -1;
    }
    if (!window) window = DEFAULT_RECENT_WINDOW;
    size_t recent_from = n > window ? n - window : 0, earliest = s.k;
    for (size_t i = s.k; i-- > 0 && s.cps[i] >= recent_from;) earliest = i;
    v->level_from = s.k ? s.cps[s.k - 1] : 0;
    v->reference_from = v->reference_to = v->level_from;
    if (earliest < s.k) {
        v->reference_from = level_start(&s, earliest);
        v->reference_to = s.cps[earliest];
        level_test t = test_levels(&s, v->reference_from, v->reference_to, v->level_from, n);
        v->change = t.change;
        change_interval(&t, v->reference_to - v->reference_from, n - v->level_from, &v->ci_lo,
                        &v->ci_hi);
        v->worse = higher_is_worse ? v->change > margin : v->change < -margin;
    }
    search_free(&s);
    return 0;
}
