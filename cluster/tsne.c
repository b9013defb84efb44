/* tsne.c — t-distributed stochastic neighbour embedding into 2-D (van der Maaten & Hinton,
 * JMLR 2008), exact (O(n^2) per iteration) or Barnes-Hut (van der Maaten, JMLR 2014: sparse P
 * on the 3 * perplexity nearest neighbours, repulsion summarised by a quadtree with angle
 * theta), following scikit-learn 1.2's TSNE step for step so that results are comparable:
 * the perplexity binary search of sklearn/manifold/_utils.pyx, P symmetrised and normalised,
 * PCA initialisation scaled to a standard deviation of 1e-4 in the first coordinate, early
 * exaggeration for 250 iterations at momentum 0.5 then momentum 0.8, gains (+0.2 / x0.8,
 * floor min_gain 0.01), the error checked every 50 iterations with the n_iter_without_progress
 * and min_grad_norm stops, and the KL divergence computed as sklearn computes it.
 *
 * One departure, for speed: the repulsion of 8 neighbouring points comes from one walk of the
 * quadtree that summarises a cell only when theta's test holds for all 8, so every point is
 * treated at least as finely as scikit-learn treats it.
 *
 * Threads: OpenMP over points (groups of points for Barnes-Hut) above TSNE_PARALLEL_MIN_N;
 * every per-point sum is stored and the totals are added up serially in point order, so the
 * result is the same for any thread count. */
#include "cluster.h"
#include "tsne_simd.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define TSNE_EXPLORATION_ITER 250 /* sklearn's _EXPLORATION_N_ITER */
#define TSNE_CHECK_EVERY 50       /* sklearn's _N_ITER_CHECK */
#define TSNE_MIN_GAIN 0.01f
#define PERPLEXITY_STEPS 100       /* _utils.pyx n_steps */
#define PERPLEXITY_TOLERANCE 1e-5  /* _utils.pyx, on the entropy */
#define ROW_SUM_FLOOR 1e-8         /* _utils.pyx EPSILON_DBL */
/* Below this many points an iteration is too short for threads to pay for their barrier. */
#define TSNE_PARALLEL_MIN_N 512

TsneParams tsne_params_default(void)
{
    return (TsneParams){.method = TSNE_BARNES_HUT,
                        .perplexity = 30.0,
                        .early_exaggeration = 12.0,
                        .learning_rate = -1,
                        .n_iter = 1000,
                        .n_iter_without_progress = 300,
                        .min_grad_norm = 1e-7,
                        .angle = 0.5,
                        .seed = 0,
                        .progress = NULL,
                        .progress_ctx = NULL};
}

/* ---------------------------------------------------------------- perplexity */

/* Conditional probabilities of one row from its squared distances (float, as sklearn casts
 * them): the precision beta found by bisection (doubling or halving until bracketed) so that
 * the row's entropy is log(perplexity). skip >= 0 is left out (the row itself). */
static void calibrate_row(const float *sqd, int count, int skip, double perplexity, double *p)
{
    const double target = log(perplexity);
    double beta = 1, beta_min = -INFINITY, beta_max = INFINITY;
    for (int step = 0; step < PERPLEXITY_STEPS; step++) {
        double sum = 0;
        for (int j = 0; j < count; j++) {
            p[j] = j == skip ? 0.0 : exp(-(double)sqd[j] * beta);
            sum += p[j];
        }
        if (sum == 0)
            sum = ROW_SUM_FLOOR;
        double sum_dp = 0;
        for (int j = 0; j < count; j++) {
            p[j] /= sum;
            sum_dp += (double)sqd[j] * p[j];
        }
        const double diff = log(sum) + beta * sum_dp - target;
        if (fabs(diff) <= PERPLEXITY_TOLERANCE)
            break;
        if (diff > 0) {
            beta_min = beta;
            beta = beta_max == INFINITY ? beta * 2 : (beta + beta_max) / 2;
        } else {
            beta_max = beta;
            beta = beta_min == -INFINITY ? beta / 2 : (beta + beta_min) / 2;
        }
    }
}

