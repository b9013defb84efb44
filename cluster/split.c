/* split.c — stratified train/test split and stratified k-fold: every class is spread over the
 * parts in proportion to its size, rows drawn with a seeded shuffle, so that a rare class is
 * never missing from a test set by bad luck. */
#include "cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows grouped by class in a seeded random order: order[start[c] .. start[c+1]) hold class c.
 * Classes are 0..n_classes-1 (labels must be >= 0). */
typedef struct {
    int n_classes;
    int *start; /* n_classes + 1 */
    int *order; /* n */
} ClassGroups;

static void groups_free(ClassGroups *g)
{
    free(g->start);
    free(g->order);
}

static StatusCode groups_make(const int *y, int n, uint64_t seed, ClassGroups *g, Status *st)
{
    memset(g, 0, sizeof *g);
    if (n < 1)
        return status_fail(st, TK_EINVAL, "split: no rows");
    int top = 0;
    for (int i = 0; i < n; i++) {
        if (y[i] < 0)
            return status_fail(st, TK_EINVAL, "split: row %d: label %d is negative", i, y[i]);
        if (y[i] > top)
            top = y[i];
    }
    g->n_classes = top + 1;
    g->start = calloc((size_t)g->n_classes + 1, sizeof *g->start);
    g->order = malloc((size_t)n * sizeof *g->order);
    int *fill = calloc((size_t)g->n_classes, sizeof *fill);
    if (!g->start || !g->order || !fill) {
        free(fill);
        groups_free(g);
        return status_fail(st, TK_ENOMEM, "split: cannot allocate %d rows", n);
    }
    for (int i = 0; i < n; i++)
        g->start[y[i] + 1]++;
    for (int c = 0; c < g->n_classes; c++)
        g->start[c + 1] += g->start[c];
    for (int i = 0; i < n; i++)
        g->order[g->start[y[i]] + fill[y[i]]++] = i;
    free(fill);
    Rng rng;
    rng_seed(&rng, seed, 0);
    for (int c = 0; c < g->n_classes; c++)
        rng_shuffle_int(&rng, g->order + g->start[c], (size_t)(g->start[c + 1] - g->start[c]));
    return TK_OK;
}

StatusCode split_stratified(const int *y, int n, double test_fraction, uint64_t seed,
                            unsigned char *is_test, Status *st)
{
    if (!(test_fraction > 0.0 && test_fraction < 1.0))
        return status_fail(st, TK_EINVAL, "split: test fraction %g must be in (0, 1)",
                           test_fraction);
    ClassGroups g;
    StatusCode rc = groups_make(y, n, seed, &g, st);
    if (rc != TK_OK)
        return rc;
    /* scikit-learn's test size: ceil(fraction * n); per class by largest remainder (ties to
     * the lower class). */
    const int n_test = (int)ceil(test_fraction * n);
    int *take = calloc((size_t)g.n_classes, sizeof *take);
    double *rem = calloc((size_t)g.n_classes, sizeof *rem);
    if (!take || !rem) {
        free(take);
        free(rem);
        groups_free(&g);
        return status_fail(st, TK_ENOMEM, "split: cannot allocate %d classes", g.n_classes);
    }
    int given = 0;
    for (int c = 0; c < g.n_classes; c++) {
        const double want = (double)n_test * (g.start[c + 1] - g.start[c]) / n;
        take[c] = (int)floor(want);
        rem[c] = want - take[c];
        given += take[c];
    }
    for (; given < n_test; given++) {
        int best = -1;
        for (int c = 0; c < g.n_classes; c++)
            if (take[c] < g.start[c + 1] - g.start[c] && (best < 0 || rem[c] > rem[best]))
                best = c;
        take[best]++;
        rem[best] = -1.0;
    }
    memset(is_test, 0, (size_t)n);
    for (int c = 0; c < g.n_classes; c++)
        for (int j = 0; j < take[c]; j++)
            is_test[g.order[g.start[c] + j]] = 1;
    free(take);
    free(rem);
    groups_free(&g);
    return TK_OK;
}

StatusCode split_stratified_kfold(const int *y, int n, int k, uint64_t seed, int *fold,
                                  Status *st)
{
    if (k < 2 || k > n)
        return status_fail(st, TK_EINVAL, "k-fold: %d folds for %d rows (needs 2..rows)", k, n);
    ClassGroups g;
    StatusCode rc = groups_make(y, n, seed, &g, st);
    if (rc != TK_OK)
        return rc;
    /* Dealing every class's rows round-robin, continuing where the previous class stopped,
     * keeps each class and each fold's total within one row of even. */
    int next = 0;
    for (int c = 0; c < g.n_classes; c++)
        for (int j = g.start[c]; j < g.start[c + 1]; j++) {
            fold[g.order[j]] = next;
            next = (next + 1) % k;
        }
    groups_free(&g);
    return TK_OK;
}
