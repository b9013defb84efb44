/* kernels_avx2 — AVX2 + FMA inner loops of the pose kernels (see kernels.h): 8 channels per
 * register, accumulators kept in registers across the kernel taps (the tile shapes are
 * compile-time constants through always-inlined helpers, so that nothing spills). Channel
 * counts that are not a multiple of 8 use masked loads and stores. Called only when
 * simd_active() >= SIMD_AVX2; kernels.c holds the scalar twins. */
#include <immintrin.h>
#include <math.h>

#include "kernels.h"

#define INLINE static inline __attribute__((always_inline))

INLINE __m256 relu6_ps(__m256 v)
{
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
}

INLINE float relu6_scalar(float v) { return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v; }

/* Lanes [0, n) set, n in 1..8. */
INLINE __m256i lane_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void add_avx2(const float *a, const float *b, float *out, size_t n, int relu6)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        _mm256_storeu_ps(out + i, relu6 ? relu6_ps(v) : v);
    }
    for (; i < n; i++) {
        float v = a[i] + b[i];
        out[i] = relu6 ? relu6_scalar(v) : v;
    }
}

/* ---------------------------------------------------------------- 1x1 convolution */

/* MR pixels x NV vectors of output channels starting at n0; the last vector holds `last`
 * (1..8) channels. Accumulators start at the bias (as XNNPACK's do), then take the input
 * channels in order, then the residual and the activation. */
INLINE void pointwise_tile(const int MR, const int NV, const int MASKED, const float *in, int K,
                           const float *w, int N, const float *bias, const float *res,
                           float *out, int relu6, int n0, int last)
{
    __m256 acc[4][3];
    const __m256i tail = lane_mask(last);
    #pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        __m256 b = v == NV - 1 ? _mm256_maskload_ps(bias + n0 + 8 * v, tail)
                               : _mm256_loadu_ps(bias + n0 + 8 * v);
        #pragma GCC unroll 4
        for (int r = 0; r < MR; r++)
            acc[r][v] = b;
    }
    const float *wk = w + n0;
    for (int k = 0; k < K; k++, wk += N) {
        __m256 wv[3];
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            wv[v] = MASKED && v == NV - 1 ? _mm256_maskload_ps(wk + 8 * v, tail)
                                           : _mm256_loadu_ps(wk + 8 * v);
        #pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            __m256 a = _mm256_broadcast_ss(in + (size_t)r * K + k);
            #pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm256_fmadd_ps(a, wv[v], acc[r][v]);
        }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            float *o = out + (size_t)r * N + n0 + 8 * v;
            __m256 s = acc[r][v];
            if (res) {
                const float *rp = res + (size_t)r * N + n0 + 8 * v;
                s = _mm256_add_ps(s, v == NV - 1 ? _mm256_maskload_ps(rp, tail)
                                                 : _mm256_loadu_ps(rp));
            }
            if (relu6)
                s = relu6_ps(s);
            if (v == NV - 1)
                _mm256_maskstore_ps(o, tail, s);
            else
                _mm256_storeu_ps(o, s);
        }
}

#define POINTWISE_CASE(mr, nv)                                                              \
    case (mr) * 4 + (nv):                                                                   \
        if (last == 8)                                                                      \
            pointwise_tile(mr, nv, 0, in, K, w, N, bias, res, out, relu6, n0, last);        \
        else                                                                                \
            pointwise_tile(mr, nv, 1, in, K, w, N, bias, res, out, relu6, n0, last);        \
        break;

void pointwise_block_avx2(const float *in, int K, const float *w, int N, const float *bias,
                          const float *res, float *out, int relu6, int rows, int n0, int ncols)
{
    const int nv = (ncols + 7) / 8, last = ncols - 8 * (nv - 1);
    switch (rows * 4 + nv) {
        POINTWISE_CASE(1, 1) POINTWISE_CASE(1, 2) POINTWISE_CASE(1, 3)
        POINTWISE_CASE(2, 1) POINTWISE_CASE(2, 2) POINTWISE_CASE(2, 3)
        POINTWISE_CASE(3, 1) POINTWISE_CASE(3, 2) POINTWISE_CASE(3, 3)
        POINTWISE_CASE(4, 1) POINTWISE_CASE(4, 2) POINTWISE_CASE(4, 3)
    default:
        break;
    }
}

/* ---------------------------------------------------------------- direct convolution */

/* The taps of window position `pos` that fall inside the image: [*k0, *k1). */
INLINE void taps_inside(int pos, int stride, int pad, int k, int size, int *k0, int *k1)
{
    int first = pos * stride - pad;
    *k0 = first < 0 ? -first : 0;
    *k1 = size - first < k ? size - first : k;
    if (*k1 < *k0)
        *k1 = *k0;
}

