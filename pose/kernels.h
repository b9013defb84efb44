/* kernels.h — pose/'s private NHWC kernels (batch 1), in two versions: the naive reference
 * (kernels_ref.c, one output element at a time, straight from the TFLite operator
 * definitions) and the optimised one (kernels.c, AVX2 parts in kernels_avx2.c) that
 * pose/net.c runs. The tests compare the two on random shapes at every SIMD level.
 *
 * Threads: the optimised kernels split output rows (or 1x1-conv tiles) between OpenMP
 * threads, small layers run on one; every output element is computed by one thread in a
 * fixed order, so 1 and N threads give bit-identical results. */
#ifndef TAKT_POSE_KERNELS_H
#define TAKT_POSE_KERNELS_H

#include <stddef.h>

#include "../core/core.h"

/* Geometry of a convolution or pooling window. Input ih x iw x ic, output oh x ow x oc;
 * output pixel (y, x) reads input rows y*sh - pad_top + [0, kh) and columns
 * x*sw - pad_left + [0, kw); positions outside the input count as zero (conv) or are
 * skipped (max-pool). */
typedef struct {
    int ih, iw, ic;
    int oh, ow, oc;
    int kh, kw, sh, sw;
    int pad_top, pad_left;
    int relu6; /* clamp the result to [0, 6] */
} ConvGeom;

/* Fills oh/ow/pad_top/pad_left from ih/iw/kh/kw/sh/sw as TFLite's SAME (same = 1: output
 * ceil(in/stride), padding split with the smaller half before) or VALID padding. */
void conv_geom_padding(ConvGeom *g, int same);

/* Convolution: w is [kh][kw][ic][oc], bias [oc] (the optimised kernels need it, the
 * references take NULL as zeros); when residual != NULL
 * (oh x ow x oc) it is added after the bias and before the activation, which is TFLite's
 * CONV_2D followed by ADD with the ADD's fused activation. */
void conv2d_ref(const ConvGeom *g, const float *in, const float *w, const float *bias,
                const float *residual, float *out);
void conv2d(SimdLevel level, const ConvGeom *g, const float *in, const float *w,
            const float *bias, const float *residual, float *out);

/* A 1x1 stride-1 convolution's weights (w [K][N] and bias [N]) packed once, at load, in the
 * layout its kernel reads. Dense: panels of POINTWISE_NR output channels ([K][NR], the last
 * panel's width rounded up to 8 and zero-filled, as is the bias) so that the micro-kernel
 * reads its weights in order without masks. Sparse, for matrices with more zeros than not
 * (the detector's are 75 % zeros with no block structure, TFLite DENSIFY): per output channel
 * the list of its non-zero weights and their input channels, run on blocks of 32 pixels
 * transposed to channel-major order (the SpMM of XNNPACK's sparse inference, Elsen et al.,
 * "Fast Sparse ConvNets", arXiv:1911.09723). */
#define POINTWISE_NR 24
/* The forms a packed 1x1 convolution takes: float32 panels; the same panels as float16, for
 * weights that are all float16 values (MediaPipe's are: the .tflite stores them so), so that
 * half the bytes come from memory (the full landmark model's 1x1 weights are 12 MB as
 * float32, more than this machine's share of L3 keeps between frames) and the result is
 * bit-identical; sparse lists. */
typedef enum { POINTWISE_DENSE, POINTWISE_HALF, POINTWISE_SPARSE } PointwiseForm;

typedef struct {
    int K, N;
    int sparse;
    float *bias;    /* [N rounded up to 8] */
    float *panels;  /* dense */
    uint16_t *half_panels; /* POINTWISE_HALF: the panels as float16 (panels is then NULL) */
    /* sparse: the non-zeros of output channel n whose input channel is in chunk c (input
     * channels [c*KC, (c+1)*KC), KC = POINTWISE_SPARSE_KC) are [start[n*C + c],
     * start[n*C + c + 1]) with C = chunks; start has N*C + 1 entries */
    int chunks;
    int *start;
    int *channel;   /* sparse: input channel of each non-zero */
    float *value;   /* sparse: the weight */
} PointwiseWeights;

/* Weight matrices with fewer non-zeros than this fraction and at least this many input
 * channels run sparse: below them the transposes cost more than the skipped multiply-adds
 * save (measured on the detector: K = 16, 24 are as fast or faster dense). */
#define POINTWISE_SPARSE_MAX_DENSITY 0.5
#define POINTWISE_SPARSE_MIN_K 32
/* Sparse tiles: 32 pixels (4 vectors) x 128 input channels transposed (16 KB, stays in L1
 * while the non-zeros pick rows of it at random) for up to 256 output channels, whose
 * running sums (32 KB) are kept across the input chunks. */
#define POINTWISE_SPARSE_ROWS 32
#define POINTWISE_SPARSE_KC 128
#define POINTWISE_SPARSE_GROUP 256
int pointwise_prefers_sparse(const float *w, int K, int N);
/* Whether every weight of w (n of them) is a float16 value, i.e. survives the round trip. */
int pointwise_fits_half(const float *w, size_t n);
/* Bytes pointwise_pack needs for these weights in that form. */
size_t pointwise_pack_bytes(const float *w, int K, int N, PointwiseForm form);
/* Packs into mem (pointwise_pack_bytes of it, 64-byte aligned); pw points into mem. */
void pointwise_pack(PointwiseWeights *pw, void *mem, const float *w, const float *bias, int K,
                    int N, PointwiseForm form);
