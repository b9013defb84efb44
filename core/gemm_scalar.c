/* gemm_scalar.c — the portable SGEMM micro-kernel: plain C for baseline x86-64 (or any CPU),
 * used at SIMD_SCALAR and as the twin the tests hold the SIMD kernels against.
 * The contract is in gemm_internal.h. */
#include "gemm_internal.h"

enum { MR = GEMM_SCALAR_MR, NR = GEMM_SCALAR_NR };

/* Element (i, p) of A at a[i*a_row + p*a_step]: (1, MR) packed, (lda, 1) in place. */
static inline __attribute__((always_inline)) void
kernel_body(int kc, const float *a_panel, ptrdiff_t a_row, ptrdiff_t a_step,
            const float *b_panel, float alpha, float beta, float *c, ptrdiff_t ldc, int rows,
            int cols)
{
    /* Loops with constant trip counts over a local tile: the compiler keeps it in registers and
     * may vectorise the j loop with whatever the baseline target offers. */
    float tile[MR][NR] = {{0}};
    for (int p = 0; p < kc; p++) {
        const float *a = a_panel + (ptrdiff_t)p * a_step;
        const float *b = b_panel + (ptrdiff_t)p * NR;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                tile[i][j] += a[i * a_row] * b[j];
    }

    /* beta is tested once per tile, not per element; beta == 0 must not read C (it may hold
     * NaN or uninitialised memory). */
    for (int i = 0; i < rows; i++) {
        float *c_row = c + (ptrdiff_t)i * ldc;
        if (beta == 0.0f) {
            for (int j = 0; j < cols; j++)
                c_row[j] = alpha * tile[i][j];
        } else if (beta == 1.0f) {
            for (int j = 0; j < cols; j++)
                c_row[j] += alpha * tile[i][j];
        } else {
            for (int j = 0; j < cols; j++)
                c_row[j] = beta * c_row[j] + alpha * tile[i][j];
        }
    }
}

void gemm_kernel_scalar(int kc, const float *a_panel, const float *b_panel, float alpha,
                        float beta, float *c, ptrdiff_t ldc, int rows, int cols)
{
    kernel_body(kc, a_panel, 1, MR, b_panel, alpha, beta, c, ldc, rows, cols);
}

void gemm_kernel_rows_scalar(int kc, const float *a, ptrdiff_t lda, const float *b_panel,
                             float alpha, float beta, float *c, ptrdiff_t ldc, int rows, int cols)
{
    kernel_body(kc, a, lda, 1, b_panel, alpha, beta, c, ldc, rows, cols);
}
