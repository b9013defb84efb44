/* kdtree.c — exact k-nearest-neighbour search in low dimensions: a balanced kd-tree split at
 * the median of the widest dimension, searched nearest child first with the incremental
 * box distance of Arya & Mount ("Algorithms for fast vector quantization", 1993), so that a
 * subtree is pruned by its true distance to the query, not just the distance to one plane. */
#include "cluster.h"
#include "neighbour_heap.h"

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

static int count_nodes(int rows, int leaf_size)
{
    if (rows <= leaf_size)
        return 1;
    return 1 + count_nodes(rows / 2, leaf_size) + count_nodes(rows - rows / 2, leaf_size);
}

static int build_node(KdTree *t, const float *x, int begin, int end)
{
    const int id = t->node_count++;
    KdNode *node = &t->nodes[id];
    node->begin = begin;
    node->end = end;
    node->dim = -1;
    node->left = node->right = -1;
    node->split = 0;
    if (end - begin <= t->leaf_size)
        return id;
    int dim = 0;
    float widest = -1;
    for (int j = 0; j < t->d; j++) {
        float lo = x[(size_t)t->index[begin] * t->d + j], hi = lo;
        for (int i = begin + 1; i < end; i++) {
            const float v = x[(size_t)t->index[i] * t->d + j];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (hi - lo > widest) {
            widest = hi - lo;
            dim = j;
        }
    }
    SortKey key = {x, t->d, dim};
    qsort_r(t->index + begin, (size_t)(end - begin), sizeof(int), compare_rows, &key);
    const int mid = begin + (end - begin) / 2;
    /* Left rows are <= split and right rows >= split, so (q - split)^2 bounds both sides. */
    const double split = x[(size_t)t->index[mid] * t->d + dim];
    const int left = build_node(t, x, begin, mid);
    const int right = build_node(t, x, mid, end);
    node = &t->nodes[id];
    node->dim = dim;
    node->split = split;
    node->left = left;
    node->right = right;
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
    t->points = malloc((size_t)n * d * sizeof(double));
    t->index = malloc((size_t)n * sizeof(int));
    t->nodes = malloc((size_t)nodes * sizeof(KdNode));
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

/* rd is the squared distance from q to the node's cell, off[j] the per-dimension offsets that
 * make it up. A subtree is entered when its bound does not exceed the heap's worst, equality
 * included, so that an equidistant lower row is never pruned. */
static void search(const KdTree *t, int id, const double *q, double rd, double *off,
                   NeighbourHeap *h)
{
    const KdNode *node = &t->nodes[id];
    if (node->dim < 0) {
        const int d = t->d;
        for (int i = node->begin; i < node->end; i++) {
            const double *p = t->points + (size_t)i * d;
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
    const double diff = q[node->dim] - node->split;
    const int near = diff < 0 ? node->left : node->right;
    const int far = diff < 0 ? node->right : node->left;
    search(t, near, q, rd, off, h);
    const double old = off[node->dim];
    const double rd_far = rd - old * old + diff * diff;
    if (rd_far <= nheap_bound(h)) {
        off[node->dim] = diff;
        search(t, far, q, rd_far, off, h);
        off[node->dim] = old;
    }
}

void kdtree_query(const KdTree *t, const float *q, int k, int *idx, double *sqdist)
{
    double qd[KDTREE_MAX_D], off[KDTREE_MAX_D];
    for (int j = 0; j < t->d; j++) {
        qd[j] = q[j];
        off[j] = 0;
    }
    NeighbourHeap h;
    nheap_init(&h, sqdist, idx, k);
    search(t, 0, qd, 0.0, off, &h);
    nheap_sort(&h);
}

void kdtree_free(KdTree *t)
{
    free(t->points);
    free(t->index);
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
