/* nn_internal.h — private to nn/: the SIMD twins of nn's kernels (dispatched by simd_active(),
 * compared with their scalar twins by tests/test_nn_kernels.c) and helpers the models share. */
#ifndef TAKT_NN_INTERNAL_H
#define TAKT_NN_INTERNAL_H

/* out[b][n] = (accumulate ? out[b][n] : 0) + sum_k h[b][k] w[k][n]; rows at strides ldh, ldw,
 * ldo. The AVX2 twin needs N % 8 == 0. */
void rnn_matmul(const float *h, int ldh, const float *w, int ldw, float *out, int ldo, int B,
                int K, int N, int accumulate);
void rnn_matmul_scalar(const float *h, int ldh, const float *w, int ldw, float *out, int ldo,
                       int B, int K, int N, int accumulate);
void rnn_matmul_avx2(const float *h, int ldh, const float *w, int ldw, float *out, int ldo,
                     int B, int K, int N, int accumulate);

/* wt [cols x rows] = w [rows x cols] transposed. */
void transpose_weights(const float *w, int rows, int cols, float *wt);

/* acc[c] += sum over rows of x[r][c] (bias gradients), rows added in order. */
void column_sums(float *acc, const float *x, int rows, int cols);
void column_sums_scalar(float *acc, const float *x, int rows, int cols);
void column_sums_avx2(float *acc, const float *x, int rows, int cols);

/* A constant input (x_steps == 1): copies the first step's block of `block` floats to the
 * other T-1 steps; nothing otherwise. */
void rnn_repeat_steps(float *steps, int T, int x_steps, size_t block);
/* A constant input: adds the T step blocks [B x G] of dgates into the first one and returns
 * B, the rows the input-side gradient products then use; otherwise returns T*B. */
int rnn_sum_steps(float *dgates, int T, int x_steps, int B, int G);

/* arena_floats that turns exhaustion of a real arena into a status naming `who` (a measuring
 * arena always returns NULL, as planning expects). */
StatusCode arena_take(Arena *a, float **p, size_t count, const char *who, Status *st);
/* [B, T, F] batch-first -> [T, B, F] time-major. */
void to_time_major(const float *x, float *xt, int B, int T, int F);

/* Time index of the k-th processed step of a direction. */
static inline int step_time(int k, int T, int reverse) { return reverse ? T - 1 - k : k; }

#endif
