/* kmeans.c — k-means as scikit-learn 1.2 does it: greedy k-means++ seeding, Lloyd or Elkan
 * iterations, its tolerance and convergence rules, its relocation of empty clusters, n_init
 * restarts keeping the lowest inertia.
 *
 * Lloyd's assignment and k-means++ take squared distances from the GEMM identity
 * ‖x‖² − 2x·c + ‖c‖² in float (kmeans_simd.h: with few centres a kernel that reads each row once
 * beats a GEMM); when the best and second-best centre of a row are closer than the identity's
 * rounding error could blur, that row is re-checked with exact double distances, so labels do
 * not depend on cancellation. Centre sums (and k-means++'s potentials) are accumulated in double
 * per fixed block of rows and the blocks added in order, so results are bit-identical for any
 * thread count.
 *
 * Algorithms: S. Lloyd (1982); C. Elkan, "Using the triangle inequality to accelerate k-means"
 * (ICML 2003); D. Arthur & S. Vassilvitskii, "k-means++" (SODA 2007), greedy variant with
 * 2 + floor(ln k) trials as in scikit-learn's _kmeans_plusplus. Convergence: labels unchanged
 * ("strict"), or the summed squared centre shift <= tol * mean per-feature variance; without
 * strict convergence the labels are recomputed against the final centres (sklearn _kmeans.py). */
#include "cluster.h"
#include "kmeans_simd.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A GEMM identity result closer to the runner-up than this fraction of ‖x‖² + ‖c‖² may have
 * the order of the two swapped by float rounding (d products of that magnitude, eps 6e-8). */
#define KMEANS_RECHECK_REL 1e-4f
/* Loops with less work than this (multiply-adds) stay on one thread: waking a team costs more,
 * and on a shared machine a descheduled thread stalls the whole step. */
#define KMEANS_PARALLEL_MIN 1000000L

typedef struct {
    int n, d, k;
    const float *x;
    float *xnorm;     /* n: ‖x‖² */
    float *cnorm;     /* kp (k rounded up to KMEANS_LANES): ‖c‖², padding 0 */
    float *ct;        /* d x kp: the centres transposed for partial_dist */
    float *dots;      /* blocks' GEMM results, block_rows x k per block in flight */
    int block_rows;   /* rows per accumulation block (depends on n only) */
    int n_blocks;
    double *sums;     /* n_blocks x k x d partial centre sums */
    long *counts;     /* n_blocks x k */
    double *center_sum; /* k x d */
    long *center_count; /* k */
    /* Elkan */
    float *upper;     /* n */
    float *lower;     /* n x k */
    float *half_cc;   /* k x k: half the distance between centres */
    float *next_half; /* k: smallest half distance to another centre */
    float *shift;     /* k */
    double *far;      /* n: squared distance to the own centre, for empty-cluster relocation */
} KMeansWork;

KMeansParams kmeans_params_default(int k)
{
    return (KMeansParams){.k = k, .max_iter = 300, .n_init = 1, .tol = 1e-4,
                          .algorithm = KMEANS_LLOYD, .seed = 0, .init = NULL};
}

static double sqdist_exact(const float *a, const float *b, int d)
{
    double s = 0.0;
    for (int j = 0; j < d; j++) {
        const double t = (double)a[j] - b[j];
        s += t * t;
    }
    return s;
}

static float dist_float(const float *a, const float *b, int d)
{
    float acc[8] = {0};
    int j = 0;
    for (; j + 8 <= d; j += 8)
        for (int l = 0; l < 8; l++) {
            const float t = a[j + l] - b[j + l];
            acc[l] += t * t;
        }
    float s = 0.0f;
    for (; j < d; j++) {
        const float t = a[j] - b[j];
        s += t * t;
    }
    for (int l = 0; l < 8; l++)
        s += acc[l];
    return sqrtf(s);
}

void kmeans_transpose_centers(const float *c, int k, int d, float *ct)
{
    const int kp = (k + KMEANS_LANES - 1) / KMEANS_LANES * KMEANS_LANES;
    for (int f = 0; f < d; f++)
        for (int j = 0; j < kp; j++)
            ct[(size_t)f * kp + j] = j < k ? c[(size_t)j * d + f] : 0.0f;
}

