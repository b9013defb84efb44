/* metrics.c — how good a clustering or a classifier is, computed as scikit-learn 1.2 computes
 * it: silhouette, adjusted Rand index (from the pair confusion counts), normalised mutual
 * information (arithmetic mean of the entropies), accuracy after a one-to-one Hungarian match
 * of clusters to classes, confusion matrix, precision/recall/F1 per class, macro and weighted.
 * Label values are arbitrary ints: the pair-counting metrics work on the sorted distinct
 * (a, b) pairs, so nothing is sized by the largest label. */
#include "cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Tile of the silhouette's distance matrix computed by one sgemm call. */
#define SIL_ROWS 128
#define SIL_COLS 2048

static int cmp_int(const void *a, const void *b)
{
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_pair(const void *a, const void *b)
{
    const long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Maps labels to 0..count-1 in increasing label order; ids (n) may be NULL. */
static StatusCode compact_labels(const int *labels, int n, int *ids, int *count, Status *st)
{
    int *sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted)
        return status_fail(st, TK_ENOMEM, "metrics: cannot allocate %d labels", n);
    memcpy(sorted, labels, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_int);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            sorted[u++] = sorted[i];
    if (ids)
        for (int i = 0; i < n; i++) {
            const int *at = bsearch(&labels[i], sorted, (size_t)u, sizeof *sorted, cmp_int);
            ids[i] = (int)(at - sorted);
        }
    free(sorted);
    *count = u;
    return TK_OK;
}

/* The sparse contingency table of two labellings: the cells' counts (sorted by (a, b)), the
 * row sums and the column sums. All arrays malloc'ed; the caller frees. */
typedef struct {
    int ka, kb, cells;
    long *cell;   /* cells */
    int *cell_a, *cell_b; /* cells: each cell's row and column */
    long *row;    /* ka */
    long *col;    /* kb */
} Contingency;

static void contingency_free(Contingency *c)
{
    free(c->cell);
    free(c->cell_a);
    free(c->cell_b);
    free(c->row);
    free(c->col);
}

static StatusCode contingency(const int *a, const int *b, int n, Contingency *c, Status *st)
{
    memset(c, 0, sizeof *c);
    if (n < 1)
        return status_fail(st, TK_EINVAL, "metrics: empty label vectors");
    int *ia = malloc((size_t)n * sizeof *ia), *ib = malloc((size_t)n * sizeof *ib);
    long *pair = malloc((size_t)n * sizeof *pair);
    StatusCode rc = TK_OK;
    if (!ia || !ib || !pair) {
        rc = status_fail(st, TK_ENOMEM, "metrics: cannot allocate %d labels", n);
        goto done;
    }
    if ((rc = compact_labels(a, n, ia, &c->ka, st)) != TK_OK ||
        (rc = compact_labels(b, n, ib, &c->kb, st)) != TK_OK)
        goto done;
    for (int i = 0; i < n; i++)
        pair[i] = (long)ia[i] * c->kb + ib[i];
    qsort(pair, (size_t)n, sizeof *pair, cmp_pair);
    c->cell = malloc((size_t)n * sizeof *c->cell);
    c->cell_a = malloc((size_t)n * sizeof *c->cell_a);
    c->cell_b = malloc((size_t)n * sizeof *c->cell_b);
    c->row = calloc((size_t)c->ka, sizeof *c->row);
    c->col = calloc((size_t)c->kb, sizeof *c->col);
    if (!c->cell || !c->cell_a || !c->cell_b || !c->row || !c->col) {
        rc = status_fail(st, TK_ENOMEM, "metrics: cannot allocate the contingency table");
        contingency_free(c);
        goto done;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && pair[j] == pair[i])
            j++;
        c->cell_a[c->cells] = (int)(pair[i] / c->kb);
        c->cell_b[c->cells] = (int)(pair[i] % c->kb);
        c->cell[c->cells++] = j - i;
        c->row[pair[i] / c->kb] += j - i;
        c->col[pair[i] % c->kb] += j - i;
        i = j;
    }
done:
    free(ia);
    free(ib);
    free(pair);
    return rc;
}

