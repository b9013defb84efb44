/* knn.c — the k-nearest-neighbours classifier: a kd-tree for few features, brute force with
 * an AVX2 distance kernel (scalar twin below) for many, and scikit-learn's voting rules
 * (KNeighborsClassifier 1.2: _get_weights, stats.mode / weighted_mode) so that predictions
 * can be compared one for one. */
#include "cluster.h"
#include "knn_simd.h"
#include "neighbour_heap.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Queries below this count run on the calling thread: an OpenMP region costs more than a
 * handful of kd-tree searches. */
#define KNN_PARALLEL_MIN_QUERIES 64
#define KNN_LEAF_SIZE 96
/* Votes are kept per class, so labels must be small class numbers. */
#define KNN_MAX_CLASSES 65536

void knn_block_sqdist_scalar(const double *blocks, int nblocks, int d, const double *q,
                             double *out)
{
    for (int b = 0; b < nblocks; b++) {
        const double *blk = blocks + (size_t)b * d * 4;
        for (int lane = 0; lane < 4; lane++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                const double diff = blk[4 * j + lane] - q[j];
                s += diff * diff;
            }
            out[4 * b + lane] = s;
        }
    }
}

static int block_count(int n) { return (n + 3) / 4; }

StatusCode knn_fit(KnnClassifier *m, const float *x, const int *y, int n, int d, int k,
                   KnnWeights weights, KnnAlgorithm algorithm, Status *st)
{
    memset(m, 0, sizeof *m);
    StatusCode rc = cluster_check_data("knn: training data", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (k < 1 || k > n)
        return status_fail(st, TK_EINVAL, "knn: k = %d must be between 1 and the %d training rows",
                           k, n);
    int n_classes = 0;
    for (int i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= KNN_MAX_CLASSES)
            return status_fail(st, TK_EINVAL, "knn: row %d: label %d is not a class in 0..%d",
                               i, y[i], KNN_MAX_CLASSES - 1);
        if (y[i] + 1 > n_classes)
            n_classes = y[i] + 1;
    }
    if (algorithm == KNN_AUTO)
        algorithm = d <= KNN_KDTREE_MAX_D ? KNN_KDTREE : KNN_BRUTE;
    if (algorithm == KNN_KDTREE && d > KDTREE_MAX_D)
        return status_fail(st, TK_EINVAL, "knn: a kd-tree takes at most %d features, not %d",
                           KDTREE_MAX_D, d);
    m->n = n;
    m->d = d;
    m->k = k;
    m->n_classes = n_classes;
    m->weights = weights;
    m->algorithm = algorithm;
    m->labels = malloc((size_t)n * sizeof(int));
    if (!m->labels)
        return status_fail(st, TK_ENOMEM, "knn: cannot allocate %d labels", n);
    memcpy(m->labels, y, (size_t)n * sizeof(int));
    if (algorithm == KNN_KDTREE) {
        rc = kdtree_build(&m->tree, x, n, d, KNN_LEAF_SIZE, st);
    } else {
        const size_t count = (size_t)block_count(n) * 4 * d;
        m->blocks = malloc(count * sizeof(double));
        if (!m->blocks) {
            rc = status_fail(st, TK_ENOMEM, "knn: cannot allocate %d x %d training rows", n, d);
        } else {
            memset(m->blocks, 0, count * sizeof(double));
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++)
                    m->blocks[(size_t)(i / 4) * d * 4 + 4 * j + i % 4] = x[(size_t)i * d + j];
        }
    }
    if (rc != TK_OK)
        knn_free(m);
    return rc;
}

/* Per-thread working memory of one query, carved from one allocation per thread per call:
 * squared distances of the k found, the vote per class, the query in double and, for brute
 * force, the distance to every training row. */
typedef struct {
    double *sq;     /* k */
    double *votes;  /* n_classes */
    double *qd;     /* d */
    double *all;    /* brute force: 4 * blocks */
} Scratch;

static size_t scratch_doubles(const KnnClassifier *m)
{
    return (size_t)m->k + m->n_classes + m->d +
           (m->algorithm == KNN_BRUTE ? (size_t)block_count(m->n) * 4 : 0);
}

static Scratch scratch_carve(const KnnClassifier *m, double *mem)
{
    Scratch s = {mem, mem + m->k, mem + m->k + m->n_classes, NULL};
    if (m->algorithm == KNN_BRUTE)
        s.all = s.qd + m->d;
    return s;
}

/* The k nearest rows of q ascending by (distance, row); s->sq gets squared distances. */
static void nearest(const KnnClassifier *m, const float *q, int *idx, Scratch *s)
{
    if (m->algorithm == KNN_KDTREE) {
        kdtree_query(&m->tree, q, m->k, idx, s->sq);
        return;
    }
    for (int j = 0; j < m->d; j++)
        s->qd[j] = q[j];
    const int nb = block_count(m->n);
    if (simd_active() >= SIMD_AVX2)
        knn_block_sqdist_avx2(m->blocks, nb, m->d, s->qd, s->all);
    else
        knn_block_sqdist_scalar(m->blocks, nb, m->d, s->qd, s->all);
    NeighbourHeap h;
    nheap_init(&h, s->sq, idx, m->k);
    for (int i = 0; i < m->n; i++)
        if (s->all[i] <= nheap_bound(&h))
            nheap_push(&h, s->all[i], i);
    nheap_sort(&h);
}

