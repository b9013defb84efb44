/* gemm_avx2.c — the AVX2 + FMA SGEMM micro-kernel: a 6 x 16 tile of C in 12 ymm registers.
 * Compiled with -mavx2 -mfma (the _avx2.c suffix); called only when the CPU has both.
 * The contract is in gemm_internal.h.
 *
 * Shape after BLIS's Haswell/Zen sgemm kernel (Van Zee & van de Geijn, 2015): per k step, two
 * aligned loads of the B panel, six broadcasts from the A panel and twelve independent FMAs —
 * enough independent chains to cover the FMA latency (4 cycles on Zen 3 / Skylake) on both FMA
 * pipes, with loads to spare for the broadcasts. */
#include <immintrin.h>

#include "gemm_internal.h"

enum { MR = GEMM_AVX2_MR, NR = GEMM_AVX2_NR };

/* Row i of the tile: one broadcast of A, two FMAs. Row i of A starts at a<i> (a packed panel:
 * a + i, depth steps MR apart; A in place: a + i*lda, steps 1 apart), q is the depth cursor
 * in units of elements: one index register serves the six rows. */
#define AVX2_ROW_FMA(i, p)                                                                       \
    do {                                                                                         \
        const __m256 a_bcast = _mm256_set1_ps(a##i[q + (p) * a_step]);                          \
        c##i##_lo = _mm256_fmadd_ps(a_bcast, b_lo, c##i##_lo);                                   \
        c##i##_hi = _mm256_fmadd_ps(a_bcast, b_hi, c##i##_hi);                                   \
    } while (0)

/* Step p of the k loop, relative to the a and b cursors. */
#define AVX2_K_STEP(p)                                                                           \
    do {                                                                                         \
        const __m256 b_lo = _mm256_load_ps(b + (p) * NR);                                        \
        const __m256 b_hi = _mm256_load_ps(b + (p) * NR + 8);                                    \
        AVX2_ROW_FMA(0, p);                                                                      \
        AVX2_ROW_FMA(1, p);                                                                      \
        AVX2_ROW_FMA(2, p);                                                                      \
        AVX2_ROW_FMA(3, p);                                                                      \
        AVX2_ROW_FMA(4, p);                                                                      \
        AVX2_ROW_FMA(5, p);                                                                      \
    } while (0)

/* C row = alpha * tile row + beta * C row; beta == 0 never loads C. */
static inline void update_row(float *c_row, __m256 tile_lo, __m256 tile_hi, __m256 alpha_v,
                              float beta)
{
    if (beta == 0.0f) {
        _mm256_storeu_ps(c_row, _mm256_mul_ps(alpha_v, tile_lo));
        _mm256_storeu_ps(c_row + 8, _mm256_mul_ps(alpha_v, tile_hi));
    } else if (beta == 1.0f) {
        _mm256_storeu_ps(c_row, _mm256_fmadd_ps(alpha_v, tile_lo, _mm256_loadu_ps(c_row)));
        _mm256_storeu_ps(c_row + 8,
                         _mm256_fmadd_ps(alpha_v, tile_hi, _mm256_loadu_ps(c_row + 8)));
    } else {
        const __m256 beta_v = _mm256_set1_ps(beta);
        _mm256_storeu_ps(c_row, _mm256_fmadd_ps(alpha_v, tile_lo,
                                                _mm256_mul_ps(beta_v, _mm256_loadu_ps(c_row))));
        _mm256_storeu_ps(c_row + 8,
                         _mm256_fmadd_ps(alpha_v, tile_hi,
                                         _mm256_mul_ps(beta_v, _mm256_loadu_ps(c_row + 8))));
    }
}

/* The kernel for either layout of A; inlined into the two entry points below with their
 * strides, so the packed one compiles to constant offsets as before. */
static inline __attribute__((always_inline)) void
kernel_body(int kc, const float *a_panel, ptrdiff_t a_row, ptrdiff_t a_step,
            const float *b_panel, float alpha, float beta, float *c, ptrdiff_t ldc, int rows,
            int cols)
{
    __m256 c0_lo = _mm256_setzero_ps(), c0_hi = _mm256_setzero_ps();
    __m256 c1_lo = _mm256_setzero_ps(), c1_hi = _mm256_setzero_ps();
    __m256 c2_lo = _mm256_setzero_ps(), c2_hi = _mm256_setzero_ps();
    __m256 c3_lo = _mm256_setzero_ps(), c3_hi = _mm256_setzero_ps();
    __m256 c4_lo = _mm256_setzero_ps(), c4_hi = _mm256_setzero_ps();
    __m256 c5_lo = _mm256_setzero_ps(), c5_hi = _mm256_setzero_ps();
    const float *a0 = a_panel, *a1 = a0 + a_row, *a2 = a1 + a_row, *a3 = a2 + a_row;
    const float *a4 = a3 + a_row, *a5 = a4 + a_row;
    ptrdiff_t q = 0;
    const float *b = b_panel;

    /* The tile of C is needed only after the k loop: ask for it now so that its (likely) cache
     * misses overlap the arithmetic (worth 1-2% at n = 1024 on Zen 3). A row of the tile may
     * straddle two cache lines. */
    for (int i = 0; i < rows; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + cols - 1), _MM_HINT_T0);
    }

    int p = 0;
    /* A in place goes one step at a time: unrolled, GCC 12 kept an address per row and step and
     * spilled accumulators (rolled: 5% faster on the recurrent layers' products). The packed
     * panel wants the unrolled loop (rolled, it measured 30% slower). */
    if (a_step == 1)
        for (; p < kc; p++) {
            AVX2_K_STEP(0);
            q++;
            b += NR;
        }
    for (; p + 4 <= kc; p += 4) {
        AVX2_K_STEP(0);
        AVX2_K_STEP(1);
        AVX2_K_STEP(2);
        AVX2_K_STEP(3);
        q += 4 * a_step;
        b += 4 * NR;
    }
    for (; p < kc; p++) {
        AVX2_K_STEP(0);
        q += a_step;
        b += NR;
    }

    /* A partial tile is updated in a local copy by the same code as a whole one, so that every
     * element of C sees the same arithmetic wherever its tile falls. */
    const int partial = rows < MR || cols < NR;
    _Alignas(32) float local_tile[MR * NR];
    float *target = c;
    ptrdiff_t target_ld = ldc;
    if (partial) {
        target = local_tile;
        target_ld = NR;
        if (beta != 0.0f)
            for (int i = 0; i < MR; i++)
                for (int j = 0; j < NR; j++)
                    local_tile[i * NR + j] = i < rows && j < cols ? c[i * ldc + j] : 0.0f;
    }

    const __m256 alpha_v = _mm256_set1_ps(alpha);
    update_row(target + 0 * target_ld, c0_lo, c0_hi, alpha_v, beta);
    update_row(target + 1 * target_ld, c1_lo, c1_hi, alpha_v, beta);
    update_row(target + 2 * target_ld, c2_lo, c2_hi, alpha_v, beta);
    update_row(target + 3 * target_ld, c3_lo, c3_hi, alpha_v, beta);
    update_row(target + 4 * target_ld, c4_lo, c4_hi, alpha_v, beta);
    update_row(target + 5 * target_ld, c5_lo, c5_hi, alpha_v, beta);

    if (partial)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                c[i * ldc + j] = local_tile[i * NR + j];
}