INLINE void direct_pixel(const int NV, const ConvGeom *g, const float *in, const float *w,
                         const float *bias, const float *r, float *o, int y, int x, int k0,
                         int last, int ky0, int ky1, int kx0, int kx1)
{
    const int oc = g->oc;
    const __m256i tail = lane_mask(last);
    __m256 acc[4];
    #pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
        acc[v] = v == NV - 1 ? _mm256_maskload_ps(bias + k0 + 8 * v, tail)
                             : _mm256_loadu_ps(bias + k0 + 8 * v);
    const int iy0 = y * g->sh - g->pad_top, ix0 = x * g->sw - g->pad_left;
    for (int ky = ky0; ky < ky1; ky++)
        for (int kx = kx0; kx < kx1; kx++) {
            const float *ip = in + ((size_t)(iy0 + ky) * g->iw + (ix0 + kx)) * g->ic;
            const float *wp = w + ((size_t)ky * g->kw + kx) * g->ic * oc + k0;
            for (int i = 0; i < g->ic; i++, wp += oc) {
                __m256 a = _mm256_broadcast_ss(ip + i);
                #pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                    acc[v] = _mm256_fmadd_ps(a, v == NV - 1 ? _mm256_maskload_ps(wp + 8 * v, tail)
                                                            : _mm256_loadu_ps(wp + 8 * v),
                                             acc[v]);
            }
        }
    #pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        __m256 s = acc[v];
        if (r)
            s = _mm256_add_ps(s, v == NV - 1 ? _mm256_maskload_ps(r + k0 + 8 * v, tail)
                                             : _mm256_loadu_ps(r + k0 + 8 * v));
        if (g->relu6)
            s = relu6_ps(s);
        if (v == NV - 1)
            _mm256_maskstore_ps(o + k0 + 8 * v, tail, s);
        else
            _mm256_storeu_ps(o + k0 + 8 * v, s);
    }
}

/* Output pixels x .. x+3 of row y, channels [k0, k0 + 8*NV) (the last vector masked to
 * `last`), all kernel columns inside the image: each weight vector serves four pixels. */
INLINE void direct_four(const int NV, const ConvGeom *g, const float *in, const float *w,
                        const float *bias, const float *r, float *o, int y, int x, int k0,
                        int last, int ky0, int ky1)
{
    const int oc = g->oc, ic = g->ic;
    const __m256i tail = lane_mask(last);
    __m256 acc[4][3];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        __m256 b = v == NV - 1 ? _mm256_maskload_ps(bias + k0 + 8 * v, tail)
                               : _mm256_loadu_ps(bias + k0 + 8 * v);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            acc[j][v] = b;
    }
    const int iy0 = y * g->sh - g->pad_top, ix0 = x * g->sw - g->pad_left;
    const size_t step = (size_t)g->sw * ic;
    for (int ky = ky0; ky < ky1; ky++)
        for (int kx = 0; kx < g->kw; kx++) {
            const float *ip = in + ((size_t)(iy0 + ky) * g->iw + (ix0 + kx)) * ic;
            const float *wp = w + ((size_t)ky * g->kw + kx) * ic * oc + k0;
            for (int i = 0; i < ic; i++, wp += oc) {
                __m256 wv[3];
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++)
                    wv[v] = v == NV - 1 ? _mm256_maskload_ps(wp + 8 * v, tail)
                                        : _mm256_loadu_ps(wp + 8 * v);
#pragma GCC unroll 4
                for (int j = 0; j < 4; j++) {
                    __m256 a = _mm256_broadcast_ss(ip + j * step + i);
#pragma GCC unroll 4
                    for (int v = 0; v < NV; v++)
                        acc[j][v] = _mm256_fmadd_ps(a, wv[v], acc[j][v]);
                }
            }
        }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            size_t at = (size_t)j * oc + k0 + 8 * v;
            __m256 s = acc[j][v];
            if (r)
                s = _mm256_add_ps(s, v == NV - 1 ? _mm256_maskload_ps(r + at, tail)
                                                 : _mm256_loadu_ps(r + at));
            if (g->relu6)
                s = relu6_ps(s);
            if (v == NV - 1)
                _mm256_maskstore_ps(o + at, tail, s);
            else
                _mm256_storeu_ps(o + at, s);
        }
}

/* Pixels [*x_lo, *x_hi) of a row have every kernel column inside the image. */
INLINE void interior_columns(const ConvGeom *g, int *x_lo, int *x_hi)
{
    *x_lo = (g->pad_left + g->sw - 1) / g->sw;
    *x_hi = g->iw - g->kw + g->pad_left >= 0 ? (g->iw - g->kw + g->pad_left) / g->sw + 1 : 0;
    if (*x_hi > g->ow)
        *x_hi = g->ow;
    if (*x_lo > *x_hi)
        *x_lo = *x_hi;
}