void kmeans_partial_dist_scalar(const float *x, int rows, int d, const float *ct,
                                const float *cnorm, int k, float *out)
{
    const int kp = (k + KMEANS_LANES - 1) / KMEANS_LANES * KMEANS_LANES;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        for (int j = 0; j < k; j++) {
            float dot = 0.0f;
            for (int f = 0; f < d; f++)
                dot += xr[f] * ct[(size_t)f * kp + j];
            out[(size_t)r * k + j] = cnorm[j] - 2.0f * dot;
        }
    }
}

static int lanes_up(int k) { return (k + KMEANS_LANES - 1) / KMEANS_LANES * KMEANS_LANES; }

/* kmeans_partial_dist on the SIMD level in use (ct transposed, cnorm padded). */
static void partial_dist(const float *x, int rows, int d, const float *ct, const float *cnorm,
                         int k, float *out)
{
    if (simd_active() >= SIMD_AVX2)
        kmeans_partial_dist_avx2(x, rows, d, ct, cnorm, k, out);
    else
        kmeans_partial_dist_scalar(x, rows, d, ct, cnorm, k, out);
}

/* ‖c_j‖² padded with zeros to kp, and the transposed copy partial_dist reads. */
static void prepare_centers(const float *c, int k, int d, float *cnorm, float *ct)
{
    const int kp = lanes_up(k);
    for (int j = 0; j < kp; j++)
        cnorm[j] = j < k ? vec_sum_squares(c + (size_t)j * d, (size_t)d) : 0.0f;
    kmeans_transpose_centers(c, k, d, ct);
}

static void row_norms(const float *x, int n, int d, float *out)
{
#pragma omp parallel for schedule(static) if ((long)n * d >= KMEANS_PARALLEL_MIN)
    for (int i = 0; i < n; i++)
        out[i] = vec_sum_squares(x + (size_t)i * d, (size_t)d);
}

/* Labels of rows [r0, r1) against centres c through the GEMM identity, with the exact
 * re-check; dots is (r1 - r0) x k scratch. */
static void assign_rows(const KMeansWork *w, const float *c, int r0, int r1, float *dots,
                        int *labels)
{
    const int d = w->d, k = w->k, rows = r1 - r0;
    partial_dist(w->x + (size_t)r0 * d, rows, d, w->ct, w->cnorm, k, dots);
    for (int r = 0; r < rows; r++) {
        const int i = r0 + r;
        const float *dr = dots + (size_t)r * k;
        float best = INFINITY, second = INFINITY;
        int arg = 0;
        for (int j = 0; j < k; j++) {
            const float v = dr[j];
            if (v < best) {
                second = best;
                best = v;
                arg = j;
            } else if (v < second) {
                second = v;
            }
        }
        if (second - best <= KMEANS_RECHECK_REL * (w->xnorm[i] + w->cnorm[arg])) {
            const float *xi = w->x + (size_t)i * d;
            double exact = INFINITY;
            for (int j = 0; j < k; j++) {
                const double v = sqdist_exact(xi, c + (size_t)j * d, d);
                if (v < exact) {
                    exact = v;
                    arg = j;
                }
            }
        }
        labels[i] = arg;
    }
}

/* Adds rows [r0, r1) into block b's partial sums by label. */
static void accumulate_block(const KMeansWork *w, int b, int r0, int r1, const int *labels)
{
    const int d = w->d, k = w->k;
    double *sum = w->sums + (size_t)b * k * d;
    long *count = w->counts + (size_t)b * k;
    memset(sum, 0, (size_t)k * d * sizeof *sum);
    memset(count, 0, (size_t)k * sizeof *count);
    for (int i = r0; i < r1; i++) {
        const float *xi = w->x + (size_t)i * d;
        double *s = sum + (size_t)labels[i] * d;
        for (int j = 0; j < d; j++)
            s[j] += xi[j];
        count[labels[i]]++;
    }
}

