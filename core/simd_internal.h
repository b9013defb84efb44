/* simd_internal.h — private to core/: the AVX2 twins of the element-wise helpers in vec.c.
 * vec.c dispatches to them by simd_active(); they live in a file compiled with -mavx2 -mfma. */
#ifndef TAKT_SIMD_INTERNAL_H
#define TAKT_SIMD_INTERNAL_H

#include <stddef.h>

void vec_add_bias_avx2(float *y, const float *bias, int rows, int cols);
void vec_axpy_avx2(float *y, float a, const float *x, size_t n);
void vec_add_avx2(float *y, const float *x, size_t n);
float vec_dot_avx2(const float *a, const float *b, size_t n);
void vec_sigmoid_avx2(float *x, size_t n);
void vec_tanh_avx2(float *x, size_t n);

#endif
