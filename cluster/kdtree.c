/* kdtree.c — exact k-nearest-neighbour search in low dimensions: a balanced kd-tree split at
 * the median of the widest dimension, every node keeping the tight bounding box of its rows,
 * searched nearer child first; a child is pruned when the distance from the query to its box
 * exceeds the k-th best so far, which rules out more than the splitting planes alone. */
#include "cluster.h"
#include "neighbour_heap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const float *x;
    int d, dim;
} SortKey;

/* Total order (value, row), so the build is the same on every platform. */
static int compare_rows(const void *a, const void *b, void *ctx)
{
    const SortKey *k = ctx;
    const int ia = *(const int *)a, ib = *(const int *)b;
    const float va = k->x[(size_t)ia * k->d + k->dim], vb = k->x[(size_t)ib * k->d + k->dim];
    if (va != vb)
        return va < vb ? -1 : 1;
    return (ia > ib) - (ia < ib);
}

static KdNode *node_at(const KdTree *t, int id)
{
    return (KdNode *)(t->nodes + (size_t)id * t->node_stride);
}

static float *box_of(const KdNode *node) { return (float *)(node + 1); }

static int count_nodes(int rows, int leaf_size)
{
    if (rows <= leaf_size)
        return 1;
    return 1 + count_nodes(rows / 2, leaf_size) + count_nodes(rows - rows / 2, leaf_size);
}

static int build_node(KdTree *t, const float *x, int begin, int end)
{
    const int id = t->node_count++;
    const int d = t->d;
    KdNode *node = node_at(t, id);
    float *lo = box_of(node), *hi = lo + d;
    int dim = 0;
    float widest = -1;
    for (int j = 0; j < d; j++) {
        lo[j] = hi[j] = x[(size_t)t->index[begin] * d + j];
        for (int i = begin + 1; i < end; i++) {
            const float v = x[(size_t)t->index[i] * d + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
        if (hi[j] - lo[j] > widest) {
            widest = hi[j] - lo[j];
            dim = j;
        }
    }
    *node = (KdNode){begin, end, -1, -1};
    if (end - begin <= t->leaf_size)
        return id;
    SortKey key = {x, d, dim};
    qsort_r(t->index + begin, (size_t)(end - begin), sizeof(int), compare_rows, &key);
    const int mid = begin + (end - begin) / 2;
    const int left = build_node(t, x, begin, mid);
    const int right = build_node(t, x, mid, end);
    node_at(t, id)->left = left;
    node_at(t, id)->right = right;
    return id;
}

StatusCode kdtree_build(KdTree *t, const float *x, int n, int d, int leaf_size, Status *st)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || d < 1 || d > KDTREE_MAX_D || leaf_size < 1)
        return status_fail(st, TK_EINVAL,
                           "kd-tree: %d rows x %d features, leaf size %d (need rows >= 1, "
                           "1 <= features <= %d, leaf size >= 1)",
                           n, d, leaf_size, KDTREE_MAX_D);
    t->n = n;
    t->d = d;
    t->leaf_size = leaf_size;
    const int nodes = count_nodes(n, leaf_size);
    t->points = malloc((size_t)n * d * sizeof(float));
    t->index = malloc((size_t)n * sizeof(int));
    t->node_stride = (sizeof(KdNode) + 2 * (size_t)d * sizeof(float) + 15) / 16 * 16;
    t->nodes = aligned_alloc(64, ((size_t)nodes * t->node_stride + 63) / 64 * 64);
    if (!t->points || !t->index || !t->nodes) {
        kdtree_free(t);
        return status_fail(st, TK_ENOMEM, "kd-tree: cannot allocate for %d rows", n);
    }
    for (int i = 0; i < n; i++)
        t->index[i] = i;
    build_node(t, x, 0, n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            t->points[(size_t)i * d + j] = x[(size_t)t->index[i] * d + j];
    return TK_OK;
}

static double box_distance(const KdTree *t, int id, const double *q)
{
    const float *lo = box_of(node_at(t, id)), *hi = lo + t->d;
    double s = 0;
    /* At most one of below / above is positive. max(v, 0) is written (v + |v|) / 2, exact and
     * branch-free: compare-and-branch forms mispredict about half the time here. */
    for (int j = 0; j < t->d; j++) {
        const double below = lo[j] - q[j], above = q[j] - hi[j];
        const double out = 0.5 * (below + fabs(below) + above + fabs(above));
        s += out * out;
    }
    return s;
}

/* A child is entered when its box distance does not exceed the heap's worst, equality
 * included, so that an equidistant lower row is never pruned. */
static void search(const KdTree *t, int id, const double *q, NeighbourHeap *h)
{
    const KdNode *node = node_at(t, id);
    if (node->left < 0) {
        const int d = t->d;
        for (int i = node->begin; i < node->end; i++) {
            const float *p = t->points + (size_t)i * d;
            double s = 0;
            for (int j = 0; j < d; j++) {
                const double diff = p[j] - q[j];
                s += diff * diff;
            }
            if (s <= nheap_bound(h))
                nheap_push(h, s, t->index[i]);
        }
        return;
    }
    const double dl = box_distance(t, node->left, q), dr = box_distance(t, node->right, q);
    const int near = dl <= dr ? node->left : node->right;
    const int far = dl <= dr ? node->right : node->left;
    if ((dl <= dr ? dl : dr) <= nheap_bound(h))
        search(t, near, q, h);
    if ((dl <= dr ? dr : dl) <= nheap_bound(h))
        search(t, far, q, h);
}

void kdtree_query(const KdTree *t, const float *q, int k, int *idx, double *sqdist)
{
    double qd[KDTREE_MAX_D];
    for (int j = 0; j < t->d; j++)
        qd[j] = q[j];
    NeighbourHeap h;
    nheap_init(&h, sqdist, idx, k);
    search(t, 0, qd, &h);
    nheap_sort(&h);
}

void kdtree_free(KdTree *t)
{
    free(t->points);
    free(t->index);
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
