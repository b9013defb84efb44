/* meanshift.c — mean-shift clustering with a flat kernel, step for step as scikit-learn 1.2's
 * mean_shift (Comaniciu & Meer, IEEE PAMI 2002):
 *   seeds      every row, or with bin seeding the centres of the grid cells of side bandwidth
 *              (coordinates rounded half to even, as numpy) holding >= min_bin_freq rows;
 *   each seed  moves to the mean of the rows within the bandwidth until it moves less than
 *              1e-3 bandwidth or max_iter is reached; its intensity is the number of rows in
 *              its last window (seeds whose window empties are dropped);
 *   merging    modes sorted by (intensity, coordinates) decreasing, each surviving mode
 *              suppresses every other within the bandwidth;
 *   labels     every row to its nearest centre, or with cluster_all = 0, -1 beyond the
 *              bandwidth.
 * Range queries use the box tree (boxtree.h); seeds run in parallel, each on its own. */
#include "boxtree.h"
#include "cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

MeanShiftParams meanshift_params_default(double bandwidth)
{
    return (MeanShiftParams){.bandwidth = bandwidth, .bin_seeding = 0, .min_bin_freq = 1,
                             .cluster_all = 1, .max_iter = 300};
}

static double sqdist_fd(const float *a, const float *b, int d)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < d; j++) {
        const double t = (double)a[j] - b[j];
        s += t * t;
    }
    return s;
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

StatusCode meanshift_estimate_bandwidth(const float *x, int n, int d, double quantile,
                                        int n_samples, uint64_t seed, double *bandwidth,
                                        Status *st)
{
    StatusCode rc = cluster_check_data("estimate_bandwidth", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (!(quantile > 0.0 && quantile <= 1.0))
        return status_fail(st, TK_EINVAL, "estimate_bandwidth: quantile %g must be in (0, 1]",
                           quantile);
    const int m = n_samples > 0 && n_samples < n ? n_samples : n;
    int *rows = malloc((size_t)n * sizeof *rows);
    const int n_threads = threads_max();
    float *dist = malloc((size_t)n_threads * m * sizeof *dist);
    if (!rows || !dist) {
        free(rows);
        free(dist);
        return status_fail(st, TK_ENOMEM, "estimate_bandwidth: cannot allocate for %d rows", m);
    }
    for (int i = 0; i < n; i++)
        rows[i] = i;
    if (m < n) {
        Rng rng;
        rng_seed(&rng, seed, 0);
        rng_shuffle_int(&rng, rows, (size_t)n);
    }
    /* sklearn: NearestNeighbors(n_neighbors = int(m * quantile)) on the sample itself, so each
     * row's own zero distance is the first of its k. */
    int k = (int)(m * quantile);
    if (k < 1)
        k = 1;
    double total = 0.0;
#pragma omp parallel for schedule(dynamic, 8) reduction(+ : total) num_threads(n_threads)
    for (int a = 0; a < m; a++) {
        float *row = dist + (size_t)omp_get_thread_num() * m;
        const float *xa = x + (size_t)rows[a] * d;
        for (int b = 0; b < m; b++)
            row[b] = (float)sqdist_fd(xa, x + (size_t)rows[b] * d, d);
        qsort(row, (size_t)m, sizeof *row, cmp_float);
        total += sqrt((double)row[k - 1]);
    }
    *bandwidth = total / m;
    free(rows);
    free(dist);
    return TK_OK;
}

/* A row's grid cell, carrying its length so that qsort can compare two. */
typedef struct {
    const long *cell;
    int d, row;
} BinRow;

static int cmp_bin_rows(const void *a, const void *b)
{
    const BinRow *p = a, *q = b;
    for (int t = 0; t < p->d; t++)
        if (p->cell[t] != q->cell[t])
            return p->cell[t] < q->cell[t] ? -1 : 1;
    return (p->row > q->row) - (p->row < q->row);
}

static int cmp_int(const void *a, const void *b)
{
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* sklearn's get_bin_seeds: cells in order of their first row. *seeds = NULL means "every row"
 * (also when every row has its own cell, as sklearn falls back then). */
static StatusCode bin_seeds(const float *x, int n, int d, double bw, int min_freq,
                            float **seeds, int *count, Status *st)
{
    long *cells = malloc((size_t)n * d * sizeof *cells);
    BinRow *order = malloc((size_t)n * sizeof *order);
    int *first = malloc((size_t)n * sizeof *first);
    StatusCode rc = TK_OK;
    *seeds = NULL;
    *count = 0;
    if (!cells || !order || !first) {
        rc = status_fail(st, TK_ENOMEM, "mean-shift: cannot bin %d rows", n);
        goto done;
    }
    for (size_t i = 0; i < (size_t)n * d; i++)
        cells[i] = (long)nearbyint(x[i] / bw); /* half to even, as numpy.round */
    for (int i = 0; i < n; i++)
        order[i] = (BinRow){cells + (size_t)i * d, d, i};
    qsort(order, (size_t)n, sizeof *order, cmp_bin_rows);
    /* Runs of equal cells; the first row of a run is its lowest (ties sort by row). */
    int bins = 0;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && memcmp(order[j].cell, order[i].cell, (size_t)d * sizeof *cells) == 0)
            j++;
        if (j - i >= min_freq)
            first[bins++] = order[i].row;
        i = j;
    }
    if (bins == n)
        goto done;
    qsort(first, (size_t)bins, sizeof *first, cmp_int);
    *seeds = malloc((size_t)(bins > 0 ? bins : 1) * d * sizeof **seeds);
    if (!*seeds) {
        rc = status_fail(st, TK_ENOMEM, "mean-shift: cannot allocate %d seeds", bins);
        goto done;
    }
    for (int b = 0; b < bins; b++)
        for (int t = 0; t < d; t++)
            (*seeds)[(size_t)b * d + t] = (float)(cells[(size_t)first[b] * d + t] * bw);
    *count = bins;
done:
    free(cells);
    free(order);
    free(first);
    return rc;
}

