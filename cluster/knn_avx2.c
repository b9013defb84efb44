/* knn_avx2.c — the AVX2/FMA twin of knn_block_sqdist_scalar: four training rows per vector,
 * one FMA per feature. */
#include "knn_simd.h"

#include <immintrin.h>

void knn_block_sqdist_avx2(const double *blocks, int nblocks, int d, const double *q,
                           double *out)
{
    for (int b = 0; b < nblocks; b++) {
        const double *blk = blocks + (size_t)b * d * 4;
        __m256d acc = _mm256_setzero_pd();
        for (int j = 0; j < d; j++) {
            const __m256d diff = _mm256_sub_pd(_mm256_loadu_pd(blk + 4 * j), _mm256_set1_pd(q[j]));
            acc = _mm256_fmadd_pd(diff, diff, acc);
        }
        _mm256_storeu_pd(out + 4 * b, acc);
    }
}
