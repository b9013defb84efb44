/* knn_simd.h — private to cluster/: the brute-force distance kernel of knn.c and its AVX2
 * twin (knn_avx2.c, called only when simd_active() >= SIMD_AVX2). Training rows are stored
 * in blocks of 4, feature-major inside a block (block b, feature j: rows 4b..4b+3), so each
 * lane of a vector follows one row and a row's sum runs over the features in order. */
#ifndef TAKT_KNN_SIMD_H
#define TAKT_KNN_SIMD_H

/* out[4 * nblocks]: squared Euclidean distance (double) from q[d] to every row. */
void knn_block_sqdist_scalar(const double *blocks, int nblocks, int d, const double *q,
                             double *out);
void knn_block_sqdist_avx2(const double *blocks, int nblocks, int d, const double *q,
                           double *out);

#endif