/* Votes per class of the k neighbours, with scikit-learn's weights: 1 each (uniform), or
 * 1/distance, where neighbours at distance 0, when there are any, alone get weight 1. */
static void vote(const KnnClassifier *m, const int *idx, Scratch *s)
{
    memset(s->votes, 0, (size_t)m->n_classes * sizeof(double));
    const int zero_hit = m->weights == KNN_DISTANCE && s->sq[0] == 0;
    for (int i = 0; i < m->k; i++) {
        double w = 1;
        if (m->weights == KNN_DISTANCE)
            w = zero_hit ? (s->sq[i] == 0) : 1.0 / sqrt(s->sq[i]);
        s->votes[m->labels[idx[i]]] += w;
    }
}

/* The first class with the most votes: the lowest label on a tie, as stats.mode and
 * weighted_mode. */
static int top_class(const double *votes, int n_classes)
{
    int best = 0;
    for (int c = 1; c < n_classes; c++)
        if (votes[c] > votes[best])
            best = c;
    return best;
}

typedef enum { OUT_NEIGHBOURS, OUT_PREDICT, OUT_PROBA } Output;

typedef struct {
    int *idx;      /* OUT_NEIGHBOURS: nq x k */
    double *dist;  /* OUT_NEIGHBOURS: nq x k or NULL */
    int *pred;     /* OUT_PREDICT: nq */
    float *proba;  /* OUT_PROBA: nq x n_classes */
} Outputs;

static void answer(const KnnClassifier *m, const float *q, long r, Output what, Outputs *o,
                   int *idx, Scratch *s)
{
    int *found = what == OUT_NEIGHBOURS ? o->idx + r * m->k : idx;
    nearest(m, q + r * m->d, found, s);
    if (what == OUT_NEIGHBOURS) {
        if (o->dist)
            for (int i = 0; i < m->k; i++)
                o->dist[r * m->k + i] = sqrt(s->sq[i]);
        return;
    }
    vote(m, found, s);
    if (what == OUT_PREDICT) {
        o->pred[r] = top_class(s->votes, m->n_classes);
        return;
    }
    double total = 0;
    for (int c = 0; c < m->n_classes; c++)
        total += s->votes[c];
    for (int c = 0; c < m->n_classes; c++)
        o->proba[r * m->n_classes + c] = (float)(s->votes[c] / total);
}

static StatusCode run_queries(const KnnClassifier *m, const float *q, int nq, Output what,
                              Outputs *o, Status *st)
{
    if (nq < 0 || (nq > 0 && !q))
        return status_fail(st, TK_EINVAL, "knn: %d queries", nq);
    if (nq == 0)
        return TK_OK;
    StatusCode rc = cluster_check_data("knn: queries", q, nq, m->d, st);
    if (rc != TK_OK)
        return rc;
    const size_t per_thread = scratch_doubles(m) * sizeof(double) + (size_t)m->k * sizeof(int);
    if (nq < KNN_PARALLEL_MIN_QUERIES) {
        /* Small requests (single-row latency) keep their scratch on the stack when it fits. */
        _Alignas(64) unsigned char local[4096];
        unsigned char *mem = per_thread <= sizeof local ? local : malloc(per_thread);
        if (!mem)
            return status_fail(st, TK_ENOMEM, "knn: cannot allocate query scratch");
        Scratch s = scratch_carve(m, (double *)mem);
        int *idx = (int *)(mem + scratch_doubles(m) * sizeof(double));
        for (long r = 0; r < nq; r++)
            answer(m, q, r, what, o, idx, &s);
        if (mem != local)
            free(mem);
        return TK_OK;
    }
    const int threads = threads_max();
    /* One allocation for every thread's scratch, made before the parallel region. */
    const size_t stride = (per_thread + 63) / 64 * 64;
    unsigned char *mem = aligned_alloc(64, stride * threads);
    if (!mem)
        return status_fail(st, TK_ENOMEM, "knn: cannot allocate query scratch for %d threads",
                           threads);
#pragma omp parallel num_threads(threads)
    {
        unsigned char *own = mem + stride * omp_get_thread_num();
        Scratch s = scratch_carve(m, (double *)own);
        int *idx = (int *)(own + scratch_doubles(m) * sizeof(double));
#pragma omp for schedule(dynamic, 64)
        for (long r = 0; r < nq; r++)
            answer(m, q, r, what, o, idx, &s);
    }
    free(mem);
    return TK_OK;
}

StatusCode knn_kneighbors(const KnnClassifier *m, const float *q, int nq, int *idx,
                          double *dist, Status *st)
{
    Outputs o = {.idx = idx, .dist = dist};
    return run_queries(m, q, nq, OUT_NEIGHBOURS, &o, st);
}

StatusCode knn_predict(const KnnClassifier *m, const float *q, int nq, int *pred, Status *st)
{
    Outputs o = {.pred = pred};
    return run_queries(m, q, nq, OUT_PREDICT, &o, st);
}

StatusCode knn_predict_proba(const KnnClassifier *m, const float *q, int nq, float *proba,
                             Status *st)
{
    Outputs o = {.proba = proba};
    return run_queries(m, q, nq, OUT_PROBA, &o, st);
}

void knn_free(KnnClassifier *m)
{
    free(m->labels);
    kdtree_free(&m->tree);
    free(m->blocks);
    memset(m, 0, sizeof *m);
}
