/* loss_avx2.c — the AVX2 twin of mse_sum_scalar (compiled with -mavx2 -mfma): eight
 * differences at a time, their squares summed in double in two four-lane accumulators (the
 * scalar loop waits on one double add per value), the gradient computed as the scalar loop does
 * (one rounded multiply, no fused multiply-add), so it has the same bits. */
#include "nn.h"
#include "nn_internal.h"

#include <immintrin.h>

double mse_sum_avx2(const float *pred, const float *target, size_t n, float scale, float *dpred,
                    size_t *done)
{
    const __m256 s = _mm256_set1_ps(scale);
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(pred + i), _mm256_loadu_ps(target + i));
        const __m256d d_lo = _mm256_cvtps_pd(_mm256_castps256_ps128(d));
        const __m256d d_hi = _mm256_cvtps_pd(_mm256_extractf128_ps(d, 1));
        lo = _mm256_add_pd(lo, _mm256_mul_pd(d_lo, d_lo));
        hi = _mm256_add_pd(hi, _mm256_mul_pd(d_hi, d_hi));
        if (dpred)
            _mm256_storeu_ps(dpred + i, _mm256_mul_ps(s, d));
    }
    *done = i;
    _Alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(lo, hi));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}
