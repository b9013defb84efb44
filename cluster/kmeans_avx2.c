/* kmeans_avx2.c — the AVX2 twin of kmeans_partial_dist_scalar (kmeans_simd.h): each feature
 * of a row is broadcast and multiplied into eight centres at once (a vector of ct), four rows
 * by two vectors of centres at a time (eight rows by one when one vector holds them all), so
 * eight independent FMA chains keep both FMA units busy; rows left over go one at a time. */
#include "kmeans_simd.h"

#include <immintrin.h>

/* Stores lanes [0, count) of v (count <= 8) to out. */
static void store_lanes(float *out, __m256 v, int count)
{
    if (count >= KMEANS_LANES) {
        _mm256_storeu_ps(out, v);
        return;
    }
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(count),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(out, m, v);
}

/* cnorm[g..] - 2 acc, lanes past k dropped. */
static void finish(float *out, __m256 acc, const float *cnorm, int g, int k)
{
    const __m256 v = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f), acc, _mm256_loadu_ps(cnorm + g));
    store_lanes(out + g, v, k - g);
}

/* Eight consecutive rows from xr (row stride d) against the centres of vector g. */
static void eight_rows_one_vector(const float *xr, int d, const float *ct, int kp,
                                  const float *cnorm, int k, int g, float *out)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
           a7 = a0;
    const float *col = ct + g;
    const size_t s = (size_t)d;
    for (int f = 0; f < d; f++, col += kp, xr++) {
        const __m256 w = _mm256_loadu_ps(col);
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr), w, a0);
        a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + s), w, a1);
        a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + 2 * s), w, a2);
        a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + 3 * s), w, a3);
        a4 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + 4 * s), w, a4);
        a5 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + 5 * s), w, a5);
        a6 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + 6 * s), w, a6);
        a7 = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + 7 * s), w, a7);
    }
    finish(out, a0, cnorm, g, k);
    finish(out + k, a1, cnorm, g, k);
    finish(out + 2 * k, a2, cnorm, g, k);
    finish(out + 3 * k, a3, cnorm, g, k);
    finish(out + 4 * k, a4, cnorm, g, k);
    finish(out + 5 * k, a5, cnorm, g, k);
    finish(out + 6 * k, a6, cnorm, g, k);
    finish(out + 7 * k, a7, cnorm, g, k);
}

/* Four consecutive rows from xr against the centres of vectors g and g + 8. */
static void four_rows_two_vectors(const float *xr, int d, const float *ct, int kp,
                                  const float *cnorm, int k, int g, float *out)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0,
           b3 = a0;
    const float *col = ct + g;
    const size_t s = (size_t)d;
    for (int f = 0; f < d; f++, col += kp, xr++) {
        const __m256 w = _mm256_loadu_ps(col), v = _mm256_loadu_ps(col + 8);
        __m256 x = _mm256_broadcast_ss(xr);
        a0 = _mm256_fmadd_ps(x, w, a0);
        b0 = _mm256_fmadd_ps(x, v, b0);
        x = _mm256_broadcast_ss(xr + s);
        a1 = _mm256_fmadd_ps(x, w, a1);
        b1 = _mm256_fmadd_ps(x, v, b1);
        x = _mm256_broadcast_ss(xr + 2 * s);
        a2 = _mm256_fmadd_ps(x, w, a2);
        b2 = _mm256_fmadd_ps(x, v, b2);
        x = _mm256_broadcast_ss(xr + 3 * s);
        a3 = _mm256_fmadd_ps(x, w, a3);
        b3 = _mm256_fmadd_ps(x, v, b3);
    }
    finish(out, a0, cnorm, g, k);
    finish(out, b0, cnorm, g + 8, k);
    finish(out + k, a1, cnorm, g, k);
    finish(out + k, b1, cnorm, g + 8, k);
    finish(out + 2 * k, a2, cnorm, g, k);
    finish(out + 2 * k, b2, cnorm, g + 8, k);
    finish(out + 3 * k, a3, cnorm, g, k);
    finish(out + 3 * k, b3, cnorm, g + 8, k);
}

/* One row against every vector of centres. */
static void one_row(const float *xr, int d, const float *ct, int kp, const float *cnorm, int k,
                    float *out)
{
    for (int g = 0; g < kp; g += 8) {
        __m256 a = _mm256_setzero_ps();
        for (int f = 0; f < d; f++)
            a = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + f),
                                _mm256_loadu_ps(ct + (size_t)f * kp + g), a);
        finish(out, a, cnorm, g, k);
    }
}

void kmeans_partial_dist_avx2(const float *x, int rows, int d, const float *ct,
                              const float *cnorm, int k, float *out)
{
    const int kp = (k + KMEANS_LANES - 1) / KMEANS_LANES * KMEANS_LANES;
    const int pairs_end = kp / 16 * 16;
    const int step = pairs_end < kp ? 8 : 4;
    int r = 0;
    for (; r + step <= rows; r += step) {
        const float *xr = x + (size_t)r * d;
        float *o = out + (size_t)r * k;
        for (int g = 0; g < pairs_end; g += 16)
            for (int h = 0; h < step; h += 4)
                four_rows_two_vectors(xr + (size_t)h * d, d, ct, kp, cnorm, k, g,
                                      o + (size_t)h * k);
        if (pairs_end < kp)
            eight_rows_one_vector(xr, d, ct, kp, cnorm, k, pairs_end, o);
    }
    for (; r < rows; r++)
        one_row(x + (size_t)r * d, d, ct, kp, cnorm, k, out + (size_t)r * k);
}
