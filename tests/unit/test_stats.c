/* test_stats.c — the statistics behind the regression gate (stats.c):
 * Student's t CDF and quantile against known table values and mpmath,
 * Welch's and the paired t-test against mpmath-computed references,
 * Benjamini–Hochberg against R's p.adjust, and the reported effect sizes
 * (Mann–Whitney against hand-computed values and scipy's documented
 * example, Hodges–Lehmann, percentiles, Harrell–Davis). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flowgate/stats.h"

#define assert_close(a, b, tol) do { \
    double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_); \
} while (0)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- Student's t ---------------------------------------------------------- */

/* Table values: t = 2.776 with 4 df is the two-sided 5 % point, t = 9.925
 * with 2 df the one-sided 0.5 % point; the rest from mpmath (30 digits). */
static void test_t_cdf_known_values(void **state)
{
    (void)state;
    assert_close(2 * (1 - fg_t_cdf(2.776, 4)), 0.05, 1e-4);
    assert_close(1 - fg_t_cdf(9.925, 2), 0.005, 1e-6);
    assert_close(fg_t_cdf(2.776, 4), 0.97498861084001179389, 1e-12);
    assert_close(fg_t_cdf(9.925, 2), 0.99500015562094529271, 1e-12);
    assert_close(fg_t_cdf(1, 1), 0.75, 1e-13);                 /* Cauchy */
    assert_close(fg_t_cdf(0, 7), 0.5, 1e-15);
    assert_close(fg_t_cdf(-0.5, 3), 0.32572398242407549722, 1e-12);
    assert_close(fg_t_cdf(0.3, 2.5), 0.60632881425240139276, 1e-12);   /* fractional df */
    assert_close(fg_t_cdf(12, 5), 0.99996455253741419239, 1e-12);
    assert_close(fg_t_cdf(-40, 3), 0.000017190340394579264142, 1e-15);
    assert_close(fg_t_cdf(INFINITY, 3), 1, 0);
    assert_close(fg_t_cdf(-INFINITY, 3), 0, 0);
    assert_true(isnan(fg_t_cdf(1, 0)));
    assert_true(isnan(fg_t_cdf(NAN, 3)));
}

static void test_t_quantile_known_values(void **state)
{
    (void)state;
    assert_close(fg_t_quantile(0.975, 4), 2.7764451051977934898, 1e-9);
    assert_close(fg_t_quantile(0.995, 2), 9.9248432009182886403, 1e-8);
    assert_close(fg_t_quantile(0.95, 10), 1.8124611228116758693, 1e-9);
    assert_close(fg_t_quantile(0.975, 1e6), 1.9599663568141066553, 1e-6);   /* ~ normal */
    assert_close(fg_t_quantile(0.05, 3.7), -2.182493803914601953, 1e-9);
    assert_close(fg_t_quantile(0.9995, 1), 636.61924876878972983, 1e-6);
    assert_close(fg_t_quantile(0.5, 3), 0, 0);
    /* Inverse of the CDF. */
    for (double p = 0.01; p < 1; p += 0.07)
        assert_close(fg_t_cdf(fg_t_quantile(p, 6.5), 6.5), p, 1e-12);
    assert_true(isnan(fg_t_quantile(0, 3)));
    assert_true(isnan(fg_t_quantile(1, 3)));
    assert_true(isnan(fg_t_quantile(0.9, -1)));
}