static StatusCode check_input(const float *x, int n, int d, double perplexity, Status *st)
{
    StatusCode rc = cluster_check_data("t-SNE: data", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (n < 2)
        return status_fail(st, TK_EINVAL, "t-SNE: %d row; need at least 2", n);
    if (!(perplexity > 0) || perplexity >= n)
        return status_fail(st, TK_EINVAL,
                           "t-SNE: perplexity %g must be greater than 0 and less than the %d rows",
                           perplexity, n);
    return TK_OK;
}

StatusCode tsne_p_exact(const float *x, int n, int d, double perplexity, double *P, Status *st)
{
    StatusCode rc = check_input(x, n, d, perplexity, st);
    if (rc != TK_OK)
        return rc;
    const int threads = threads_max();
    float *sqd = malloc((size_t)threads * n * sizeof(float));
    if (!sqd)
        return status_fail(st, TK_ENOMEM, "t-SNE: cannot allocate distances for %d rows", n);
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
    for (int i = 0; i < n; i++) {
        float *row = sqd + (size_t)omp_get_thread_num() * n;
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                const double diff = (double)x[(size_t)i * d + c] - x[(size_t)j * d + c];
                s += diff * diff;
            }
            row[j] = (float)s;
        }
        calibrate_row(row, n, i, perplexity, P + (size_t)i * n);
    }
    free(sqd);
    double total = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const double s = P[(size_t)i * n + j] + P[(size_t)j * n + i];
            P[(size_t)i * n + j] = P[(size_t)j * n + i] = s;
            total += 2 * s;
        }
    total = fmax(total, DBL_EPSILON);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            P[(size_t)i * n + j] = i == j ? 0.0 : fmax(P[(size_t)i * n + j] / total, DBL_EPSILON);
    return TK_OK;
}

typedef struct {
    int col;
    double val;
} Entry;

static int compare_entries(const void *a, const void *b)
{
    const int x = ((const Entry *)a)->col, y = ((const Entry *)b)->col;
    return (x > y) - (x < y);
}

StatusCode tsne_p_neighbors(const float *x, int n, int d, double perplexity, uint64_t seed,
                            TsneP *P, Status *st)
{
    memset(P, 0, sizeof *P);
    StatusCode rc = check_input(x, n, d, perplexity, st);
    if (rc != TK_OK)
        return rc;
    const int k = (int)fmin(n - 1, (int)(3.0 * perplexity + 1));
    VpTree tree;
    rc = vptree_build(&tree, x, n, d, seed, st);
    if (rc != TK_OK)
        return rc;
    const int threads = threads_max();
    int *nbr = malloc((size_t)n * k * sizeof(int));
    double *cond = malloc((size_t)n * k * sizeof(double));
    unsigned char *work = malloc((size_t)threads * k * (sizeof(double) + sizeof(float)));
    int *count = calloc((size_t)n + 1, sizeof(int));
    if (!nbr || !cond || !work || !count) {
        free(nbr);
        free(cond);
        free(work);
        free(count);
        vptree_free(&tree);
        return status_fail(st, TK_ENOMEM, "t-SNE: cannot allocate %d x %d neighbours", n, k);
    }
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
    for (int i = 0; i < n; i++) {
        double *dist = (double *)work + (size_t)omp_get_thread_num() * k;
        float *sqd = (float *)((double *)work + (size_t)threads * k) +
                     (size_t)omp_get_thread_num() * k;
        vptree_query(&tree, x + (size_t)i * d, k, i, nbr + (size_t)i * k, dist);
        for (int j = 0; j < k; j++)
            sqd[j] = (float)(dist[j] * dist[j]);
        calibrate_row(sqd, k, -1, perplexity, cond + (size_t)i * k);
    }
    vptree_free(&tree);
    free(work);
    /* P + P^T: row i holds its own k neighbours and every row that has i as a neighbour;
     * entries are gathered per row, sorted by column and merged. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            count[i + 1]++;
            count[nbr[(size_t)i * k + j] + 1]++;
        }
    for (int i = 0; i < n; i++)
        count[i + 1] += count[i];
    Entry *entries = malloc((size_t)count[n] * sizeof(Entry));
    int *fill = malloc((size_t)n * sizeof(int));
    P->row_start = malloc(((size_t)n + 1) * sizeof(int));
    if (!entries || !fill || !P->row_start) {
        free(entries);
        free(fill);
        free(nbr);
        free(cond);
        free(count);
        tsne_p_free(P);
        return status_fail(st, TK_ENOMEM, "t-SNE: cannot allocate the joint probabilities");
    }
    memcpy(fill, count, (size_t)n * sizeof(int));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            const int c = nbr[(size_t)i * k + j];
            const double v = cond[(size_t)i * k + j];
            entries[fill[i]++] = (Entry){c, v};
            entries[fill[c]++] = (Entry){i, v};
        }
    free(nbr);
    free(cond);
    free(fill);
    int total_entries = 0;
    double total = 0;
    P->row_start[0] = 0;
    for (int i = 0; i < n; i++) {
        Entry *row = entries + count[i];
        const int len = count[i + 1] - count[i];
        qsort(row, (size_t)len, sizeof(Entry), compare_entries);
        const int row_out = total_entries;
        for (int e = 0; e < len; e++) {
            if (e > 0 && row[e].col == row[e - 1].col)
                entries[total_entries - 1].val += row[e].val;
            else
                entries[total_entries++] = row[e];
            total += row[e].val;
        }
        /* zeros (exp underflow far out) are dropped, as scipy's sparse sum drops them */
        int kept = row_out;
        for (int e = row_out; e < total_entries; e++)
            if (entries[e].val != 0)
                entries[kept++] = entries[e];
        total_entries = kept;
        P->row_start[i + 1] = total_entries;
    }
    free(count);
    P->n = n;
    P->col = malloc((size_t)total_entries * sizeof(int));
    P->val = malloc((size_t)total_entries * sizeof(float));
    if (!P->col || !P->val) {
        free(entries);
        tsne_p_free(P);
        return status_fail(st, TK_ENOMEM, "t-SNE: cannot allocate the joint probabilities");
    }
    total = fmax(total, DBL_EPSILON);
    for (int e = 0; e < total_entries; e++) {
        P->col[e] = entries[e].col;
        P->val[e] = (float)(entries[e].val / total);
    }
    free(entries);
    return TK_OK;
}

