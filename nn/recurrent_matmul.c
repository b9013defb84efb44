/* recurrent_matmul.c — the small product inside every recurrent step, out (+)= h W, with
 * h [B x K] (a batch of hidden states, K = H) and W [K x N] (N = 3H or 4H gate columns, or the
 * reverse product in backward). For B = 64, K = 32 a general SGEMM spends more on packing
 * both operands at every step than on the arithmetic; here W is read in place (forward passes
 * transpose W_hh once per sequence) and the batch streams through registers. Each output sums
 * k = 0..K-1 in order, whatever the SIMD level or thread count. */
#include "nn.h"
#include "nn_internal.h"

void rnn_matmul_scalar(const float *h, int ldh, const float *w, int ldw, const float *init,
                       int ldi, const float *bias, float *out, int ldo, int B, int K, int N)
{
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * ldo;
        const float *hb = h + (size_t)b * ldh;
        const float *ib = init ? init + (size_t)b * ldi : NULL;
        for (int n = 0; n < N; n++)
            o[n] = (ib ? ib[n] : 0.0f) + (bias ? bias[n] : 0.0f);
        for (int k = 0; k < K; k++) {
            const float hk = hb[k];
            const float *wk = w + (size_t)k * ldw;
            for (int n = 0; n < N; n++)
                o[n] += hk * wk[n];
        }
    }
}

void transpose_weights(const float *w, int rows, int cols, float *wt)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            wt[(size_t)c * rows + r] = w[(size_t)r * cols + c];
}

void rnn_matmul(const float *h, int ldh, const float *w, int ldw, const float *init, int ldi,
                const float *bias, float *out, int ldo, int B, int K, int N)
{
    if (simd_active() >= SIMD_AVX2 && N % 8 == 0)
        rnn_matmul_avx2(h, ldh, w, ldw, init, ldi, bias, out, ldo, B, K, N);
    else
        rnn_matmul_scalar(h, ldh, w, ldw, init, ldi, bias, out, ldo, B, K, N);
}
