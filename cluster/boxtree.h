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
} BoxTree;

StatusCode box_build(BoxTree *t, const float *x, int n, int d, Status *st);
void box_free(BoxTree *t);
float box_sqdist(const float *a, const float *b, int d);
/* |a - b|² <= r2 (r2f = (float)r2), exact near the boundary. */
int box_within(const float *a, const float *b, int d, float r2f, double r2);
/* Squared distance from q to node's box, or some value above limit (stops early). */
float box_dist(const BoxTree *t, int node, const float *q, float limit);
/* Rows within r of q, counted up to cap. */
int box_count(const BoxTree *t, const float *q, float r2f, double r2, int cap);
/* Sum (double, d) and count of the rows within r of q. */
int box_range_sum(const BoxTree *t, const float *q, float r2f, double r2, double *sum);

#endif
