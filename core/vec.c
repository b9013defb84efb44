/* vec.c — element-wise helpers: the scalar path (always built, always tested) and the
 * dispatch to the AVX2 twins in vec_avx2.c. The scalar path uses libm, so it is also the
 * accuracy reference for the vectorised approximations. */
#include "core.h"
#include "simd_internal.h"

#include <math.h>

void vec_add_bias(float *y, const float *bias, int rows, int cols)
{
    if (simd_active() >= SIMD_AVX2) {
        vec_add_bias_avx2(y, bias, rows, cols);
        return;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[(size_t)r * cols + c] += bias[c];
}

void vec_sum_rows(float *db, const float *dy, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            db[c] += dy[(size_t)r * cols + c];
}

void vec_add(float *y, const float *x, size_t n)
{
    if (simd_active() >= SIMD_AVX2) {
        vec_add_avx2(y, x, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

void vec_scale(float *y, float s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] *= s;
}

void vec_axpy(float *y, float a, const float *x, size_t n)
{
    if (simd_active() >= SIMD_AVX2) {
        vec_axpy_avx2(y, a, x, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

void vec_mul(float *y, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] * b[i];
}

float vec_dot(const float *a, const float *b, size_t n)
{
    if (simd_active() >= SIMD_AVX2)
        return vec_dot_avx2(a, b, n);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

float vec_sum_squares(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return (float)s;
}

void vec_sigmoid(float *x, size_t n)
{
    if (simd_active() >= SIMD_AVX2) {
        vec_sigmoid_avx2(x, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = 1.0f / (1.0f + expf(-x[i]));
}

void vec_tanh(float *x, size_t n)
{
    if (simd_active() >= SIMD_AVX2) {
        vec_tanh_avx2(x, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = tanhf(x[i]);
}

void vec_relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void vec_relu6(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? (x[i] < 6.0f ? x[i] : 6.0f) : 0.0f;
}

void vec_sigmoid_backward(float *dx, const float *y, const float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void vec_tanh_backward(float *dx, const float *y, const float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void vec_relu_backward(float *dx, const float *y, const float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* At the clip points the derivative is taken as 0, as PyTorch's hardtanh backward does. */
void vec_relu6_backward(float *dx, const float *y, const float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (y[i] > 0.0f && y[i] < 6.0f) ? dy[i] : 0.0f;
}