/* Sums the blocks in order, relocates empty clusters, divides: new centres and their shifts. */
static void finish_centers(KMeansWork *w, const float *old, float *fresh, const int *labels,
                           double *shift_tot)
{
    const int d = w->d, k = w->k, n = w->n;
    memset(w->center_sum, 0, (size_t)k * d * sizeof(double));
    memset(w->center_count, 0, (size_t)k * sizeof(long));
    for (int b = 0; b < w->n_blocks; b++) {
        const double *s = w->sums + (size_t)b * k * d;
        for (int j = 0; j < k * d; j++)
            w->center_sum[j] += s[j];
        for (int j = 0; j < k; j++)
            w->center_count[j] += w->counts[(size_t)b * k + j];
    }
    int n_empty = 0;
    for (int j = 0; j < k; j++)
        n_empty += w->center_count[j] == 0;
    if (n_empty > 0) {
        /* sklearn's _relocate_empty_clusters_dense: each empty cluster takes one of the rows
         * farthest from their own centre (farthest first), leaving that row's cluster. */
#pragma omp parallel for schedule(static) if ((long)n * d >= KMEANS_PARALLEL_MIN)
        for (int i = 0; i < n; i++)
            w->far[i] = sqdist_exact(w->x + (size_t)i * d, old + (size_t)labels[i] * d, d);
        for (int j = 0; j < k; j++) {
            if (w->center_count[j] != 0)
                continue;
            int pick = 0;
            for (int i = 1; i < n; i++)
                if (w->far[i] > w->far[pick])
                    pick = i;
            w->far[pick] = -1.0;
            const float *xp = w->x + (size_t)pick * d;
            const int from = labels[pick];
            for (int t = 0; t < d; t++) {
                w->center_sum[(size_t)from * d + t] -= xp[t];
                w->center_sum[(size_t)j * d + t] = xp[t];
            }
            w->center_count[from]--;
            w->center_count[j] = 1;
        }
    }
    double tot = 0.0;
    for (int j = 0; j < k; j++) {
        const long c = w->center_count[j];
        double s2 = 0.0;
        for (int t = 0; t < d; t++) {
            const size_t at = (size_t)j * d + t;
            /* A cluster emptied by relocation keeps its old centre (sklearn leaves it so). */
            fresh[at] = c > 0 ? (float)(w->center_sum[at] / (double)c) : old[at];
            const double diff = (double)fresh[at] - old[at];
            s2 += diff * diff;
        }
        w->shift[j] = (float)sqrt(s2);
        tot += s2;
    }
    *shift_tot = tot;
}

static void lloyd_step(KMeansWork *w, const float *c, int *labels, int accumulate)
{
    prepare_centers(c, w->k, w->d, w->cnorm, w->ct);
#pragma omp parallel for schedule(dynamic, 1) if ((long)w->n * w->k * w->d >= KMEANS_PARALLEL_MIN)
    for (int b = 0; b < w->n_blocks; b++) {
        const int r0 = b * w->block_rows;
        const int r1 = r0 + w->block_rows < w->n ? r0 + w->block_rows : w->n;
        float *dots = w->dots + (size_t)b * w->block_rows * w->k;
        assign_rows(w, c, r0, r1, dots, labels);
        if (accumulate)
            accumulate_block(w, b, r0, r1, labels);
    }
}

static void center_half_distances(KMeansWork *w, const float *c)
{
    const int k = w->k, d = w->d;
    for (int a = 0; a < k; a++) {
        w->half_cc[(size_t)a * k + a] = 0.0f;
        for (int b = a + 1; b < k; b++) {
            const float h = 0.5f * dist_float(c + (size_t)a * d, c + (size_t)b * d, d);
            w->half_cc[(size_t)a * k + b] = w->half_cc[(size_t)b * k + a] = h;
        }
    }
    for (int a = 0; a < k; a++) {
        float m = INFINITY;
        for (int b = 0; b < k; b++)
            if (b != a && w->half_cc[(size_t)a * k + b] < m)
                m = w->half_cc[(size_t)a * k + b];
        w->next_half[a] = m;
    }
}

/* sklearn's init_bounds_dense: first labels and bounds, skipping centres the triangle
 * inequality rules out (their lower bounds stay 0). */
static void elkan_init_bounds(KMeansWork *w, const float *c, int *labels)
{
    const int k = w->k, d = w->d;
    memset(w->lower, 0, (size_t)w->n * k * sizeof(float));
#pragma omp parallel for schedule(static) if ((long)w->n * w->k * w->d >= KMEANS_PARALLEL_MIN)
    for (int i = 0; i < w->n; i++) {
        const float *xi = w->x + (size_t)i * d;
        float *lo = w->lower + (size_t)i * k;
        int best = 0;
        float min_dist = dist_float(xi, c, d);
        lo[0] = min_dist;
        for (int j = 1; j < k; j++) {
            if (min_dist > w->half_cc[(size_t)best * k + j]) {
                const float dist = dist_float(xi, c + (size_t)j * d, d);
                lo[j] = dist;
                if (dist < min_dist) {
                    min_dist = dist;
                    best = j;
                }
            }
        }
        labels[i] = best;
        w->upper[i] = min_dist;
    }
}

