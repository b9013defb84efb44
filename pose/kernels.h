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

/* RESIZE_BILINEAR as TFLite defines it (align_corners, half_pixel_centers). */
void resize_bilinear_ref(const float *in, int ih, int iw, int c, float *out, int oh, int ow,
                         int align_corners, int half_pixel_centers);
void resize_bilinear(const float *in, int ih, int iw, int c, float *out, int oh, int ow,
                     int align_corners, int half_pixel_centers);

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
/* Rows x ncols block (rows <= 4, ncols <= 24) of a 1x1 convolution: out[r][n0 + j] for the
 * input rows in[r][0..K), weights w[K][N]; bias, residual and activation fused. */
void pointwise_block_avx2(const float *in, int K, const float *w, int N, const float *bias,
                          const float *res, float *out, int relu6, int rows, int n0, int ncols);
void add_avx2(const float *a, const float *b, float *out, size_t n, int relu6);

#endif
