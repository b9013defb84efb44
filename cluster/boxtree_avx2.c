/* boxtree_avx2.c — the AVX2 twins of boxtree.c's two inner loops (box_sqdist_scalar and
 * box_gap_scalar), eight dimensions per vector; the last partial vector is loaded masked (its
 * missing lanes read as 0, so they add nothing). In 32-D a branch per dimension with an early
 * exit (the scalar way) costs more than all 32 dimensions at once. */
#include "boxtree.h"

#include <immintrin.h>

/* Lanes [0, left) set, for a masked load of the last left < 8 floats. */
static __m256i tail_mask(int left)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane);
}

static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

float box_sqdist_avx2(const float *a, const float *b, int d)
{
    __m256 acc = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= d; j += 8) {
        const __m256 t = _mm256_sub_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j));
        acc = _mm256_fmadd_ps(t, t, acc);
    }
    if (j < d) {
        const __m256i m = tail_mask(d - j);
        const __m256 t = _mm256_sub_ps(_mm256_maskload_ps(a + j, m), _mm256_maskload_ps(b + j, m));
        acc = _mm256_fmadd_ps(t, t, acc);
    }
    return hsum(acc);
}

float box_gap_avx2(const float *lo, const float *hi, const float *q, int d)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 acc = zero;
    int j = 0;
    for (; j + 8 <= d; j += 8) {
        const __m256 x = _mm256_loadu_ps(q + j);
        const __m256 below = _mm256_sub_ps(_mm256_loadu_ps(lo + j), x);
        const __m256 above = _mm256_sub_ps(x, _mm256_loadu_ps(hi + j));
        const __m256 gap = _mm256_max_ps(_mm256_max_ps(below, above), zero);
        acc = _mm256_fmadd_ps(gap, gap, acc);
    }
    if (j < d) {
        const __m256i m = tail_mask(d - j);
        const __m256 x = _mm256_maskload_ps(q + j, m);
        const __m256 below = _mm256_sub_ps(_mm256_maskload_ps(lo + j, m), x);
        const __m256 above = _mm256_sub_ps(x, _mm256_maskload_ps(hi + j, m));
        const __m256 gap = _mm256_max_ps(_mm256_max_ps(below, above), zero);
        acc = _mm256_fmadd_ps(gap, gap, acc);
    }
    return hsum(acc);
}