/* sklearn's elkan_iter_chunked_dense for rows [r0, r1). */
static void elkan_rows(KMeansWork *w, const float *c, int r0, int r1, int *labels)
{
    const int k = w->k, d = w->d;
    for (int i = r0; i < r1; i++) {
        const float *xi = w->x + (size_t)i * d;
        float *lo = w->lower + (size_t)i * k;
        float upper = w->upper[i];
        int label = labels[i], tight = 0;
        if (w->next_half[label] >= upper)
            continue;
        for (int j = 0; j < k; j++) {
            if (j == label || upper <= lo[j] || upper <= w->half_cc[(size_t)label * k + j])
                continue;
            if (!tight) {
                upper = dist_float(xi, c + (size_t)label * d, d);
                lo[label] = upper;
                tight = 1;
            }
            if (upper > lo[j] || upper > w->half_cc[(size_t)label * k + j]) {
                const float dist = dist_float(xi, c + (size_t)j * d, d);
                lo[j] = dist;
                if (dist < upper) {
                    label = j;
                    upper = dist;
                }
            }
        }
        labels[i] = label;
        w->upper[i] = upper;
    }
}

static void elkan_step(KMeansWork *w, const float *c, int *labels, int accumulate)
{
#pragma omp parallel for schedule(dynamic, 1) if ((long)w->n * w->k * w->d >= KMEANS_PARALLEL_MIN)
    for (int b = 0; b < w->n_blocks; b++) {
        const int r0 = b * w->block_rows;
        const int r1 = r0 + w->block_rows < w->n ? r0 + w->block_rows : w->n;
        elkan_rows(w, c, r0, r1, labels);
        if (accumulate)
            accumulate_block(w, b, r0, r1, labels);
    }
}

static void elkan_shift_bounds(KMeansWork *w, const int *labels)
{
    const int k = w->k;
#pragma omp parallel for schedule(static) if ((long)w->n * w->k >= KMEANS_PARALLEL_MIN)
    for (int i = 0; i < w->n; i++) {
        w->upper[i] += w->shift[labels[i]];
        float *lo = w->lower + (size_t)i * k;
        for (int j = 0; j < k; j++) {
            lo[j] -= w->shift[j];
            if (lo[j] < 0.0f)
                lo[j] = 0.0f;
        }
    }
}

/* One run from centres c (k x d, overwritten with the result); labels_old is n scratch. */
static void kmeans_single(KMeansWork *w, KMeansAlgorithm algo, int max_iter, double tol_abs,
                          float *c, float *c_next, int *labels, int *labels_old, int *n_iter)
{
    const int n = w->n, k = w->k, d = w->d;
    for (int i = 0; i < n; i++)
        labels_old[i] = -1;
    if (algo == KMEANS_ELKAN) {
        center_half_distances(w, c);
        elkan_init_bounds(w, c, labels);
    }
    int strict = 0, it = 0;
    float *cur = c, *nxt = c_next;
    for (it = 0; it < max_iter; it++) {
        double shift_tot;
        if (algo == KMEANS_ELKAN)
            elkan_step(w, cur, labels, 1);
        else
            lloyd_step(w, cur, labels, 1);
        finish_centers(w, cur, nxt, labels, &shift_tot);
        if (algo == KMEANS_ELKAN) {
            elkan_shift_bounds(w, labels);
            center_half_distances(w, nxt);
        }
        float *t = cur;
        cur = nxt;
        nxt = t;
        if (memcmp(labels, labels_old, (size_t)n * sizeof *labels) == 0) {
            strict = 1;
            break;
        }
        if (shift_tot <= tol_abs)
            break;
        memcpy(labels_old, labels, (size_t)n * sizeof *labels);
    }
    if (!strict) {
        if (algo == KMEANS_ELKAN)
            elkan_step(w, cur, labels, 0);
        else
            lloyd_step(w, cur, labels, 0);
    }
    if (cur != c)
        memcpy(c, cur, (size_t)k * d * sizeof *c);
    *n_iter = (it < max_iter ? it : max_iter - 1) + 1;
}