/* References from mpmath on the same doubles. */
static void test_welch_and_paired(void **state)
{
    (void)state;
    const double x[] = {19.1, 20.3, 18.7, 21.0, 19.9}, y[] = {22.4, 21.8, 23.9, 22.0};
    fg_ttest t;
    assert_int_equal(fg_welch_t(x, 5, y, 4, &t), 0);
    assert_close(t.diff, 2.7249999999999994671, 1e-12);
    assert_close(t.se, 0.62898728127045591166, 1e-12);
    assert_close(t.df, 6.4693690833059783616, 1e-10);
    assert_close(t.t, 4.3323610526685464232, 1e-10);
    assert_close(t.p_greater, 0.0020618823662252135993, 1e-12);
    assert_close(t.p_less, 1 - 0.0020618823662252135993, 1e-12);
    /* Swapped sides: the mirror image. */
    assert_int_equal(fg_welch_t(y, 4, x, 5, &t), 0);
    assert_close(t.diff, -2.725, 1e-12);
    assert_close(t.p_less, 0.0020618823662252135993, 1e-12);

    const double d[] = {0.12, -0.03, 0.08, 0.15, 0.02};
    assert_int_equal(fg_paired_t(d, 5, &t), 0);
    assert_close(t.diff, 0.068, 1e-15);
    assert_close(t.se, 0.032771939216347877275, 1e-13);
    assert_close(t.df, 4, 0);
    assert_close(t.t, 2.0749458721710016528, 1e-11);
    assert_close(t.p_greater, 0.053315599480626155861, 1e-11);
    assert_close(fg_ttest_bound(&t, 0.95), 0.13786475330006354385, 1e-9);
    assert_true(fg_ttest_bound(&t, 0.05) < t.diff);        /* a lower bound */

    /* Degenerate: too few values; no spread. */
    assert_int_equal(fg_welch_t(x, 1, y, 4, &t), -1);
    assert_int_equal(fg_paired_t(d, 1, &t), -1);
    const double same[] = {1, 1, 1}, more[] = {2, 2, 2};
    assert_int_equal(fg_welch_t(same, 3, same, 3, &t), 0);
    assert_close(t.p_greater, 1, 0);
    assert_close(t.p_less, 1, 0);
    assert_int_equal(fg_welch_t(same, 3, more, 3, &t), 0);
    assert_close(t.p_greater, 0, 0);
    assert_close(t.p_less, 1, 0);
    assert_close(t.df, 4, 0);
    assert_close(fg_ttest_bound(&t, 0.95), 1, 0);
}

/* R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02;
 * p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205), "BH")
 * = 0.008 0.032 0.0672 0.0672 0.0672 0.08 0.08457143 0.205. */
static void test_benjamini_hochberg(void **state)
{
    (void)state;
    const double p1[] = {0.01, 0.04, 0.03, 0.005};
    double q1[4];
    assert_int_equal(fg_bh_adjust(p1, 4, q1), 4);
    assert_close(q1[0], 0.02, 1e-15);
    assert_close(q1[1], 0.04, 1e-15);
    assert_close(q1[2], 0.04, 1e-15);
    assert_close(q1[3], 0.02, 1e-15);
    const double p2[] = {0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205};
    const double want[] = {0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.084571428571428575,
                           0.205};
    double q2[8];
    assert_int_equal(fg_bh_adjust(p2, 8, q2), 8);
    for (int i = 0; i < 8; i++) assert_close(q2[i], want[i], 1e-12);
    /* NAN is no test: m counts the others, q stays NAN. */
    const double p3[] = {0.01, NAN, 0.04, 0.03, 0.005};
    double q3[5];
    assert_int_equal(fg_bh_adjust(p3, 5, q3), 4);
    assert_true(isnan(q3[1]));
    assert_close(q3[0], 0.02, 1e-15);
    assert_close(q3[4], 0.02, 1e-15);
    /* Capped at 1. */
    const double p4[] = {0.9, 0.95};
    double q4[2];
    assert_int_equal(fg_bh_adjust(p4, 2, q4), 2);
    assert_close(q4[0], 0.95, 1e-15);
    assert_close(q4[1], 0.95, 1e-15);
    assert_int_equal(fg_bh_adjust(p4, 0, q4), 0);
}

/* ---- effect sizes (reported) ---------------------------------------------------------- */

static void test_mann_whitney_hand_computed(void **state)
{
    (void)state;
    fg_mwu r;
    /* No overlap: U = 3*3 = 9, mean 4.5, var = 9/12 * 7 = 5.25.
     * p_greater = Q((9 - 4.5 - 0.5)/sqrt(5.25)) = Q(1.7457) = 0.040428 */
    const double x1[] = {1, 2, 3}, y1[] = {4, 5, 6};
    assert_int_equal(fg_mann_whitney(x1, 3, y1, 3, &r), 0);
    assert_close(r.u, 9, 0);
    assert_close(r.p_greater, 0.04042779918502615, 1e-12);
    assert_close(r.p_less, 0.9854518341293739, 1e-12);

    /* Ties: ranks 1 | 3 3 3 | 5.5 5.5 | 7, y holds 2,3,4 → R = 15.5,
     * U = 15.5 - 6 = 9.5; tie term (27-3)+(8-2) = 30,
     * var = 12/12 * (8 - 30/42) = 7.285714; sd = 2.699206;
     * p_greater = Q((9.5 - 6 - 0.5)/2.699206) = Q(1.11144) = 0.133190 */
    const double x2[] = {1, 2, 2, 3}, y2[] = {2, 3, 4};
    assert_int_equal(fg_mann_whitney(x2, 4, y2, 3, &r), 0);
    assert_close(r.u, 9.5, 0);
    assert_close(r.p_greater, 0.1331899616712413, 1e-12);
    assert_close(r.p_less, 0.9308188290598747, 1e-12);
}