void tsne_p_free(TsneP *P)
{
    free(P->row_start);
    free(P->col);
    free(P->val);
    memset(P, 0, sizeof *P);
}

/* ---------------------------------------------------------------- the objective */

typedef struct {
    int n;
    TsneMethod method;
    const TsneP *P;   /* Barnes-Hut */
    const float *Pd;  /* exact: dense n x n */
    double p_sum;     /* sum of P's entries */
    double theta2;
    QuadTree qt;
    double *attract;  /* 2n: sum_j p_ij q_ij (y_i - y_j) */
    double *repel;    /* 2n: Barnes-Hut sum of q^2 (y_i - y_j); exact, the same exactly */
    double *row_q;    /* n: sum_j q_ij (unnormalised) */
    double *row_err;  /* n */
    int *order;       /* Barnes-Hut: n, the points in quadtree order */
} Objective;

void tsne_attract_scalar(const float *y, int i, const int *col, const float *val, int count,
                         float exaggeration, double *force)
{
    float ax[TSNE_LANES] = {0}, ay[TSNE_LANES] = {0};
    const int padded = (count + TSNE_LANES - 1) / TSNE_LANES * TSNE_LANES;
    for (int e = 0; e < padded; e++) {
        const int j = e < count ? col[e] : i;
        const float p = e < count ? val[e] : 0.0f;
        const float dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const float w = p * exaggeration * (1.0f / (1.0f + dx * dx + dy * dy));
        ax[e % TSNE_LANES] += w * dx;
        ay[e % TSNE_LANES] += w * dy;
    }
    /* the vector halving: lanes l and l + 4, then l and l + 2, then 0 and 1 */
    for (int half = TSNE_LANES / 2; half > 0; half /= 2)
        for (int l = 0; l < half; l++) {
            ax[l] += ax[l + half];
            ay[l] += ay[l + half];
        }
    force[0] = ax[0];
    force[1] = ay[0];
}

/* Both gradients leave per-row attraction, repulsion, Z and KL parts; the rows are summed in
 * row order (not by the threads that filled them) so any thread count gives the same bits. */