StatusCode metric_ari(const int *a, const int *b, int n, double *ari, Status *st)
{
    Contingency c;
    StatusCode rc = contingency(a, b, n, &c, st);
    if (rc != TK_OK)
        return rc;
    /* sklearn's pair_confusion_matrix, in exact integers as far as they go. */
    long double sum_sq = 0, row_sq = 0, col_sq = 0;
    for (int i = 0; i < c.cells; i++)
        sum_sq += (long double)c.cell[i] * c.cell[i];
    for (int i = 0; i < c.ka; i++)
        row_sq += (long double)c.row[i] * c.row[i];
    for (int i = 0; i < c.kb; i++)
        col_sq += (long double)c.col[i] * c.col[i];
    const long double tp = sum_sq - n, fp = col_sq - sum_sq, fn = row_sq - sum_sq;
    const long double tn = (long double)n * n - fp - fn - sum_sq;
    if (fn == 0 && fp == 0)
        *ari = 1.0;
    else
        *ari = (double)(2.0L * (tp * tn - fn * fp) /
                        ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)));
    contingency_free(&c);
    return TK_OK;
}

static double entropy_of(const long *counts, int k, int n)
{
    double h = 0.0;
    for (int i = 0; i < k; i++)
        if (counts[i] > 0) {
            const double p = (double)counts[i] / n;
            h -= p * log(p);
        }
    return h;
}

StatusCode metric_nmi(const int *a, const int *b, int n, double *nmi, Status *st)
{
    Contingency c;
    StatusCode rc = contingency(a, b, n, &c, st);
    if (rc != TK_OK)
        return rc;
    if (c.ka == 1 && c.kb == 1) {
        *nmi = 1.0; /* neither labelling splits the data: a perfect match, as sklearn says */
        contingency_free(&c);
        return TK_OK;
    }
    double mi = 0.0;
    for (int i = 0; i < c.cells; i++) {
        const long nij = c.cell[i], ai = c.row[c.cell_a[i]], bj = c.col[c.cell_b[i]];
        mi += (double)nij / n * log((double)n * nij / ((double)ai * bj));
    }
    if (mi < 0)
        mi = 0;
    const double ha = entropy_of(c.row, c.ka, n), hb = entropy_of(c.col, c.kb, n);
    *nmi = mi == 0.0 ? 0.0 : mi / (0.5 * (ha + hb));
    contingency_free(&c);
    return TK_OK;
}

/* Row i's summed distance to every row, per cluster: sums[i * k + label]. Tiles of the GEMM
 * identity (float), square roots and sums in double. */
static StatusCode cluster_distance_sums(const float *x, int n, int d, const int *ids, int k,
                                        double *sums, Status *st)
{
    float *norms = malloc((size_t)n * sizeof *norms);
    const int n_threads = threads_max();
    float *tiles = malloc((size_t)n_threads * SIL_ROWS * SIL_COLS * sizeof *tiles);
    if (!norms || !tiles) {
        free(norms);
        free(tiles);
        return status_fail(st, TK_ENOMEM, "silhouette: cannot allocate work for %d rows", n);
    }
    for (int i = 0; i < n; i++)
        norms[i] = vec_sum_squares(x + (size_t)i * d, (size_t)d);
    memset(sums, 0, (size_t)n * k * sizeof *sums);
    const int row_blocks = (n + SIL_ROWS - 1) / SIL_ROWS;
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
    for (int rb = 0; rb < row_blocks; rb++) {
        float *tile = tiles + (size_t)omp_get_thread_num() * SIL_ROWS * SIL_COLS;
        const int r0 = rb * SIL_ROWS, rows = r0 + SIL_ROWS < n ? SIL_ROWS : n - r0;
        for (int c0 = 0; c0 < n; c0 += SIL_COLS) {
            const int cols = c0 + SIL_COLS < n ? SIL_COLS : n - c0;
            sgemm_ex(simd_active(), 1, GEMM_N, GEMM_T, rows, cols, d, -2.0f,
                     x + (size_t)r0 * d, d, x + (size_t)c0 * d, d, 0.0f, tile, cols);
            for (int r = 0; r < rows; r++) {
                double *s = sums + (size_t)(r0 + r) * k;
                const float *t = tile + (size_t)r * cols;
                for (int c = 0; c < cols; c++) {
                    if (c0 + c == r0 + r)
                        continue;
                    const float sq = t[c] + norms[r0 + r] + norms[c0 + c];
                    s[ids[c0 + c]] += sq > 0.0f ? sqrt((double)sq) : 0.0;
                }
            }
        }
    }
    free(norms);
    free(tiles);
    return TK_OK;
}

