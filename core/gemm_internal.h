/* gemm_internal.h — private to the SGEMM: the micro-kernel contract shared by gemm.c and the
 * per-level kernels (gemm_scalar.c, gemm_avx2.c, gemm_avx512.c), and their register-block sizes.
 *
 * The design is the one of Goto & van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication" (ACM TOMS, 2008) as refined by BLIS (Van Zee & van de Geijn, "BLIS: A Framework
 * for Rapidly Instantiating BLAS Functionality", ACM TOMS, 2015): the driver packs op(A) into
 * panels of MR rows and op(B) into panels of NR columns, each stored k-major, so that the
 * micro-kernel streams both with unit stride and keeps an MR x NR tile of C in registers.
 */
#ifndef TAKT_GEMM_INTERNAL_H
#define TAKT_GEMM_INTERNAL_H

#include <stddef.h>

/* Register blocks. The scalar one is small enough for the 16 SSE registers of baseline
 * x86-64; AVX2's 6x16 uses 12 of the 16 ymm registers for C (BLIS's Haswell/Zen choice);
 * AVX-512's 12x32 uses 24 of the 32 zmm registers. */
#define GEMM_SCALAR_MR 4
#define GEMM_SCALAR_NR 8
#define GEMM_AVX2_MR 6
#define GEMM_AVX2_NR 16
#define GEMM_AVX512_MR 12
#define GEMM_AVX512_NR 32

/* One MR x NR tile of C:
 *   tile = sum over p < kc of a_panel[p*MR + i] * b_panel[p*NR + j]
 *   C[i*ldc + j] = alpha * tile + beta * C[i*ldc + j]   for i < rows, j < cols,
 * where beta == 0 writes C without reading it. The panels always hold a whole tile (the driver
 * pads them with zeros), so the kernel never branches on the shape inside its k loop; only the
 * final write differs for a partial tile (rows < MR or cols < NR), which goes through a local
 * buffer. kc >= 1. b_panel is aligned to min(4 * NR, 64) bytes (the driver's buffer is 64-byte
 * aligned and panels are kc * NR floats apart), so the AVX2 and AVX-512 kernels load B aligned. */
typedef void (*GemmMicroKernel)(int kc, const float *a_panel, const float *b_panel, float alpha,
                                float beta, float *c, ptrdiff_t ldc, int rows, int cols);

void gemm_kernel_scalar(int kc, const float *a_panel, const float *b_panel, float alpha,
                        float beta, float *c, ptrdiff_t ldc, int rows, int cols);
void gemm_kernel_avx2(int kc, const float *a_panel, const float *b_panel, float alpha, float beta,
                      float *c, ptrdiff_t ldc, int rows, int cols);

/* The same tile with A read where it lies instead of from a packed panel: element (i, p) at
 * a[i*lda + p], for all MR rows i (the driver uses it for whole row panels of op(A) = A of one
 * depth block only) and p < kc. Same arithmetic in the same order as the packed kernel of the
 * level, so the same bits. For the recurrent layers' input projections, input gradients and
 * output layer (row-major A, K = 64..128) it measured 5% faster than packing A first. */
typedef void (*GemmMicroKernelRows)(int kc, const float *a, ptrdiff_t lda, const float *b_panel,
                                    float alpha, float beta, float *c, ptrdiff_t ldc, int rows,
                                    int cols);

void gemm_kernel_rows_scalar(int kc, const float *a, ptrdiff_t lda, const float *b_panel,
                             float alpha, float beta, float *c, ptrdiff_t ldc, int rows,
                             int cols);
void gemm_kernel_rows_avx2(int kc, const float *a, ptrdiff_t lda, const float *b_panel,
                           float alpha, float beta, float *c, ptrdiff_t ldc, int rows, int cols);
/* Packs `panels` x 6 rows of A (row r at src + r*ld, `depth` contiguous floats each) into
 * panels of GEMM_AVX2_MR = 6 rows, dst[q][p*6 + r] (q-th panel at dst + q*depth*6): what the
 * driver's generic packing does for op(A) = A, with 4 x 4 transposes in SSE registers instead
 * of one load per element (gemm_avx2.c; pure data movement, so the same bytes). */
void gemm_pack_rows6_avx2(const float *src, ptrdiff_t ld, int panels, int depth, float *dst);

void gemm_kernel_avx512(int kc, const float *a_panel, const float *b_panel, float alpha,
                        float beta, float *c, ptrdiff_t ldc, int rows, int cols);

/* 1 when the driver computes an m x n x k product as its transpose (gemm.c; exposed for
 * tests/test_gemm.c to aim at both orientations). */
int gemm_transposes_c(int mr, int nr, int m, int n, int k);

#endif