static void gradient_combine(const Objective *o, float exaggeration, int compute_error,
                             float *grad, double *error)
{
    const int n = o->n;
    double sum_q = 0, kl = 0;
    for (int i = 0; i < n; i++) {
        sum_q += o->row_q[i];
        kl += o->row_err[i];
    }
    for (int c = 0; c < 2 * n; c++)
        grad[c] = (float)(4.0 * (o->attract[c] - o->repel[c] / sum_q));
    if (compute_error)
        *error = kl + exaggeration * o->p_sum * log(sum_q);
}

/* grad (2n) and, when compute_error, *error = KL(P || Q) as sklearn's _kl_divergence_bh:
 * sum over P's entries of p log(max(p, FLT_MIN) / q), q = num / Z, taken as
 * sum p log(max(p, FLT_MIN) / num) + log(Z) sum p so that one pass over the points (one OpenMP
 * barrier per iteration) does both forces before Z is known; sklearn's floor on q only acts
 * below 1e-38, which num / Z never reaches for n < 1e15. */
static StatusCode gradient_bh(Objective *o, const float *y, float exaggeration,
                              int compute_error, float *grad, double *error, Status *st)
{
    const int n = o->n;
    /* inserted in the previous iteration's tree order: neighbours arrive together */
    StatusCode rc = quadtree_build(&o->qt, y, n, o->order, st);
    if (rc == TK_OK)
        rc = quadtree_order(&o->qt, n, o->order, st);
    if (rc != TK_OK)
        return rc;
    /* Groups of neighbouring points share one tree walk for their repulsion; the last group
     * is padded with its last point, whose copies are not stored. */
    const int groups = (n + QT_GROUP - 1) / QT_GROUP;
    const TsneP *P = o->P;
    const int avx2 = simd_active() >= SIMD_AVX2;
#pragma omp parallel for schedule(dynamic, 8) if (n >= TSNE_PARALLEL_MIN_N)
    for (int g = 0; g < groups; g++) {
        float p[2 * QT_GROUP];
        double force[2 * QT_GROUP], sq[QT_GROUP];
        for (int l = 0; l < QT_GROUP; l++) {
            const int at = g * QT_GROUP + l < n ? g * QT_GROUP + l : n - 1;
            p[2 * l] = y[2 * o->order[at]];
            p[2 * l + 1] = y[2 * o->order[at] + 1];
        }
        quadtree_repulsion_group(&o->qt, p, (float)o->theta2, force, sq);
        for (int l = 0; l < QT_GROUP && g * QT_GROUP + l < n; l++) {
            const int i = o->order[g * QT_GROUP + l];
            o->repel[2 * i] = force[2 * l];
            o->repel[2 * i + 1] = force[2 * l + 1];
            o->row_q[i] = sq[l];
            const int e0 = P->row_start[i], count = P->row_start[i + 1] - e0;
            if (avx2)
                tsne_attract_avx2(y, i, P->col + e0, P->val + e0, count, exaggeration,
                                  o->attract + 2 * i);
            else
                tsne_attract_scalar(y, i, P->col + e0, P->val + e0, count, exaggeration,
                                    o->attract + 2 * i);
            double err = 0;
            for (int e = e0; compute_error && e < e0 + count; e++) {
                const int j = P->col[e];
                const double dx = (double)y[2 * i] - y[2 * j];
                const double dy = (double)y[2 * i + 1] - y[2 * j + 1];
                const double num = 1.0 / (1.0 + dx * dx + dy * dy);
                const float pij = P->val[e] * exaggeration;
                err += pij * log(fmax(pij, FLT_MIN) / num);
            }
            o->row_err[i] = err;
        }
    }
    gradient_combine(o, exaggeration, compute_error, grad, error);
    return TK_OK;
}

/* Exact: with num_ij = 1 / (1 + |y_i - y_j|^2), Z = sum num and Q = num / Z,
 * grad_i = 4 sum_j (p_ij - num_ij / Z) num_ij (y_i - y_j), split into the attraction and
 * sum_j num_ij^2 (y_i - y_j), so one pass over the pairs gives every row's part of Z as well;
 * KL = sum p log(p / num) + log(Z) sum p. */
