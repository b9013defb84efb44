/* recurrent_matmul_avx2.c — the AVX2/FMA twin of rnn_matmul_scalar (compiled with -mavx2
 * -mfma): six batch rows by sixteen columns at a time (the register tile of a classic AVX2
 * SGEMM micro-kernel): twelve accumulators; each k loads two vectors of W, shared by the six
 * rows, and broadcasts one h value per row. */
#include "nn.h"
#include "nn_internal.h"

#include <immintrin.h>

/* ROWS rows (1..6) x VECS vectors (1 or 2) of 8 columns starting at column n. */
#define RNN_TILE(ROWS, VECS)                                                                    \
    do {                                                                                        \
        __m256 acc[6][2];                                                                       \
        _Pragma("GCC unroll 6") for (int r = 0; r < (ROWS); r++)                                \
            _Pragma("GCC unroll 2") for (int v = 0; v < (VECS); v++)                            \
                acc[r][v] = init ? _mm256_loadu_ps(init + (size_t)(b + r) * ldi + n + 8 * v)    \
                                 : _mm256_setzero_ps();                                         \
        if (bias)                                                                               \
            _Pragma("GCC unroll 6") for (int r = 0; r < (ROWS); r++)                            \
                _Pragma("GCC unroll 2") for (int v = 0; v < (VECS); v++)                        \
                    acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_loadu_ps(bias + n + 8 * v));    \
        for (int k = 0; k < K; k++) {                                                           \
            __m256 wv[2];                                                                       \
            _Pragma("GCC unroll 2") for (int v = 0; v < (VECS); v++)                            \
                wv[v] = _mm256_loadu_ps(w + (size_t)k * ldw + n + 8 * v);                       \
            _Pragma("GCC unroll 6") for (int r = 0; r < (ROWS); r++) {                          \
                const __m256 hv = _mm256_broadcast_ss(h + (size_t)(b + r) * ldh + k);           \
                _Pragma("GCC unroll 2") for (int v = 0; v < (VECS); v++)                        \
                    acc[r][v] = _mm256_fmadd_ps(hv, wv[v], acc[r][v]);                          \
            }                                                                                   \
        }                                                                                       \
        _Pragma("GCC unroll 6") for (int r = 0; r < (ROWS); r++)                                \
            _Pragma("GCC unroll 2") for (int v = 0; v < (VECS); v++)                            \
                _mm256_storeu_ps(out + (size_t)(b + r) * ldo + n + 8 * v, acc[r][v]);           \
    } while (0)

#define REMAINDER_ROWS(ROWS)                                                                    \
    do {                                                                                        \
        int n = 0;                                                                              \
        for (; n + 16 <= N; n += 16)                                                            \
            RNN_TILE(ROWS, 2);                                                                  \
        for (; n + 8 <= N; n += 8)                                                              \
            RNN_TILE(ROWS, 1);                                                                  \
    } while (0)

void rnn_matmul_avx2(const float *h, int ldh, const float *w, int ldw, const float *init,
                     int ldi, const float *bias, float *out, int ldo, int B, int K, int N)
{
    int b = 0;
    for (; b + 6 <= B; b += 6) {
        int n = 0;
        for (; n + 16 <= N; n += 16)
            RNN_TILE(6, 2);
        for (; n + 8 <= N; n += 8)
            RNN_TILE(6, 1);
    }
    /* The last B % 6 rows as one tile of that height: row by row, each FMA pair would wait on
     * its own two loads of W (B = 64 left four such rows, ~15 % of the product's time). */
    switch (B - b) {
    case 5: REMAINDER_ROWS(5); break;
    case 4: REMAINDER_ROWS(4); break;
    case 3: REMAINDER_ROWS(3); break;
    case 2: REMAINDER_ROWS(2); break;
    case 1: REMAINDER_ROWS(1); break;
    default: break;
    }
}
