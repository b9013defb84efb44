/* boxtree.h — the kd-tree with bounding boxes behind DBSCAN's and mean-shift's range queries
 * (internal to cluster/; the public KNN kd-tree is another, in cluster.h). Built over float
 * rows (median split on the widest dimension, Bentley 1975), every node keeps its box so that a
 * query prunes whole subtrees; squared distances are compared in float, and pairs within
 * BOX_RECHECK of r² are decided again in double. */
#ifndef TAKT_BOXTREE_H
#define TAKT_BOXTREE_H

#include "../core/core.h"

#define BOX_LEAF 32
#define BOX_STACK 128 /* traversal stack: 2 per level of a median-split tree */
#define BOX_RECHECK 1e-5f

typedef struct {
    int n, d, n_nodes;
    const float *x; /* the caller's rows */
    float *xt;      /* rows in tree order */
    int *idx;       /* tree position -> row */
    int *start, *end, *left, *right; /* per node; left < 0 for a leaf */
    float *lo, *hi; /* per node bounding box, n_nodes x d */
    int avx2;       /* simd_active() allowed AVX2 at build: the kernels of boxtree_avx2.c */
} BoxTree;

StatusCode box_build(BoxTree *t, const float *x, int n, int d, Status *st);
void box_free(BoxTree *t);
/* |a - b|² of two rows of t->d floats. */
float box_sqdist(const BoxTree *t, const float *a, const float *b);
/* |a - b|² <= r2 (r2f = (float)r2), exact near the boundary. */
int box_within(const BoxTree *t, const float *a, const float *b, float r2f, double r2);
/* Squared distance from q to node's box, or some value above limit (stops early). */
float box_dist(const BoxTree *t, int node, const float *q, float limit);
/* A depth-first walk over the leaves whose boxes come within r of q (r2f = r², widened by
 * BOX_RECHECK so that no row the double recheck would accept is pruned):
 *     BoxWalk w;
 *     box_walk_start(&w, r2f);
 *     for (int leaf; (leaf = box_walk_next(t, &w, q)) >= 0;) ...
 * so that each range query spells out only what it does with a leaf's rows. */
typedef struct {
    int stack[BOX_STACK], top;
    float prune;
} BoxWalk;

static inline void box_walk_start(BoxWalk *w, float r2f)
{
    w->stack[0] = 0;
    w->top = 1;
    w->prune = r2f * (1.0f + BOX_RECHECK);
}

static inline int box_walk_next(const BoxTree *t, BoxWalk *w, const float *q)
{
    while (w->top > 0) {
        const int node = w->stack[--w->top];
        if (box_dist(t, node, q, w->prune) > w->prune)
            continue;
        if (t->left[node] < 0)
            return node;
        w->stack[w->top++] = t->left[node];
        w->stack[w->top++] = t->right[node];
    }
    return -1;
}

/* Rows within r of q, counted up to cap. */
int box_count(const BoxTree *t, const float *q, float r2f, double r2, int cap);
/* Sum (double, d) and count of the rows within r of q. */
int box_range_sum(const BoxTree *t, const float *q, float r2f, double r2, double *sum);

/* The kernels behind box_sqdist and box_dist: squared distance between two d-vectors, and
 * from q to the box [lo, hi] (the scalar one stops once past limit; the AVX2 twin, in
 * boxtree_avx2.c and called only when simd_active() allows, always sums all d). */
float box_sqdist_scalar(const float *a, const float *b, int d);
float box_gap_scalar(const float *lo, const float *hi, const float *q, int d, float limit);
float box_sqdist_avx2(const float *a, const float *b, int d);
float box_gap_avx2(const float *lo, const float *hi, const float *q, int d);

#endif