double metric_inertia(const float *x, int n, int d, const float *centers, const int *labels)
{
    /* A fixed number of blocks added in order: the same sum whatever the thread count. */
    enum { BLOCKS = 64 };
    double partial[BLOCKS];
    const int per = (n + BLOCKS - 1) / BLOCKS;
#pragma omp parallel for schedule(static) if ((long)n * d >= KMEANS_PARALLEL_MIN)
    for (int b = 0; b < BLOCKS; b++) {
        double s = 0.0;
        const int end = (b + 1) * per < n ? (b + 1) * per : n;
        for (int i = b * per; i < end; i++)
            s += sqdist_exact(x + (size_t)i * d, centers + (size_t)labels[i] * d, d);
        partial[b] = s;
    }
    double total = 0.0;
    for (int b = 0; b < BLOCKS; b++)
        total += partial[b];
    return total;
}

static StatusCode check_k(int n, int k, Status *st)
{
    if (k < 1)
        return status_fail(st, TK_EINVAL, "k-means: k = %d, must be >= 1", k);
    if (k > n)
        return status_fail(st, TK_EINVAL, "k-means: k = %d is more than the %d rows", k, n);
    return TK_OK;
}

/* k-means++ rows per block: each block's share of a candidate's potential is summed alone and
 * the blocks are added in order, so the choice does not depend on the thread count. */
#define PLUSPLUS_BLOCK 1024