StatusCode metric_silhouette(const float *x, int n, int d, const int *labels, int sample,
                             uint64_t seed, double *score, Status *st)
{
    StatusCode rc = cluster_check_data("silhouette", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    const int m = sample > 0 && sample < n ? sample : n;
    float *xs = NULL;
    int *ls = malloc((size_t)m * sizeof *ls), *ids = malloc((size_t)m * sizeof *ids);
    int *perm = NULL;
    double *sums = NULL;
    long *sizes = NULL;
    if (!ls || !ids) {
        rc = status_fail(st, TK_ENOMEM, "silhouette: cannot allocate %d labels", m);
        goto done;
    }
    const float *xu = x;
    if (m < n) {
        /* sklearn's sample_size: a random subset of rows (our generator, not numpy's). */
        perm = malloc((size_t)n * sizeof *perm);
        xs = malloc((size_t)m * d * sizeof *xs);
        if (!perm || !xs) {
            rc = status_fail(st, TK_ENOMEM, "silhouette: cannot allocate a sample of %d", m);
            goto done;
        }
        for (int i = 0; i < n; i++)
            perm[i] = i;
        Rng rng;
        rng_seed(&rng, seed, 0);
        rng_shuffle_int(&rng, perm, (size_t)n);
        for (int i = 0; i < m; i++) {
            memcpy(xs + (size_t)i * d, x + (size_t)perm[i] * d, (size_t)d * sizeof *xs);
            ls[i] = labels[perm[i]];
        }
        xu = xs;
    } else {
        memcpy(ls, labels, (size_t)m * sizeof *ls);
    }
    int k;
    if ((rc = compact_labels(ls, m, ids, &k, st)) != TK_OK)
        goto done;
    if (k < 2 || k > m - 1) {
        rc = status_fail(st, TK_EINVAL,
                         "silhouette: %d distinct labels in %d rows; needs 2 to rows - 1", k, m);
        goto done;
    }
    sums = malloc((size_t)m * k * sizeof *sums);
    sizes = calloc((size_t)k, sizeof *sizes);
    if (!sums || !sizes) {
        rc = status_fail(st, TK_ENOMEM, "silhouette: cannot allocate %d x %d sums", m, k);
        goto done;
    }
    for (int i = 0; i < m; i++)
        sizes[ids[i]]++;
    if ((rc = cluster_distance_sums(xu, m, d, ids, k, sums, st)) != TK_OK)
        goto done;
    double total = 0.0;
    for (int i = 0; i < m; i++) {
        const int own = ids[i];
        if (sizes[own] == 1)
            continue; /* a singleton's silhouette is 0 */
        const double a = sums[(size_t)i * k + own] / (double)(sizes[own] - 1);
        double b = INFINITY;
        for (int c = 0; c < k; c++)
            if (c != own && sums[(size_t)i * k + c] / (double)sizes[c] < b)
                b = sums[(size_t)i * k + c] / (double)sizes[c];
        const double top = a > b ? a : b;
        total += top > 0 ? (b - a) / top : 0.0;
    }
    *score = total / m;
done:
    free(xs);
    free(ls);
    free(ids);
    free(perm);
    free(sums);
    free(sizes);
    return rc;
}

/* Hungarian algorithm with potentials (Kuhn 1955, Munkres 1957; the O(n^2 m) shortest
 * augmenting path form), rows <= cols. */
static void hungarian_wide(const double *a, int n, int m, int *assign, double *u, double *v,
                           int *p, int *way, double *minv, unsigned char *used)
{
    for (int j = 0; j <= m; j++) {
        v[j] = 0;
        p[j] = 0;
    }
    for (int i = 0; i <= n; i++)
        u[i] = 0;
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            const int i0 = p[j0];
            double delta = INFINITY;
            int j1 = 0;
            for (int j = 1; j <= m; j++) {
                if (used[j])
                    continue;
                const double cur = a[(size_t)(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            const int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int i = 0; i < n; i++)
        assign[i] = -1;
    for (int j = 1; j <= m; j++)
        if (p[j])
            assign[p[j] - 1] = j - 1;
}

StatusCode hungarian(const double *cost, int rows, int cols, int *assign, Status *st)
{
    if (rows < 1 || cols < 1)
        return status_fail(st, TK_EINVAL, "hungarian: empty %d x %d cost matrix", rows, cols);
    for (long i = 0; i < (long)rows * cols; i++)
        if (!isfinite(cost[i]))
            return status_fail(st, TK_EINVAL, "hungarian: cost row %ld column %ld not finite",
                               i / cols, i % cols);
    const int tall = rows > cols;
    const int n = tall ? cols : rows, m = tall ? rows : cols;
    double *a = malloc((size_t)n * m * sizeof *a);
    double *u = malloc((size_t)(n + 1) * sizeof *u), *v = malloc((size_t)(m + 1) * sizeof *v);
    double *minv = malloc((size_t)(m + 1) * sizeof *minv);
    int *p = malloc((size_t)(m + 1) * sizeof *p), *way = malloc((size_t)(m + 1) * sizeof *way);
    int *col_of = malloc((size_t)n * sizeof *col_of);
    unsigned char *used = malloc((size_t)(m + 1));
    StatusCode rc = TK_OK;
    if (!a || !u || !v || !minv || !p || !way || !col_of || !used) {
        rc = status_fail(st, TK_ENOMEM, "hungarian: cannot allocate a %d x %d problem", rows,
                         cols);
        goto done;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            a[(size_t)i * m + j] = tall ? cost[(size_t)j * cols + i] : cost[(size_t)i * cols + j];
    hungarian_wide(a, n, m, col_of, u, v, p, way, minv, used);
    if (!tall) {
        memcpy(assign, col_of, (size_t)rows * sizeof *assign);
    } else {
        for (int r = 0; r < rows; r++)
            assign[r] = -1;
        for (int c = 0; c < cols; c++)
            if (col_of[c] >= 0)
                assign[col_of[c]] = c;
    }
done:
    free(a);
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(col_of);
    free(used);
    return rc;
}

StatusCode metric_matched_accuracy(const int *truth, const int *pred, int n, double *acc,
                                   Status *st)
{
    if (n < 1)
        return status_fail(st, TK_EINVAL, "matched accuracy: empty label vectors");
    int *it = malloc((size_t)n * sizeof *it), *ip = malloc((size_t)n * sizeof *ip);
    double *cost = NULL;
    int *assign = NULL;
    StatusCode rc = TK_OK;
    int kt = 0, kp = 0;
    if (!it || !ip || (rc = compact_labels(truth, n, it, &kt, st)) != TK_OK ||
        (rc = compact_labels(pred, n, ip, &kp, st)) != TK_OK) {
        if (rc == TK_OK)
            rc = status_fail(st, TK_ENOMEM, "matched accuracy: cannot allocate %d labels", n);
        goto done;
    }
    if ((double)kt * kp > 1e8) {
        rc = status_fail(st, TK_EUNSUPPORTED,
                         "matched accuracy: %d clusters x %d classes is too large to match", kp,
                         kt);
        goto done;
    }
    cost = calloc((size_t)kp * kt, sizeof *cost);
    assign = malloc((size_t)kp * sizeof *assign);
    if (!cost || !assign) {
        rc = status_fail(st, TK_ENOMEM, "matched accuracy: cannot allocate %d x %d", kp, kt);
        goto done;
    }
    for (int i = 0; i < n; i++)
        cost[(size_t)ip[i] * kt + it[i]] -= 1.0;
    if ((rc = hungarian(cost, kp, kt, assign, st)) != TK_OK)
        goto done;
    double hit = 0.0;
    for (int c = 0; c < kp; c++)
        if (assign[c] >= 0)
            hit -= cost[(size_t)c * kt + assign[c]];
    *acc = hit / n;
done:
    free(it);
    free(ip);
    free(cost);
    free(assign);
    return rc;
}

StatusCode metric_confusion(const int *truth, const int *pred, int n, int n_classes, long *cm,
                            Status *st)
{
    if (n_classes < 1)
        return status_fail(st, TK_EINVAL, "confusion: %d classes", n_classes);
    memset(cm, 0, (size_t)n_classes * n_classes * sizeof *cm);
    for (int i = 0; i < n; i++) {
        if (truth[i] < 0 || truth[i] >= n_classes || pred[i] < 0 || pred[i] >= n_classes)
            return status_fail(st, TK_EINVAL,
                               "confusion: row %d: labels %d (true), %d (predicted) outside "
                               "0..%d",
                               i, truth[i], pred[i], n_classes - 1);
        cm[(size_t)truth[i] * n_classes + pred[i]]++;
    }
    return TK_OK;
}

StatusCode metric_report(const int *truth, const int *pred, int n, int n_classes,
                         ClassReport *r, Status *st)
{
    if (n < 1)
        return status_fail(st, TK_EINVAL, "report: empty label vectors");
    long *cm = malloc((size_t)n_classes * n_classes * sizeof *cm);
    if (n_classes < 1 || !cm) {
        free(cm);
        return status_fail(st, n_classes < 1 ? TK_EINVAL : TK_ENOMEM,
                           "report: cannot tabulate %d classes", n_classes);
    }
    StatusCode rc = metric_confusion(truth, pred, n, n_classes, cm, st);
    if (rc != TK_OK) {
        free(cm);
        return rc;
    }
    long correct = 0;
    r->macro_precision = r->macro_recall = r->macro_f1 = 0.0;
    r->weighted_precision = r->weighted_recall = r->weighted_f1 = 0.0;
    for (int c = 0; c < n_classes; c++) {
        long predicted = 0, support = 0;
        for (int t = 0; t < n_classes; t++) {
            predicted += cm[(size_t)t * n_classes + c];
            support += cm[(size_t)c * n_classes + t];
        }
        const long tp = cm[(size_t)c * n_classes + c];
        correct += tp;
        /* sklearn's zero_division=0: an undefined ratio counts as 0. */
        r->precision[c] = predicted > 0 ? (double)tp / predicted : 0.0;
        r->recall[c] = support > 0 ? (double)tp / support : 0.0;
        r->f1[c] = predicted + support > 0 ? 2.0 * tp / (double)(predicted + support) : 0.0;
        r->support[c] = support;
        r->macro_precision += r->precision[c] / n_classes;
        r->macro_recall += r->recall[c] / n_classes;
        r->macro_f1 += r->f1[c] / n_classes;
        r->weighted_precision += r->precision[c] * support / n;
        r->weighted_recall += r->recall[c] * support / n;
        r->weighted_f1 += r->f1[c] * support / n;
    }
    r->accuracy = (double)correct / n;
    free(cm);
    return TK_OK;
}