/* conv2d for a 1x1, stride 1, unpadded g (g->ic == K, g->oc == N) with packed weights; also
 * a window over the whole input (one output pixel, K = kh * kw * ic). With POINTWISE_HALF
 * weights and scratch (POINTWISE_WIDE_FLOATS(K) floats for each of scratch_threads threads)
 * the AVX2 kernel widens each float16 panel once into it and runs from there, when a panel
 * serves more than one micro-tile; otherwise it widens as it loads (scratch may be NULL). A
 * run with more threads than scratch_threads uses that many. */
#define POINTWISE_WIDE_FLOATS(K) ((size_t)(K) * POINTWISE_NR)
void pointwise_conv(SimdLevel level, const ConvGeom *g, const float *in,
                    const PointwiseWeights *pw, const float *residual, float *out,
                    float *scratch, int scratch_threads);

/* Depthwise convolution, depth multiplier 1 (oc == ic): w is [kh][kw][c], bias [c]. */
void dwconv_ref(const ConvGeom *g, const float *in, const float *w, const float *bias,
                float *out);
void dwconv(SimdLevel level, const ConvGeom *g, const float *in, const float *w,
            const float *bias, float *out);

/* out = a + b, clamped to [0, 6] when relu6. */
void add_ref(const float *a, const float *b, float *out, size_t n, int relu6);
void add(SimdLevel level, const float *a, const float *b, float *out, size_t n, int relu6);

/* Zero padding of an h x w x c image: pads = top, bottom, left, right, channels before,
 * channels after. */
void pad_ref(const float *in, int h, int w, int c, const int pads[6], float *out);
void pad(const float *in, int h, int w, int c, const int pads[6], float *out);

/* Max-pool over the window of g (oc == ic); windows with no input position give 0. */
void maxpool_ref(const ConvGeom *g, const float *in, float *out);
void maxpool(const ConvGeom *g, const float *in, float *out);

/* RESIZE_BILINEAR as TFLite defines it (align_corners, half_pixel_centers). The optimised one
 * can take the ADD that follows it: with addend != NULL (oh x ow x c), out = resize + addend,
 * clamped to [0, 6] when relu6 (the ADD's activation), the same bits as resize_bilinear
 * then add. */
void resize_bilinear_ref(const float *in, int ih, int iw, int c, float *out, int oh, int ow,
                         int align_corners, int half_pixel_centers);
void resize_bilinear(SimdLevel level, const float *in, int ih, int iw, int c, float *out,
                     int oh, int ow, int align_corners, int half_pixel_centers,
                     const float *addend, int relu6);

/* DEPTH_TO_SPACE (TensorFlow's DCR order): out[y*b+dy][x*b+dx][k] = in[y][x][(dy*b+dx)*oc+k]
 * with oc = c / (b*b). */
void depth_to_space_ref(const float *in, int h, int w, int c, int block, float *out);
void depth_to_space(const float *in, int h, int w, int c, int block, float *out);

/* Concatenation of n inputs viewed as [outer][inner[i]] along the inner axis. */
void concat_ref(const float *const *in, const size_t *inner, int n, size_t outer, float *out);
void concat(const float *const *in, const size_t *inner, int n, size_t outer, float *out);

/* out = 1 / (1 + exp(-in)) */
void logistic_ref(const float *in, float *out, size_t n);
void logistic(const float *in, float *out, size_t n);

/* The AVX2 + FMA parts (kernels_avx2.c); only called when simd_active() >= SIMD_AVX2. */
void conv2d_direct_avx2(const ConvGeom *g, const float *in, const float *w, const float *bias,
                        const float *residual, float *out, int row);
void dwconv_row_avx2(const ConvGeom *g, const float *in, const float *w, const float *bias,
                     float *out, int row);
/* Pixels of the AVX2 micro-tile for a panel of ncols channels: 4 x 24, 6 x 16 and 8 x 8
 * accumulators keep 12, 12 and 8 chains of multiply-adds in flight (4 x 8 would leave the
 * FMA units waiting on the latency). */
#define POINTWISE_TILE_ROWS(ncols) ((ncols) > 16 ? 4 : (ncols) > 8 ? 6 : 8)
/* Rows x ncols block (ncols <= POINTWISE_NR) of a dense packed 1x1 convolution, in
 * micro-tiles of POINTWISE_TILE_ROWS(ncols) rows: out[r][n0 + j] for the input rows
 * in[r][0..K), the panel at n0 (or `wide`, that panel widened to float32, when not NULL);
 * bias, residual and activation fused. */
void pointwise_block_avx2(const float *in, const PointwiseWeights *pw, const float *wide,
                          const float *res, float *out, int relu6, int rows, int n0, int ncols);
/* The float16 panel at n0 (ncols channels) widened into wide (K * round8(ncols) floats). */
void pointwise_widen_avx2(const PointwiseWeights *pw, int n0, int ncols, float *wide);
/* Sparse: output channels [n0, n1) (n1 - n0 <= POINTWISE_SPARSE_GROUP) of `rows`
 * (<= POINTWISE_SPARSE_ROWS) pixels. */
void pointwise_sparse_block_avx2(const float *in, const PointwiseWeights *pw, const float *res,
                                 float *out, int relu6, int rows, int n0, int n1);
void add_avx2(const float *a, const float *b, float *out, size_t n, int relu6);
/* o[k] = p00[k] * w00 + p10[k] * w10 + p01[k] * w01 + p11[k] * w11 for k < c. */
void bilinear_pixel_avx2(const float *p00, const float *p10, const float *p01, const float *p11,
                         float w00, float w10, float w01, float w11, float *o, int c);

#endif