typedef struct {
    const float *mean; /* d */
    int d, intensity;
} Mode;

/* One seed's climb (sklearn's _mean_shift_single_seed): the final mean, and the number of rows
 * in its last window (0 when the window emptied: the seed is dropped). sum is d scratch. */
static int climb(const BoxTree *t, const float *seed, double bw, int max_iter, float *mean,
                 double *sum)
{
    const int d = t->d;
    const double r2 = bw * bw, stop = 1e-3 * bw;
    memcpy(mean, seed, (size_t)d * sizeof *mean);
    for (int it = 0;; it++) {
        const int count = box_range_sum(t, mean, (float)r2, r2, sum);
        if (count == 0)
            return 0;
        double moved = 0.0;
        for (int j = 0; j < d; j++) {
            const float next = (float)(sum[j] / count);
            moved += ((double)next - mean[j]) * ((double)next - mean[j]);
            mean[j] = next;
        }
        if (sqrt(moved) < stop || it == max_iter)
            return count;
    }
}

/* Decreasing intensity, then decreasing coordinates: sklearn sorts (intensity, centre) in
 * reverse. */
static int cmp_modes(const void *a, const void *b)
{
    const Mode *p = a, *q = b;
    if (p->intensity != q->intensity)
        return p->intensity > q->intensity ? -1 : 1;
    for (int j = 0; j < p->d; j++)
        if (p->mean[j] != q->mean[j])
            return p->mean[j] > q->mean[j] ? -1 : 1;
    return 0;
}

