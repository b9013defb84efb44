/* tsne_avx2.c — the AVX2 twin of tsne_attract_scalar (tsne_simd.h): eight entries of a row at
 * a time, their neighbours' coordinates gathered, one operation per intrinsic (no FMA: the
 * Makefile's -std=c11 leaves contraction off), so the two give the same bits. */
#include "tsne_simd.h"

#include <immintrin.h>

static float halving_sum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

void tsne_attract_avx2(const float *y, int i, const int *col, const float *val, int count,
                       float exaggeration, double *force)
{
    const __m256 xi = _mm256_set1_ps(y[2 * i]), yi = _mm256_set1_ps(y[2 * i + 1]);
    const __m256 one = _mm256_set1_ps(1.0f), ex = _mm256_set1_ps(exaggeration);
    __m256 ax = _mm256_setzero_ps(), ay = _mm256_setzero_ps();
    for (int e = 0; e < count; e += TSNE_LANES) {
        __m256i j;
        __m256 p;
        if (count - e >= TSNE_LANES) {
            j = _mm256_loadu_si256((const __m256i *)(col + e));
            p = _mm256_loadu_ps(val + e);
        } else { /* padding: the point itself with p = 0, a zero term */
            int jt[TSNE_LANES];
            float pt[TSNE_LANES];
            for (int l = 0; l < TSNE_LANES; l++) {
                jt[l] = e + l < count ? col[e + l] : i;
                pt[l] = e + l < count ? val[e + l] : 0.0f;
            }
            j = _mm256_loadu_si256((const __m256i *)jt);
            p = _mm256_loadu_ps(pt);
        }
        const __m256i at = _mm256_slli_epi32(j, 1);
        const __m256 dx = _mm256_sub_ps(xi, _mm256_i32gather_ps(y, at, 4));
        const __m256 dy = _mm256_sub_ps(yi, _mm256_i32gather_ps(y + 1, at, 4));
        const __m256 den =
            _mm256_add_ps(_mm256_add_ps(one, _mm256_mul_ps(dx, dx)), _mm256_mul_ps(dy, dy));
        const __m256 w = _mm256_mul_ps(_mm256_mul_ps(p, ex), _mm256_div_ps(one, den));
        ax = _mm256_add_ps(ax, _mm256_mul_ps(w, dx));
        ay = _mm256_add_ps(ay, _mm256_mul_ps(w, dy));
    }
    force[0] = halving_sum(ax);
    force[1] = halving_sum(ay);
}
