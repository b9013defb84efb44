/* quadtree_simd.h — private to cluster/: the grouped Barnes-Hut repulsion of quadtree.c and its
 * AVX2 twin (quadtree_avx2.c, called only when simd_active() >= SIMD_AVX2). Both walk the
 * cells in the same order and do the same float operations in the same order, without fused
 * multiply-adds, so they give the same bits. */
#ifndef TAKT_QUADTREE_SIMD_H
#define TAKT_QUADTREE_SIMD_H

#include "cluster.h"

/* scikit-learn's duplicate tolerance (_quad_tree.pyx, EPSILON): points closer than this in
 * both coordinates share a leaf, and a point does not repel its own leaf. */
#define QT_DUPLICATE_EPS 1e-6

/* px, py: QT_GROUP coordinates; fx, fy, sq: QT_GROUP float sums (overwritten). */
void quadtree_group_scalar(const QuadCell *cells, int count, const float *px, const float *py,
                           float theta2, float *fx, float *fy, float *sq);
void quadtree_group_avx2(const QuadCell *cells, int count, const float *px, const float *py,
                         float theta2, float *fx, float *fy, float *sq);

/* quadtree_build with the split into subtrees built apart (split = 1) or one insertion after
 * another (0): the same cells either way (quadtree_build splits from QT_PARALLEL_MIN_N). */
StatusCode quadtree_build_split(QuadTree *t, const float *y, int n, const int *order, int split,
                                Status *st);

#endif