/* scipy.stats.mannwhitneyu docs: males = [19, 22, 16, 29, 24],
 * females = [20, 11, 17, 12] give U1 = 17 and, with method="asymptotic",
 * the two-sided p = 0.11134688653314041; one-sided is half of it. */
static void test_mann_whitney_scipy_example(void **state)
{
    (void)state;
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    fg_mwu r;
    assert_int_equal(fg_mann_whitney(females, 4, males, 5, &r), 0);
    assert_close(r.u, 17, 0);
    assert_close(2 * r.p_greater, 0.11134688653314041, 1e-12);
    assert_int_equal(fg_mann_whitney(males, 5, females, 4, &r), 0);
    assert_close(r.u, 3, 0);
    assert_close(2 * r.p_less, 0.11134688653314041, 1e-12);
}

static void test_mann_whitney_degenerate(void **state)
{
    (void)state;
    const double same[] = {5, 5, 5, 5};
    fg_mwu r;
    assert_int_equal(fg_mann_whitney(same, 4, same, 4, &r), 0);
    assert_close(r.p_greater, 1, 0);
    assert_close(r.p_less, 1, 0);
    assert_int_equal(fg_mann_whitney(same, 0, same, 4, &r), -1);
}

static void test_hodges_lehmann_and_percentiles(void **state)
{
    (void)state;
    /* y - x: 1 3 5 0 2 4 -1 1 3 → sorted -1 0 1 1 2 3 3 4 5, median 2 */
    const double x[] = {1, 2, 3}, y[] = {2, 4, 6};
    assert_close(fg_hodges_lehmann(x, 3, y, 3), 2, 0);
    /* Even count: {10, 20} - {0} → median of 10, 20 = 15 */
    const double x2[] = {0}, y2[] = {10, 20};
    assert_close(fg_hodges_lehmann(x2, 1, y2, 2), 15, 0);
    const double s[] = {1, 2, 3, 4};
    assert_close(fg_percentile_sorted(s, 4, 50), 2.5, 1e-12);
    assert_close(fg_percentile_sorted(s, 4, 95), 3.85, 1e-12);
    assert_close(fg_percentile_sorted(s, 4, 0), 1, 0);
    assert_close(fg_percentile_sorted(s, 4, 100), 4, 0);
    assert_true(isnan(fg_percentile_sorted(s, 0, 50)));

    /* Harrell–Davis: reference values from mpmath's regularized incomplete
     * beta (weights I_{i/n}(p(n+1), (1-p)(n+1)) - I_{(i-1)/n}(...)). */
    const double five[] = {1, 2, 3, 4, 5};
    assert_close(fg_hd_quantile(five, 5, 50), 3, 1e-12);
    assert_close(fg_hd_quantile(five, 5, 95), 4.92679658443038248, 1e-10);
    const double tens[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    assert_close(fg_hd_quantile(tens, 10, 95), 97.9205724574050362, 1e-9);
    double pi[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4};
    qsort(pi, 20, sizeof *pi, cmp_double);
    assert_close(fg_hd_quantile(pi, 20, 95), 8.95232993148437450, 1e-10);
    assert_true(isnan(fg_hd_quantile(five, 0, 95)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_cdf_known_values),
        cmocka_unit_test(test_t_quantile_known_values),
        cmocka_unit_test(test_welch_and_paired),
        cmocka_unit_test(test_benjamini_hochberg),
        cmocka_unit_test(test_mann_whitney_hand_computed),
        cmocka_unit_test(test_mann_whitney_scipy_example),
        cmocka_unit_test(test_mann_whitney_degenerate),
        cmocka_unit_test(test_hodges_lehmann_and_percentiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
