/* tsne_simd.h — private to cluster/: the Barnes-Hut attraction of tsne.c and its AVX2 twin
 * (tsne_avx2.c, called only when simd_active() >= SIMD_AVX2). In float, as scikit-learn's
 * compute_gradient_positive; both keep eight partial sums, entry e of the row in sum e mod 8
 * (a short last group padded with zero terms), do the same operations in the same order
 * without fused multiply-adds, and add the sums as a vector halving does
 * (((0+4) + (2+6)) + ((1+5) + (3+7))), so they give the same bits. */
#ifndef TAKT_TSNE_SIMD_H
#define TAKT_TSNE_SIMD_H

#define TSNE_LANES 8

/* The attraction on point i of the embedding y (n x 2): the sum over its count entries
 * (columns col, values val) of p * q * (y_i - y_j), p = val * exaggeration and
 * q = 1 / (1 + |y_i - y_j|²), into force[2]. */
void tsne_attract_scalar(const float *y, int i, const int *col, const float *val, int count,
                         float exaggeration, double *force);
void tsne_attract_avx2(const float *y, int i, const int *col, const float *val, int count,
                       float exaggeration, double *force);

#endif