static void gradient_exact(Objective *o, const float *y, float exaggeration, int compute_error,
                           float *grad, double *error)
{
    const int n = o->n;
#pragma omp parallel for schedule(dynamic, 16) if (n >= TSNE_PARALLEL_MIN_N)
    for (int i = 0; i < n; i++) {
        const float *prow = o->Pd + (size_t)i * n;
        const double yx = y[2 * i], yy = y[2 * i + 1];
        double ax = 0, ay = 0, rx = 0, ry = 0, rq = 0, err = 0;
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            const double dx = yx - y[2 * j], dy = yy - y[2 * j + 1];
            const double num = 1.0 / (1.0 + dx * dx + dy * dy);
            const double p = (double)prow[j] * exaggeration;
            rq += num;
            ax += p * num * dx;
            ay += p * num * dy;
            rx += num * num * dx;
            ry += num * num * dy;
            if (compute_error)
                err += p * log(p / num);
        }
        o->attract[2 * i] = ax;
        o->attract[2 * i + 1] = ay;
        o->repel[2 * i] = rx;
        o->repel[2 * i + 1] = ry;
        o->row_q[i] = rq;
        o->row_err[i] = err;
    }
    gradient_combine(o, exaggeration, compute_error, grad, error);
}

/* ---------------------------------------------------------------- optimisation */

typedef struct {
    int it, n_iter, n_iter_without_progress;
    float momentum, exaggeration;
} Stage;

/* sklearn's _gradient_descent: fresh update (0) and gains (1) per stage; *last gets the last
 * iteration index (sklearn's `i`). */
static StatusCode descend(Objective *o, const TsneParams *p, const Stage *s, double lr,
                          float *y, float *update, float *gains, float *grad, double *error,
                          int *last, Status *st)
{
    const int count = 2 * o->n;
    for (int c = 0; c < count; c++) {
        update[c] = 0;
        gains[c] = 1;
    }
    double best_error = DBL_MAX;
    int best_iter = s->it;
    *last = s->it;
    *error = DBL_MAX;
    for (int i = s->it; i < s->n_iter; i++) {
        *last = i;
        const int check = (i + 1) % TSNE_CHECK_EVERY == 0;
        const int compute_error = check || i == s->n_iter - 1;
        if (o->method == TSNE_BARNES_HUT) {
            const StatusCode rc = gradient_bh(o, y, s->exaggeration, compute_error, grad, error, st);
            if (rc != TK_OK)
                return rc;
        } else {
            gradient_exact(o, y, s->exaggeration, compute_error, grad, error);
        }
        double norm2 = 0;
        for (int c = 0; c < count; c++) {
            gains[c] = update[c] * grad[c] < 0.0f ? gains[c] + 0.2f : gains[c] * 0.8f;
            if (gains[c] < TSNE_MIN_GAIN)
                gains[c] = TSNE_MIN_GAIN;
            grad[c] *= gains[c];
            update[c] = s->momentum * update[c] - (float)lr * grad[c];
            y[c] += update[c];
            norm2 += (double)grad[c] * grad[c];
        }
        if (check) {
            if (p->progress)
                p->progress(p->progress_ctx, i + 1, *error);
            if (*error < best_error) {
                best_error = *error;
                best_iter = i;
            } else if (i - best_iter > s->n_iter_without_progress) {
                break;
            }
            if (sqrt(norm2) <= p->min_grad_norm)
                break;
        }
    }
    return TK_OK;
}

/* sklearn's init="pca": the first two principal axes, scaled so that the first coordinate
 * has standard deviation 1e-4. */
static StatusCode pca_init(const float *x, int n, int d, float *y, Status *st)
{
    Pca pca;
    StatusCode rc = pca_fit(&pca, x, n, d, 2, st);
    if (rc != TK_OK)
        return rc;
    pca_transform(&pca, x, n, y);
    pca_free(&pca);
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++)
        mean += y[2 * i];
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (y[2 * i] - mean) * (y[2 * i] - mean);
    const double sd = sqrt(var / n);
    if (!(sd > 0))
        return status_fail(st, TK_EINVAL, "t-SNE: every row projects to the same point (the data "
                                          "has no variance to initialise from)");
    for (int c = 0; c < 2 * n; c++)
        y[c] = (float)(y[c] / sd * 1e-4);
    return TK_OK;
}