static void direct_single(const ConvGeom *g, const float *in, const float *w, const float *bias,
                          const float *residual, float *out, int y, int x, int ky0, int ky1)
{
    const int oc = g->oc;
    int kx0, kx1;
    taps_inside(x, g->sw, g->pad_left, g->kw, g->iw, &kx0, &kx1);
    float *o = out + ((size_t)y * g->ow + x) * oc;
    const float *r = residual ? residual + ((size_t)y * g->ow + x) * oc : NULL;
    for (int k0 = 0; k0 < oc; k0 += 32) {
        int cols = oc - k0 < 32 ? oc - k0 : 32;
        int nv = (cols + 7) / 8, last = cols - 8 * (nv - 1);
        switch (nv) {
        case 1: direct_pixel(1, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1, kx0, kx1); break;
        case 2: direct_pixel(2, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1, kx0, kx1); break;
        case 3: direct_pixel(3, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1, kx0, kx1); break;
        default: direct_pixel(4, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1, kx0, kx1); break;
        }
    }
}

/* One output row of a direct convolution: groups of four pixels with every kernel column
 * inside the image (24 channels at a time), single pixels at the borders. */
void conv2d_direct_avx2(const ConvGeom *g, const float *in, const float *w, const float *bias,
                        const float *residual, float *out, int y)
{
    const int oc = g->oc;
    int ky0, ky1, x_lo, x_hi;
    taps_inside(y, g->sh, g->pad_top, g->kh, g->ih, &ky0, &ky1);
    interior_columns(g, &x_lo, &x_hi);
    int x = 0;
    for (; x < x_lo; x++)
        direct_single(g, in, w, bias, residual, out, y, x, ky0, ky1);
    for (; x + 4 <= x_hi; x += 4) {
        float *o = out + ((size_t)y * g->ow + x) * oc;
        const float *r = residual ? residual + ((size_t)y * g->ow + x) * oc : NULL;
        for (int k0 = 0; k0 < oc; k0 += 24) {
            int cols = oc - k0 < 24 ? oc - k0 : 24;
            int nv = (cols + 7) / 8, last = cols - 8 * (nv - 1);
            if (nv == 1)
                direct_four(1, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
            else if (nv == 2)
                direct_four(2, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
            else
                direct_four(3, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
        }
    }
    for (; x < g->ow; x++)
        direct_single(g, in, w, bias, residual, out, y, x, ky0, ky1);
}

/* ---------------------------------------------------------------- depthwise convolution */

/* Output pixels x .. x+3 of one row, channels [k, k+8) (masked to `last`), all kernel
 * columns inside the image: each weight is loaded once for the four pixels. */
INLINE void dw_four(const ConvGeom *g, const float *in, const float *w, const float *bias,
                    float *out, int y, int x, int k, int ky0, int ky1, __m256i mask, int full)
{
    const int c = g->oc;
    __m256 b = full ? _mm256_loadu_ps(bias + k) : _mm256_maskload_ps(bias + k, mask);
    __m256 a0 = b, a1 = b, a2 = b, a3 = b;
    const int ix0 = x * g->sw - g->pad_left, step = g->sw * c;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *ip = in + ((size_t)(y * g->sh - g->pad_top + ky) * g->iw + ix0) * c + k;
        const float *wp = w + (size_t)ky * g->kw * c + k;
        for (int kx = 0; kx < g->kw; kx++, ip += c, wp += c) {
            __m256 wv = full ? _mm256_loadu_ps(wp) : _mm256_maskload_ps(wp, mask);
            if (full) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(ip), wv, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + step), wv, a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 2 * step), wv, a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 3 * step), wv, a3);
            } else {
                a0 = _mm256_fmadd_ps(_mm256_maskload_ps(ip, mask), wv, a0);
                a1 = _mm256_fmadd_ps(_mm256_maskload_ps(ip + step, mask), wv, a1);
                a2 = _mm256_fmadd_ps(_mm256_maskload_ps(ip + 2 * step, mask), wv, a2);
                a3 = _mm256_fmadd_ps(_mm256_maskload_ps(ip + 3 * step, mask), wv, a3);
            }
        }
    }
    float *o = out + ((size_t)y * g->ow + x) * c + k;
    __m256 s[4] = {a0, a1, a2, a3};
    #pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        __m256 v = g->relu6 ? relu6_ps(s[j]) : s[j];
        if (full)
            _mm256_storeu_ps(o + (size_t)j * c, v);
        else
            _mm256_maskstore_ps(o + (size_t)j * c, mask, v);
    }
}