StatusCode meanshift_fit(const float *x, int n, int d, const MeanShiftParams *p,
                         float **centers_out, int *n_centers, int *labels, Status *st)
{
    StatusCode rc = cluster_check_data("mean-shift", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    const double bw = p->bandwidth;
    if (!(bw > 0.0) || !isfinite(bw))
        return status_fail(st, TK_EINVAL, "mean-shift: bandwidth %g must be a finite number > 0",
                           bw);
    if (p->max_iter < 0)
        return status_fail(st, TK_EINVAL, "mean-shift: max_iter %d < 0", p->max_iter);
    float *bins = NULL, *means = NULL, *centers = NULL;
    Mode *modes = NULL;
    unsigned char *keep = NULL;
    double *sums = NULL;
    int n_seeds = n;
    if (p->bin_seeding &&
        (rc = bin_seeds(x, n, d, bw, p->min_bin_freq > 0 ? p->min_bin_freq : 1, &bins,
                        &n_seeds, st)) != TK_OK)
        return rc;
    if (!bins)
        n_seeds = n;
    const float *seeds = bins ? bins : x;
    BoxTree t;
    if ((rc = box_build(&t, x, n, d, st)) != TK_OK) {
        free(bins);
        return rc;
    }
    const int n_threads = threads_max();
    means = malloc((size_t)(n_seeds > 0 ? n_seeds : 1) * d * sizeof *means);
    modes = malloc((size_t)(n_seeds > 0 ? n_seeds : 1) * sizeof *modes);
    sums = malloc((size_t)n_threads * d * sizeof *sums);
    if (!means || !modes || !sums) {
        rc = status_fail(st, TK_ENOMEM, "mean-shift: cannot allocate %d seeds", n_seeds);
        goto done;
    }
#pragma omp parallel for schedule(dynamic, 4) num_threads(n_threads)
    for (int s = 0; s < n_seeds; s++) {
        float *m = means + (size_t)s * d;
        modes[s] = (Mode){m, d, climb(&t, seeds + (size_t)s * d, bw, p->max_iter, m,
                                      sums + (size_t)omp_get_thread_num() * d)};
    }
    int count = 0;
    for (int s = 0; s < n_seeds; s++)
        if (modes[s].intensity > 0)
            modes[count++] = modes[s];
    if (count == 0) {
        rc = status_fail(st, TK_EINVAL,
                         "mean-shift: no seed has a row within bandwidth %g; it is too small",
                         bw);
        goto done;
    }
    qsort(modes, (size_t)count, sizeof *modes, cmp_modes);
    /* Identical modes are one (sklearn keys them in a dict); equal ones are now adjacent. */
    int unique = 0;
    for (int s = 0; s < count; s++)
        if (unique == 0 || memcmp(modes[s].mean, modes[unique - 1].mean, (size_t)d * sizeof(float)))
            modes[unique++] = modes[s];
    keep = malloc((size_t)unique);
    if (!keep) {
        rc = status_fail(st, TK_ENOMEM, "mean-shift: cannot allocate %d modes", unique);
        goto done;
    }
    memset(keep, 1, (size_t)unique);
    const double r2 = bw * bw;
    int kept = 0;
    for (int a = 0; a < unique; a++) {
        if (!keep[a])
            continue;
        kept++;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (unique > 4096)
        for (int b = 0; b < unique; b++)
            if (b != a && keep[b] && sqdist_fd(modes[a].mean, modes[b].mean, d) <= r2)
                keep[b] = 0;
    }
    centers = malloc((size_t)kept * d * sizeof *centers);
    if (!centers) {
        rc = status_fail(st, TK_ENOMEM, "mean-shift: cannot allocate %d centres", kept);
        goto done;
    }
    for (int a = 0, c = 0; a < unique; a++)
        if (keep[a])
            memcpy(centers + (size_t)c++ * d, modes[a].mean, (size_t)d * sizeof *centers);
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (int i = 0; i < n; i++) {
        double best = INFINITY;
        int arg = 0;
        for (int c = 0; c < kept; c++) {
            const double v = sqdist_fd(x + (size_t)i * d, centers + (size_t)c * d, d);
            if (v < best) {
                best = v;
                arg = c;
            }
        }
        labels[i] = p->cluster_all || best <= r2 ? arg : -1;
    }
    *centers_out = centers;
    *n_centers = kept;
    centers = NULL;
done:
    free(bins);
    free(means);
    free(modes);
    free(keep);
    free(sums);
    free(centers);
    box_free(&t);
    return rc;
}
