/* vec_avx2.c — AVX2/FMA twins of the element-wise helpers (compiled with -mavx2 -mfma);
 * exp, sigmoid and tanh come from vec_math_avx2.h. */
#include "simd_internal.h"
#include "vec_math_avx2.h"

#include <immintrin.h>
#include <math.h>

void vec_add_bias_avx2(float *y, const float *bias, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        float *row = y + (size_t)r * cols;
        int c = 0;
        for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps(row + c, _mm256_add_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(bias + c)));
        for (; c < cols; c++)
            row[c] += bias[c];
    }
}

void vec_add_avx2(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++)
        y[i] += x[i];
}

void vec_axpy_avx2(float *y, float a, const float *x, size_t n)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] = fmaf(a, x[i], y[i]);
}

float vec_dot_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s0 = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float s = _mm_cvtss_f32(h);
    for (; i < n; i++)
        s = fmaf(a[i], b[i], s);
    return s;
}

void vec_sigmoid_avx2(float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, sigmoid256(_mm256_loadu_ps(x + i)));
    for (; i < n; i++)
        x[i] = 1.0f / (1.0f + expf(-x[i]));
}

void vec_tanh_avx2(float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, tanh256(_mm256_loadu_ps(x + i)));
    for (; i < n; i++)
        x[i] = tanhf(x[i]);
}