/* k-means++ on checked input; xnorm (n) holds the rows' squared norms. */
static StatusCode plusplus(const float *x, const float *xnorm, int n, int d, int k,
                           uint64_t seed, float *centers, Status *st)
{
    StatusCode rc = TK_OK;
    const int trials = 2 + (int)floor(log((double)k));
    const int n_blocks = (n + PLUSPLUS_BLOCK - 1) / PLUSPLUS_BLOCK;
    double *closest = malloc((size_t)n * sizeof *closest);
    double *cumsum = malloc((size_t)n * sizeof *cumsum);
    double *part = malloc((size_t)n_blocks * trials * sizeof *part);
    float *dists = malloc((size_t)n * trials * sizeof *dists);
    float *cand = malloc((size_t)trials * d * sizeof *cand);
    float *cand_norm = malloc((size_t)lanes_up(trials) * sizeof *cand_norm);
    float *cand_t = malloc((size_t)lanes_up(trials) * d * sizeof *cand_t);
    if (!closest || !cumsum || !part || !dists || !cand || !cand_norm || !cand_t) {
        rc = status_fail(st, TK_ENOMEM, "k-means++: cannot allocate work for %d rows", n);
        goto done;
    }
    Rng rng;
    rng_seed(&rng, seed, 0);
    /* The first centre is drawn alone, then each next one is the best of `trials` draws;
     * both are "the candidate with the lowest potential" over m candidates, closest starting
     * at infinity. Distances by the GEMM identity in float, as scikit-learn's. */
    for (int i = 0; i < n; i++)
        closest[i] = INFINITY;
    const int first = (int)rng_below(&rng, (uint64_t)n);
    memcpy(cand, x + (size_t)first * d, (size_t)d * sizeof *cand);
    double pot = 0.0;
    for (int c = 0; c < k; c++) {
        int m = 1;
        if (c > 0) {
            m = trials;
            for (int t = 0; t < trials; t++) {
                const double r = rng_uniform_double(&rng) * pot;
                int lo = 0, hi = n - 1; /* first index with cumsum >= r (numpy searchsorted) */
                while (lo < hi) {
                    const int mid = (lo + hi) / 2;
                    if (cumsum[mid] < r)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                memcpy(cand + (size_t)t * d, x + (size_t)lo * d, (size_t)d * sizeof *cand);
            }
        }
        prepare_centers(cand, m, d, cand_norm, cand_t);
        /* Each candidate's potential: the sum over rows of min(closest, distance to it). */
#pragma omp parallel for schedule(static) if ((long)n * d * m >= KMEANS_PARALLEL_MIN)
        for (int b = 0; b < n_blocks; b++) {
            const int r0 = b * PLUSPLUS_BLOCK;
            const int r1 = r0 + PLUSPLUS_BLOCK < n ? r0 + PLUSPLUS_BLOCK : n;
            float *dist = dists + (size_t)r0 * m;
            partial_dist(x + (size_t)r0 * d, r1 - r0, d, cand_t, cand_norm, m, dist);
            double *sum = part + (size_t)b * trials;
            for (int t = 0; t < m; t++)
                sum[t] = 0.0;
            for (int i = r0; i < r1; i++, dist += m)
                for (int t = 0; t < m; t++) {
                    const float v = xnorm[i] + dist[t];
                    const double dv = v > 0.0f ? v : 0.0;
                    sum[t] += dv < closest[i] ? dv : closest[i];
                }
        }
        double best_pot = INFINITY;
        int best = 0;
        for (int t = 0; t < m; t++) {
            double p_t = 0.0;
            for (int b = 0; b < n_blocks; b++)
                p_t += part[(size_t)b * trials + t];
            if (p_t < best_pot) {
                best_pot = p_t;
                best = t;
            }
        }
        memcpy(centers + (size_t)c * d, cand + (size_t)best * d, (size_t)d * sizeof *centers);
        pot = best_pot;
        if (c + 1 == k)
            break;
        /* closest with the chosen centre, and its running sum for the next draws */
        double acc = 0.0;
        for (int i = 0; i < n; i++) {
            const float v = xnorm[i] + dists[(size_t)i * m + best];
            const double dv = v > 0.0f ? v : 0.0;
            if (dv < closest[i])
                closest[i] = dv;
            cumsum[i] = acc += closest[i];
        }
    }
done:
    free(closest);
    free(cumsum);
    free(part);
    free(dists);
    free(cand);
    free(cand_norm);
    free(cand_t);
    return rc;
}

StatusCode kmeans_plusplus(const float *x, int n, int d, int k, uint64_t seed, float *centers,
                           Status *st)
{
    StatusCode rc = cluster_check_data("k-means++", x, n, d, st);
    if (rc != TK_OK || (rc = check_k(n, k, st)) != TK_OK)
        return rc;
    float *xnorm = malloc((size_t)n * sizeof *xnorm);
    if (!xnorm)
        return status_fail(st, TK_ENOMEM, "k-means++: cannot allocate work for %d rows", n);
    row_norms(x, n, d, xnorm);
    rc = plusplus(x, xnorm, n, d, k, seed, centers, st);
    free(xnorm);
    return rc;
}

static void work_free(KMeansWork *w)
{
    free(w->xnorm);
    free(w->cnorm);
    free(w->ct);
    free(w->dots);
    free(w->sums);
    free(w->counts);
    free(w->center_sum);
    free(w->center_count);
    free(w->upper);
    free(w->lower);
    free(w->half_cc);
    free(w->next_half);
    free(w->shift);
    free(w->far);
}

static StatusCode work_init(KMeansWork *w, const float *x, int n, int d, int k, int elkan,
                            Status *st)
{
    memset(w, 0, sizeof *w);
    w->x = x;
    w->n = n;
    w->d = d;
    w->k = k;
    /* At most 256 blocks whatever n, so the partial sums stay small; 512 rows at least so a
     * block amortises its GEMM call. */
    w->block_rows = 512;
    if ((n + w->block_rows - 1) / w->block_rows > 256)
        w->block_rows = (n + 255) / 256;
    w->n_blocks = (n + w->block_rows - 1) / w->block_rows;
    const size_t nb = (size_t)w->n_blocks;
    w->xnorm = malloc((size_t)n * sizeof(float));
    w->cnorm = malloc((size_t)lanes_up(k) * sizeof(float));
    w->ct = malloc((size_t)lanes_up(k) * d * sizeof(float));
    w->dots = malloc(nb * w->block_rows * k * sizeof(float));
    w->sums = malloc(nb * k * d * sizeof(double));
    w->counts = malloc(nb * k * sizeof(long));
    w->center_sum = malloc((size_t)k * d * sizeof(double));
    w->center_count = malloc((size_t)k * sizeof(long));
    w->shift = malloc((size_t)k * sizeof(float));
    w->far = malloc((size_t)n * sizeof(double));
    w->half_cc = malloc((size_t)k * k * sizeof(float));
    w->next_half = malloc((size_t)k * sizeof(float));
    if (elkan) {
        w->upper = malloc((size_t)n * sizeof(float));
        w->lower = malloc((size_t)n * k * sizeof(float));
    }
    if (!w->xnorm || !w->cnorm || !w->ct || !w->dots || !w->sums || !w->counts || !w->center_sum ||
        !w->center_count || !w->shift || !w->far || !w->half_cc || !w->next_half ||
        (elkan && (!w->upper || !w->lower))) {
        work_free(w);
        return status_fail(st, TK_ENOMEM, "k-means: cannot allocate work for %d rows, k = %d",
                           n, k);
    }
    return TK_OK;
}

StatusCode kmeans_fit(const float *x, int n, int d, const KMeansParams *p, KMeansResult *out,
                      Status *st)
{
    StatusCode rc = cluster_check_data("k-means", x, n, d, st);
    if (rc != TK_OK || (rc = check_k(n, p->k, st)) != TK_OK)
        return rc;
    if (p->max_iter < 1 || p->tol < 0 || !(p->tol == p->tol))
        return status_fail(st, TK_EINVAL, "k-means: max_iter %d must be >= 1 and tol %g >= 0",
                           p->max_iter, p->tol);
    if (p->algorithm != KMEANS_LLOYD && p->algorithm != KMEANS_ELKAN)
        return status_fail(st, TK_EINVAL, "k-means: unknown algorithm %d", (int)p->algorithm);
    if (p->init && (rc = cluster_check_data("k-means init centres", p->init, p->k, d, st)))
        return rc;
    const int k = p->k;
    const int runs = p->init ? 1 : (p->n_init > 1 ? p->n_init : 1);

    /* sklearn's _tolerance: tol times the mean of the per-feature variances (np.var per
     * column: two passes over the rows, in row order, one sum per column). */
    double *col_mean = calloc(2 * (size_t)d, sizeof *col_mean);
    if (!col_mean)
        return status_fail(st, TK_ENOMEM, "k-means: cannot allocate %d columns", d);
    double *col_var = col_mean + d;
    for (size_t i = 0; i < (size_t)n; i++) {
#pragma omp simd
        for (int j = 0; j < d; j++)
            col_mean[j] += x[i * d + j];
    }
    for (int j = 0; j < d; j++)
        col_mean[j] /= n;
    for (size_t i = 0; i < (size_t)n; i++) {
#pragma omp simd
        for (int j = 0; j < d; j++) {
            const double t = x[i * d + j] - col_mean[j];
            col_var[j] += t * t;
        }
    }
    double var_sum = 0.0;
    for (int j = 0; j < d; j++)
        var_sum += col_var[j] / n;
    free(col_mean);
    const double tol_abs = p->tol * var_sum / d;

    KMeansWork w;
    if ((rc = work_init(&w, x, n, d, k, p->algorithm == KMEANS_ELKAN, st)) != TK_OK)
        return rc;
    row_norms(x, n, d, w.xnorm);
    float *c = malloc((size_t)k * d * sizeof *c);
    float *c_next = malloc((size_t)k * d * sizeof *c_next);
    int *labels = malloc((size_t)n * sizeof *labels);
    int *labels_old = malloc((size_t)n * sizeof *labels_old);
    if (!c || !c_next || !labels || !labels_old) {
        rc = status_fail(st, TK_ENOMEM, "k-means: cannot allocate work for %d rows", n);
        goto done;
    }
    out->inertia = INFINITY;
    for (int r = 0; r < runs; r++) {
        if (p->init)
            memcpy(c, p->init, (size_t)k * d * sizeof *c);
        else if ((rc = plusplus(x, w.xnorm, n, d, k, splitmix64_at(p->seed, (uint64_t)r), c,
                                st)) != TK_OK)
            goto done;
        int n_iter;
        kmeans_single(&w, p->algorithm, p->max_iter, tol_abs, c, c_next, labels, labels_old,
                      &n_iter);
        const double inertia = metric_inertia(x, n, d, c, labels);
        if (inertia < out->inertia) {
            out->inertia = inertia;
            out->n_iter = n_iter;
            memcpy(out->centers, c, (size_t)k * d * sizeof *c);
            memcpy(out->labels, labels, (size_t)n * sizeof *labels);
        }
    }
done:
    free(c);
    free(c_next);
    free(labels);
    free(labels_old);
    work_free(&w);
    return rc;
}

StatusCode kmeans_predict(const float *x, int n, int d, const float *centers, int k,
                          int *labels, double *inertia, Status *st)
{
    StatusCode rc = cluster_check_data("k-means predict", x, n, d, st);
    if (rc != TK_OK || (rc = cluster_check_data("k-means centres", centers, k, d, st)) != TK_OK)
        return rc;
    KMeansWork w;
    if ((rc = work_init(&w, x, n, d, k, 0, st)) != TK_OK)
        return rc;
    row_norms(x, n, d, w.xnorm);
    lloyd_step(&w, centers, labels, 0);
    if (inertia)
        *inertia = metric_inertia(x, n, d, centers, labels);
    work_free(&w);
    return TK_OK;
}
