/* vec_math_avx2.h — the AVX2/FMA exp, sigmoid and tanh of eight floats, shared by the
 * element-wise helpers (core/vec_avx2.c) and the fused recurrent-cell kernels
 * (nn/recurrent_cell_avx2.c). Include only from files compiled with -mavx2 -mfma (*_avx2.c).
 *
 * exp uses the Cody–Waite range reduction x = n·ln2 + r, |r| <= ln2/2, and a degree-6
 * polynomial for e^r (the classic Cephes expf coefficients); measured max relative error
 * against libm expf ~2e-7 over [-87, 88]. */
#ifndef TAKT_VEC_MATH_AVX2_H
#define TAKT_VEC_MATH_AVX2_H

#include <immintrin.h>

static inline __m256 exp256(__m256 x)
{
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-88.3762626647949f);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* ln2 split in a part exact in float and a correction, so r keeps its low bits. */
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* 1 / (1 + e^-x) */
static inline __m256 sigmoid256(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/* tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1)): no cancellation for large |x|, absolute error
 * ~1e-7 near 0 where the result itself is small. */
static inline __m256 tanh256(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    const __m256 sign = _mm256_and_ps(x, sign_mask);
    const __m256 a = _mm256_andnot_ps(sign_mask, x);
    const __m256 e = exp256(_mm256_mul_ps(two, a));
    const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(e, one)));
    return _mm256_or_ps(t, sign);
}

#endif
