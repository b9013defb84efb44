/* kmeans_simd.h — private to cluster/: k-means' distance kernel and its AVX2 twin
 * (kmeans_avx2.c, called only when simd_active() >= SIMD_AVX2). With few centres (k-means'
 * k, k-means++'s trials) a GEMM spends more time packing the rows than multiplying them; this
 * reads each row once, broadcasts its features one by one against the centres laid out
 * feature-major, and needs no horizontal sums. */
#ifndef TAKT_KMEANS_SIMD_H
#define TAKT_KMEANS_SIMD_H

/* Centres padded to a multiple of this many (the lanes of one vector). */
#define KMEANS_LANES 8

/* ct (d x kp, kp = k rounded up to KMEANS_LANES): ct[f * kp + j] = c[j * d + f], padding 0. */
void kmeans_transpose_centers(const float *c, int k, int d, float *ct);

/* out[r * k + j] = cnorm[j] - 2 x_r·c_j for the rows r of x (rows x d) and the k centres given
 * transposed in ct (kmeans_transpose_centers): squared distances short of ‖x_r‖², the GEMM
 * identity with the norms fused. Each dot product sums the features in order. */
void kmeans_partial_dist_scalar(const float *x, int rows, int d, const float *ct,
                                const float *cnorm, int k, float *out);
void kmeans_partial_dist_avx2(const float *x, int rows, int d, const float *ct,
                              const float *cnorm, int k, float *out);

#endif