/* The same for stride 1 and a KW-wide kernel, full 8-channel blocks: each input column is
 * loaded once and given to every pixel whose window holds it (KW + 3 loads a row instead of
 * 4 * KW). The taps of a pixel still add in kernel order, as in dw_four. */
INLINE void dw_four_s1(const int KW, const ConvGeom *g, const float *in, const float *w,
                       const float *bias, float *out, int y, int x, int k, int ky0, int ky1)
{
    const int c = g->oc;
    __m256 acc[4];
    const __m256 b = _mm256_loadu_ps(bias + k);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        acc[j] = b;
    const int ix0 = x - g->pad_left;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *ip = in + ((size_t)(y - g->pad_top + ky) * g->iw + ix0) * c + k;
        const float *wp = w + (size_t)ky * KW * c + k;
        __m256 wv[5];
#pragma GCC unroll 5
        for (int kx = 0; kx < KW; kx++)
            wv[kx] = _mm256_loadu_ps(wp + (size_t)kx * c);
        /* Pixel j takes column col = j + kx with weight kx; kx rises for every pixel. */
#pragma GCC unroll 8
        for (int col = 0; col < KW + 3; col++) {
            __m256 v = _mm256_loadu_ps(ip + (size_t)col * c);
#pragma GCC unroll 4
            for (int j = 3; j >= 0; j--) {
                int kx = col - j;
                if (kx >= 0 && kx < KW)
                    acc[j] = _mm256_fmadd_ps(v, wv[kx], acc[j]);
            }
        }
    }
    float *o = out + ((size_t)y * g->ow + x) * c + k;
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        _mm256_storeu_ps(o + (size_t)j * c, g->relu6 ? relu6_ps(acc[j]) : acc[j]);
}

/* One output pixel, channels [k, k+8), only the taps inside the image. */
INLINE void dw_one(const ConvGeom *g, const float *in, const float *w, const float *bias,
                   float *out, int y, int x, int k, int ky0, int ky1, __m256i mask)
{
    const int c = g->oc;
    int kx0, kx1;
    taps_inside(x, g->sw, g->pad_left, g->kw, g->iw, &kx0, &kx1);
    __m256 acc = _mm256_maskload_ps(bias + k, mask);
    const int iy0 = y * g->sh - g->pad_top, ix0 = x * g->sw - g->pad_left;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *ip = in + ((size_t)(iy0 + ky) * g->iw + (ix0 + kx0)) * c + k;
        const float *wp = w + ((size_t)ky * g->kw + kx0) * c + k;
        for (int kx = 0; kx < kx1 - kx0; kx++)
            acc = _mm256_fmadd_ps(_mm256_maskload_ps(ip + (size_t)kx * c, mask),
                                  _mm256_maskload_ps(wp + (size_t)kx * c, mask), acc);
    }
    _mm256_maskstore_ps(out + ((size_t)y * g->ow + x) * c + k, mask,
                        g->relu6 ? relu6_ps(acc) : acc);
}

/* One output row of a depthwise convolution, channel block by channel block: groups of four
 * pixels whose kernel columns are all inside the image, single pixels at the borders. */
void dwconv_row_avx2(const ConvGeom *g, const float *in, const float *w, const float *bias,
                     float *out, int y)
{
    const int c = g->oc;
    int ky0, ky1;
    taps_inside(y, g->sh, g->pad_top, g->kh, g->ih, &ky0, &ky1);
    int x_lo, x_hi;
    interior_columns(g, &x_lo, &x_hi);
    for (int k = 0; k < c; k += 8) {
        const int n = c - k < 8 ? c - k : 8;
        const __m256i mask = lane_mask(n);
        int x = 0;
        for (; x < x_lo; x++)
            dw_one(g, in, w, bias, out, y, x, k, ky0, ky1, mask);
        if (n == 8 && g->sw == 1 && g->kw == 3)
            for (; x + 4 <= x_hi; x += 4)
                dw_four_s1(3, g, in, w, bias, out, y, x, k, ky0, ky1);
        else if (n == 8 && g->sw == 1 && g->kw == 5)
            for (; x + 4 <= x_hi; x += 4)
                dw_four_s1(5, g, in, w, bias, out, y, x, k, ky0, ky1);
        else if (n == 8)
            for (; x + 4 <= x_hi; x += 4)
                dw_four(g, in, w, bias, out, y, x, k, ky0, ky1, mask, 1);
        else
            for (; x + 4 <= x_hi; x += 4)
                dw_four(g, in, w, bias, out, y, x, k, ky0, ky1, mask, 0);
        for (; x < g->ow; x++)
            dw_one(g, in, w, bias, out, y, x, k, ky0, ky1, mask);
    }
}
