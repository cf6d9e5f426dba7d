/* reservoir.c — bounded uniform sampling of latencies (design in
 * reservoir.h).
 *
 * Algorithm R: the first cap values are kept; value i (0-based) after them
 * replaces a random slot with probability cap / (i + 1). Memory grows with
 * the values kept, never past cap (10 000 doubles, 80 KB, per cell: a long
 * run no longer grows by one sample per request). The random numbers are
 * splitmix64 (fg_mix64 over a counter), not rand(): the same on every libc,
 * so a seed reproduces the sample.
 *
 * Merging draws each output value's source in proportion to the values the
 * sources have left unpicked (an urn of sum(totals) balls, drawn without
 * replacement), which is what a uniform sample of the union would contain,
 * then takes that many values from each source's sample by a partial
 * Fisher–Yates shuffle of a copy. */
#include "flowgate/reservoir.h"

#include <stdlib.h>
#include <string.h>

static uint64_t next64(uint64_t *s)
{
    uint64_t z = fg_mix64(*s);
    *s += 0x9e3779b97f4a7c15ull;
    return z;
}

/* Uniform in [0, n), n >= 1; rejection removes the modulo bias. */
static uint64_t below(uint64_t *s, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next64(s); while (x >= limit);
    return x % n;
}

void fg_reservoir_init(fg_reservoir *r, size_t cap, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->cap = cap ? cap : 1;
    r->rng = seed;
}

void fg_reservoir_free(fg_reservoir *r)
{
    free(r->v);
    r->v = NULL;
    r->n = r->alloc = 0;
    r->total = 0;
}

static int reserve(fg_reservoir *r, size_t want)
{
    if (want <= r->alloc) return 0;
    size_t alloc = r->alloc ? 2 * r->alloc : 64;
    if (alloc < want) alloc = want;
    if (alloc > r->cap) alloc = r->cap;
    double *v = realloc(r->v, alloc * sizeof *v);
    if (!v) return -1;
    r->v = v;
    r->alloc = alloc;
    return 0;
}

int fg_reservoir_add(fg_reservoir *r, double v)
{
    uint64_t i = r->total++;
    if (r->n < r->cap) {
        if (reserve(r, r->n + 1) != 0) return -1;
        r->v[r->n++] = v;
        return 0;
    }
    uint64_t j = below(&r->rng, i + 1);
    if (j < r->cap) r->v[j] = v;
    return 0;
}

int fg_reservoir_merge(fg_reservoir *out, const double *const *samples, const size_t *n,
                       const uint64_t *totals, int k, fg_err *err)
{
    if (out->n || out->total) return fg_err_set(err, "merging samples into a non-empty one");
    uint64_t left_total = 0;
    for (int j = 0; j < k; j++) {
        uint64_t need = totals[j] < out->cap ? totals[j] : out->cap;
        if (n[j] < need || n[j] > totals[j])
            return fg_err_set(err, "sample %d: %zu values for %llu recorded (a uniform sample "
                              "of at least %llu needed)", j + 1, n[j],
                              (unsigned long long)totals[j], (unsigned long long)need);
        left_total += totals[j];
    }
    uint64_t want = left_total < out->cap ? left_total : out->cap;
    size_t *take = calloc(k > 0 ? (size_t)k : 1, sizeof *take);
    uint64_t *left = malloc((k > 0 ? (size_t)k : 1) * sizeof *left);
    if (!take || !left || reserve(out, out->n + want) != 0) {
        free(take);
        free(left);
        return fg_err_set(err, "out of memory merging samples");
    }
    memcpy(left, totals, (size_t)k * sizeof *left);
    for (uint64_t d = 0; d < want; d++) {
        uint64_t ball = below(&out->rng, left_total);
        int j = 0;
        while (ball >= left[j]) ball -= left[j++];
        left[j]--;
        left_total--;
        take[j]++;
    }
    int rc = 0;
    for (int j = 0; j < k && rc == 0; j++) {
        if (!take[j]) continue;
        double *copy = malloc(n[j] * sizeof *copy);
        if (!copy) {
            rc = fg_err_set(err, "out of memory merging samples");
            break;
        }
        memcpy(copy, samples[j], n[j] * sizeof *copy);
        for (size_t i = 0; i < take[j]; i++) {
            size_t pick = i + (size_t)below(&out->rng, n[j] - i);
            double t = copy[i];
            copy[i] = copy[pick];
            copy[pick] = t;
            out->v[out->n++] = copy[i];
        }
        free(copy);
    }
    for (int j = 0; j < k; j++) out->total += totals[j];
    free(take);
    free(left);
    return rc;
}