void gemm_kernel_avx2(int kc, const float *a_panel, const float *b_panel, float alpha, float beta,
                      float *c, ptrdiff_t ldc, int rows, int cols)
{
    kernel_body(kc, a_panel, 1, MR, b_panel, alpha, beta, c, ldc, rows, cols);
}

void gemm_kernel_rows_avx2(int kc, const float *a, ptrdiff_t lda, const float *b_panel,
                           float alpha, float beta, float *c, ptrdiff_t ldc, int rows, int cols)
{
    kernel_body(kc, a, lda, 1, b_panel, alpha, beta, c, ldc, rows, cols);
}

void gemm_pack_rows6_avx2(const float *src, ptrdiff_t ld, int panels, int depth, float *dst)
{
    for (int q = 0; q < panels; q++) {
        const float *r0 = src + (ptrdiff_t)q * MR * ld, *r1 = r0 + ld, *r2 = r1 + ld;
        const float *r3 = r2 + ld, *r4 = r3 + ld, *r5 = r4 + ld;
        float *d = dst + (ptrdiff_t)q * MR * depth;
        int p = 0;
        for (; p + 4 <= depth; p += 4) {
            /* Rows 0-3 of depth p..p+3 transposed: one vector per depth step; rows 4-5
             * interleaved in pairs. Each depth step then gets 16 + 8 contiguous bytes. */
            __m128 a0 = _mm_loadu_ps(r0 + p), a1 = _mm_loadu_ps(r1 + p);
            __m128 a2 = _mm_loadu_ps(r2 + p), a3 = _mm_loadu_ps(r3 + p);
            _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
            const __m128 b4 = _mm_loadu_ps(r4 + p), b5 = _mm_loadu_ps(r5 + p);
            const __m128 lo = _mm_unpacklo_ps(b4, b5), hi = _mm_unpackhi_ps(b4, b5);
            float *o = d + (ptrdiff_t)p * MR;
            _mm_storeu_ps(o, a0);
            _mm_storel_pi((__m64 *)(o + 4), lo);
            _mm_storeu_ps(o + 6, a1);
            _mm_storeh_pi((__m64 *)(o + 10), lo);
            _mm_storeu_ps(o + 12, a2);
            _mm_storel_pi((__m64 *)(o + 16), hi);
            _mm_storeu_ps(o + 18, a3);
            _mm_storeh_pi((__m64 *)(o + 22), hi);
        }
        for (; p < depth; p++) {
            float *o = d + (ptrdiff_t)p * MR;
            o[0] = r0[p], o[1] = r1[p], o[2] = r2[p], o[3] = r3[p], o[4] = r4[p], o[5] = r5[p];
        }
    }
}