StatusCode tsne_fit(const float *x, int n, int d, const TsneParams *p, float *embedding,
                    TsneResult *res, Status *st)
{
    StatusCode rc = check_input(x, n, d, p->perplexity, st);
    if (rc != TK_OK)
        return rc;
    if (d < 2)
        return status_fail(st, TK_EINVAL, "t-SNE: %d feature; the PCA initialisation needs 2", d);
    if (p->n_iter < TSNE_EXPLORATION_ITER || !(p->early_exaggeration >= 1) ||
        !(p->angle >= 0 && p->angle <= 1) || !(p->min_grad_norm >= 0) ||
        p->n_iter_without_progress < 1)
        return status_fail(st, TK_EINVAL,
                           "t-SNE: n_iter %d (>= %d), early_exaggeration %g (>= 1), angle %g "
                           "(0..1), min_grad_norm %g (>= 0), n_iter_without_progress %d (>= 1)",
                           p->n_iter, TSNE_EXPLORATION_ITER, p->early_exaggeration, p->angle,
                           p->min_grad_norm, p->n_iter_without_progress);
    if (p->method == TSNE_EXACT && n > TSNE_EXACT_MAX_N)
        return status_fail(st, TK_EUNSUPPORTED,
                           "t-SNE: the exact method keeps n x n probabilities; %d rows is over "
                           "its limit of %d (use Barnes-Hut)",
                           n, TSNE_EXACT_MAX_N);
    Objective o = {.n = n, .method = p->method, .theta2 = p->angle * p->angle};
    TsneP sparse = {0};
    float *dense = NULL;
    if (p->method == TSNE_BARNES_HUT) {
        rc = tsne_p_neighbors(x, n, d, p->perplexity, p->seed, &sparse, st);
        o.P = &sparse;
        for (int e = 0; rc == TK_OK && e < sparse.row_start[n]; e++)
            o.p_sum += sparse.val[e];
    } else {
        double *P = malloc((size_t)n * n * sizeof(double));
        dense = malloc((size_t)n * n * sizeof(float));
        if (!P || !dense)
            rc = status_fail(st, TK_ENOMEM, "t-SNE: cannot allocate %d x %d probabilities", n, n);
        else
            rc = tsne_p_exact(x, n, d, p->perplexity, P, st);
        if (rc == TK_OK)
            for (size_t c = 0; c < (size_t)n * n; c++) {
                dense[c] = (float)P[c];
                o.p_sum += dense[c];
            }
        free(P);
        o.Pd = dense;
    }
    float *work = malloc((size_t)6 * n * sizeof(float));
    double *sums = malloc((size_t)6 * n * sizeof(double));
    o.order = malloc((size_t)n * sizeof(int));
    if (rc == TK_OK && (!work || !sums || !o.order))
        rc = status_fail(st, TK_ENOMEM, "t-SNE: cannot allocate the optimiser for %d rows", n);
    for (int i = 0; rc == TK_OK && i < n; i++)
        o.order[i] = i;
    if (rc == TK_OK)
        rc = pca_init(x, n, d, embedding, st);
    if (rc == TK_OK) {
        o.attract = sums;
        o.repel = sums + 2 * n;
        o.row_q = sums + 4 * n;
        o.row_err = sums + 5 * n;
        float *update = work, *gains = work + 2 * n, *grad = work + 4 * n;
        const double lr = p->learning_rate > 0
                              ? p->learning_rate
                              : fmax(n / p->early_exaggeration / 4.0, 50.0);
        const Stage explore = {0, TSNE_EXPLORATION_ITER, TSNE_EXPLORATION_ITER, 0.5f,
                               (float)p->early_exaggeration};
        double error;
        int last;
        rc = descend(&o, p, &explore, lr, embedding, update, gains, grad, &error, &last, st);
        if (rc == TK_OK) {
            const Stage converge = {last + 1, p->n_iter, p->n_iter_without_progress, 0.8f, 1.0f};
            rc = descend(&o, p, &converge, lr, embedding, update, gains, grad, &error, &last, st);
        }
        if (rc == TK_OK && res) {
            res->kl = error;
            res->n_iter = last + 1;
        }
    }
    quadtree_free(&o.qt);
    tsne_p_free(&sparse);
    free(dense);
    free(work);
    free(sums);
    free(o.order);
    return rc;
}
