/* kernels_avx2 — AVX2 + FMA inner loops of the pose kernels (see kernels.h): 8 channels (or,
 * in the sparse 1x1 kernel, 8 pixels) per register, accumulators kept in registers across the
 * kernel taps (the tile shapes are compile-time constants through always-inlined helpers, so
 * that nothing spills). Channel counts that are not a multiple of 8 use masked loads and
 * stores. Called only when simd_active() >= SIMD_AVX2; kernels.c holds the scalar twins. */
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

void bilinear_pixel_avx2(const float *p00, const float *p10, const float *p01, const float *p11,
                         float w00, float w10, float w01, float w11, float *o, int c)
{
    const __m256 a = _mm256_set1_ps(w00), b = _mm256_set1_ps(w10), d = _mm256_set1_ps(w01),
                 e = _mm256_set1_ps(w11);
    int k = 0;
    for (; k + 8 <= c; k += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(p00 + k), a);
        v = _mm256_fmadd_ps(_mm256_loadu_ps(p10 + k), b, v);
        v = _mm256_fmadd_ps(_mm256_loadu_ps(p01 + k), d, v);
        _mm256_storeu_ps(o + k, _mm256_fmadd_ps(_mm256_loadu_ps(p11 + k), e, v));
    }
    for (; k < c; k++)
        o[k] = p00[k] * w00 + p10[k] * w10 + p01[k] * w01 + p11[k] * w11;
}

/* ---------------------------------------------------------------- 1x1 convolution */

/* MR pixels x NV vectors of output channels of the panel at n0 (row stride 8*NV, zero-filled
 * past N; float16 when HALF, widened as loaded); the last vector holds `last` (1..8)
 * channels. Accumulators start at the bias (as XNNPACK's do), then take the input channels in
 * order, then the residual and the activation. */
INLINE void pointwise_tile(const int MR, const int NV, const int HALF, const float *in, int K,
                           const void *panel, int N, const float *bias, const float *res,
                           float *out, int relu6, int last)
{
    __m256 acc[8][3];
    const __m256i tail = lane_mask(last);
    #pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        __m256 b = _mm256_loadu_ps(bias + 8 * v);
        #pragma GCC unroll 8
        for (int r = 0; r < MR; r++)
            acc[r][v] = b;
    }
    for (int k = 0; k < K; k++) {
        __m256 wv[3];
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            wv[v] = HALF ? _mm256_cvtph_ps(_mm_loadu_si128(
                               (const __m128i *)((const uint16_t *)panel + (size_t)k * 8 * NV) + v))
                         : _mm256_loadu_ps((const float *)panel + (size_t)k * 8 * NV + 8 * v);
        #pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m256 a = _mm256_broadcast_ss(in + (size_t)r * K + k);
            #pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm256_fmadd_ps(a, wv[v], acc[r][v]);
        }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            float *o = out + (size_t)r * N + 8 * v;
            __m256 s = acc[r][v];
            const int masked = v == NV - 1 && last < 8;
            if (res) {
                const float *rp = res + (size_t)r * N + 8 * v;
                s = _mm256_add_ps(s, masked ? _mm256_maskload_ps(rp, tail) : _mm256_loadu_ps(rp));
            }
            if (relu6)
                s = relu6_ps(s);
            if (masked)
                _mm256_maskstore_ps(o, tail, s);
            else
                _mm256_storeu_ps(o, s);
        }
}

/* `rows` pixels in tiles of MR (a last, shorter tile through the switch below), so that the
 * shape is dispatched once per block and panel rather than once per tile: with K = 16 a tile
 * is only ~100 cycles of multiply-adds. */
INLINE void pointwise_rows(const int MR, const int NV, const int HALF, const float *in, int K,
                           const void *panel, int N, const float *bias, const float *res,
                           float *out, int relu6, int last, int rows)
{
    for (int r = 0; r + MR <= rows; r += MR)
        pointwise_tile(MR, NV, HALF, in + (size_t)r * K, K, panel, N, bias,
                       res ? res + (size_t)r * N : NULL, out + (size_t)r * N, relu6, last);
}

#define POINTWISE_CASE(mr, nv)                                                              \
    case (mr) * 4 + (nv):                                                                   \
        pointwise_tile(mr, nv, HALF, in, K, panel, N, bias, res, out, relu6, last);         \
        break;

/* The whole block for one form of the panels; the switch takes the last, shorter tile. */
INLINE void pointwise_block_form(const int HALF, const float *in, int K, const void *panel,
                                 int N, const float *bias, const float *res, float *out,
                                 int relu6, int rows, int ncols)
{
    const int nv = (ncols + 7) / 8, last = ncols - 8 * (nv - 1);
    const int tile = POINTWISE_TILE_ROWS(ncols), full = rows / tile * tile;
    if (nv == 3)
        pointwise_rows(4, 3, HALF, in, K, panel, N, bias, res, out, relu6, last, full);
    else if (nv == 2)
        pointwise_rows(6, 2, HALF, in, K, panel, N, bias, res, out, relu6, last, full);
    else
        pointwise_rows(8, 1, HALF, in, K, panel, N, bias, res, out, relu6, last, full);
    in += (size_t)full * K;
    out += (size_t)full * N;
    res = res ? res + (size_t)full * N : NULL;
    switch ((rows - full) * 4 + nv) {
        POINTWISE_CASE(1, 1) POINTWISE_CASE(1, 2) POINTWISE_CASE(1, 3)
        POINTWISE_CASE(2, 1) POINTWISE_CASE(2, 2) POINTWISE_CASE(2, 3)
        POINTWISE_CASE(3, 1) POINTWISE_CASE(3, 2) POINTWISE_CASE(3, 3)
        POINTWISE_CASE(4, 1) POINTWISE_CASE(4, 2)
        POINTWISE_CASE(5, 1) POINTWISE_CASE(5, 2)
        POINTWISE_CASE(6, 1) POINTWISE_CASE(7, 1)
    default:
        break;
    }
}

void pointwise_block_avx2(const float *in, const PointwiseWeights *pw, const float *wide,
                          const float *res, float *out, int relu6, int rows, int n0, int ncols)
{
    const int K = pw->K, N = pw->N;
    res = res ? res + n0 : NULL;
    if (wide)
        pointwise_block_form(0, in, K, wide, N, pw->bias + n0, res, out + n0, relu6, rows,
                             ncols);
    else if (pw->half_panels)
        pointwise_block_form(1, in, K, pw->half_panels + (size_t)n0 * K, N, pw->bias + n0, res,
                             out + n0, relu6, rows, ncols);
    else
        pointwise_block_form(0, in, K, pw->panels + (size_t)n0 * K, N, pw->bias + n0, res,
                             out + n0, relu6, rows, ncols);
}

void pointwise_widen_avx2(const PointwiseWeights *pw, int n0, int ncols, float *wide)
{
    const uint16_t *half = pw->half_panels + (size_t)n0 * pw->K;
    const size_t n = (size_t)pw->K * ((ncols + 7) / 8 * 8);
    for (size_t i = 0; i < n; i += 8)
        _mm256_storeu_ps(wide + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(half + i))));
}

/* In-register transpose of an 8x8 block: r[i] lane j becomes r[j] lane i. */
INLINE void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
#pragma GCC unroll 8
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

#define SPARSE_ROWS POINTWISE_SPARSE_ROWS
#define SPARSE_KC POINTWISE_SPARSE_KC

/* tile[k - k0][p] = in[p][k] for input channels [k0, k1) of the `rows` pixels; the columns
 * up to the next multiple of 8 pixels are zero. */
static void transpose_pixels(const float *in, int K, int k0, int k1, int rows, float *tile)
{
    for (int kb = k0; kb < k1; kb += 8)
        for (int p0 = 0; p0 < rows; p0 += 8) {
            float *t = tile + (size_t)(kb - k0) * SPARSE_ROWS + p0;
            if (k1 - kb >= 8 && rows - p0 >= 8) {
                __m256 r[8];
#pragma GCC unroll 8
                for (int i = 0; i < 8; i++)
                    r[i] = _mm256_loadu_ps(in + (size_t)(p0 + i) * K + kb);
                transpose8(r);
#pragma GCC unroll 8
                for (int i = 0; i < 8; i++)
                    _mm256_store_ps(t + (size_t)i * SPARSE_ROWS, r[i]);
                continue;
            }
            for (int i = 0; i < 8 && kb + i < k1; i++)
                for (int j = 0; j < 8; j++)
                    t[(size_t)i * SPARSE_ROWS + j] =
                        p0 + j < rows ? in[(size_t)(p0 + j) * K + kb + i] : 0.0f;
        }
}

/* One output channel, one chunk of input channels, NV vectors of pixels: the non-zeros in
 * pairs, the even ones onto the running sum, the odd ones into a second set (2 * NV chains of
 * multiply-adds in flight) added at the end, as pointwise_sparse_block in kernels.c. */
INLINE void sparse_channel(const int NV, const int *ch, const float *val, int j, int end,
                           const float *tile, int k0, float *sum)
{
    __m256 a[4], e[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        a[v] = _mm256_load_ps(sum + 8 * v);
        e[v] = _mm256_setzero_ps();
    }
    tile -= (size_t)k0 * SPARSE_ROWS;
    for (; j + 2 <= end; j += 2) {
        const float *t0 = tile + (size_t)ch[j] * SPARSE_ROWS;
        const float *t1 = tile + (size_t)ch[j + 1] * SPARSE_ROWS;
        const __m256 w0 = _mm256_broadcast_ss(val + j), w1 = _mm256_broadcast_ss(val + j + 1);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            a[v] = _mm256_fmadd_ps(_mm256_load_ps(t0 + 8 * v), w0, a[v]);
            e[v] = _mm256_fmadd_ps(_mm256_load_ps(t1 + 8 * v), w1, e[v]);
        }
    }
    if (j < end) {
        const float *t0 = tile + (size_t)ch[j] * SPARSE_ROWS;
        const __m256 w0 = _mm256_broadcast_ss(val + j);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            a[v] = _mm256_fmadd_ps(_mm256_load_ps(t0 + 8 * v), w0, a[v]);
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
        _mm256_store_ps(sum + 8 * v, _mm256_add_ps(a[v], e[v]));
}

INLINE void sparse_chunk(const int NV, const PointwiseWeights *pw, int n0, int n1, int c,
                         const float *tile, float *sums)
{
    const int C = pw->chunks, k0 = c * SPARSE_KC;
    for (int n = n0; n < n1; n++) {
        const int *seg = pw->start + (size_t)n * C + c;
        sparse_channel(NV, pw->channel, pw->value, seg[0], seg[1], tile, k0,
                       sums + (size_t)(n - n0) * SPARSE_ROWS);
    }
}

void pointwise_sparse_block_avx2(const float *in, const PointwiseWeights *pw, const float *res,
                                 float *out, int relu6, int rows, int n0, int n1)
{
    const int K = pw->K, N = pw->N, nv = (rows + 7) / 8;
    float tile[SPARSE_KC * SPARSE_ROWS] __attribute__((aligned(32)));
    /* Running sums [channel - n0][pixel], started at the bias. */
    float sums[POINTWISE_SPARSE_GROUP * SPARSE_ROWS] __attribute__((aligned(32)));
    for (int n = n0; n < n1; n++) {
        const __m256 b = _mm256_set1_ps(pw->bias[n]);
        for (int v = 0; v < nv; v++)
            _mm256_store_ps(sums + (size_t)(n - n0) * SPARSE_ROWS + 8 * v, b);
    }
    for (int c = 0; c < pw->chunks; c++) {
        const int k0 = c * SPARSE_KC, k1 = K - k0 < SPARSE_KC ? K : k0 + SPARSE_KC;
        transpose_pixels(in, K, k0, k1, rows, tile);
        switch (nv) {
        case 1: sparse_chunk(1, pw, n0, n1, c, tile, sums); break;
        case 2: sparse_chunk(2, pw, n0, n1, c, tile, sums); break;
        case 3: sparse_chunk(3, pw, n0, n1, c, tile, sums); break;
        default: sparse_chunk(4, pw, n0, n1, c, tile, sums); break;
        }
    }
    /* Back to NHWC, 8 channels x 8 pixels at a time; in a last block of fewer channels the
     * rows past them are whatever the buffer held, masked out. */
    for (int nb = n0; nb < n1; nb += 8) {
        const int nc = n1 - nb < 8 ? n1 - nb : 8;
        const __m256i mask = lane_mask(nc);
        const float *s = sums + (size_t)(nb - n0) * SPARSE_ROWS;
        for (int p0 = 0; p0 < rows; p0 += 8) {
            __m256 v[8];
#pragma GCC unroll 8
            for (int c = 0; c < 8; c++)
                v[c] = _mm256_load_ps(s + (size_t)c * SPARSE_ROWS + p0);
            transpose8(v);
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                if (p0 + i >= rows)
                    break;
                const size_t at = (size_t)(p0 + i) * N + nb;
                __m256 o = v[i];
                if (res)
                    o = _mm256_add_ps(o, nc == 8 ? _mm256_loadu_ps(res + at)
                                                 : _mm256_maskload_ps(res + at, mask));
                if (relu6)
                    o = relu6_ps(o);
                if (nc == 8)
                    _mm256_storeu_ps(out + at, o);
                else
                    _mm256_maskstore_ps(out + at, mask, o);
            }
        }
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
 * `last` when MASKED), all kernel columns inside the image: each weight vector serves four
 * pixels. */
INLINE void direct_four(const int NV, const int MASKED, const ConvGeom *g, const float *in,
                        const float *w, const float *bias, const float *r, float *o, int y,
                        int x, int k0, int last, int ky0, int ky1)
{
    const int oc = g->oc, ic = g->ic;
    const __m256i tail = lane_mask(last);
    __m256 acc[4][3];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
        __m256 b = MASKED && v == NV - 1 ? _mm256_maskload_ps(bias + k0 + 8 * v, tail)
                                         : _mm256_loadu_ps(bias + k0 + 8 * v);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            acc[j][v] = b;
    }
    const int iy0 = y * g->sh - g->pad_top, ix0 = x * g->sw - g->pad_left;
    const size_t step = (size_t)g->sw * ic;
    /* A kernel row's taps (kx, i) are contiguous in the input and in the weights alike: one
     * loop of kw * ic steps (9 for the first convolution's 3 columns x 3 input channels,
     * where two nested short loops cost as much as the multiply-adds). */
    for (int ky = ky0; ky < ky1; ky++) {
        const float *ip = in + ((size_t)(iy0 + ky) * g->iw + ix0) * ic;
        const float *wp = w + (size_t)ky * g->kw * ic * oc + k0;
        for (int i = 0; i < g->kw * ic; i++, wp += oc) {
            __m256 wv[3];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                wv[v] = MASKED && v == NV - 1 ? _mm256_maskload_ps(wp + 8 * v, tail)
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
            const int masked = MASKED && v == NV - 1;
            __m256 s = acc[j][v];
            if (r)
                s = _mm256_add_ps(s, masked ? _mm256_maskload_ps(r + at, tail)
                                            : _mm256_loadu_ps(r + at));
            if (g->relu6)
                s = relu6_ps(s);
            if (masked)
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
            if (nv == 3 && last == 8)
                direct_four(3, 0, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
            else if (nv == 1)
                direct_four(1, 1, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
            else if (nv == 2)
                direct_four(2, 1, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
            else
                direct_four(3, 1, g, in, w, bias, r, o, y, x, k0, last, ky0, ky1);
        }
    }
    for (; x < g->ow; x++)
        direct_single(g, in, w, bias, residual, out, y, x, ky0, ky1);
}

/* ---------------------------------------------------------------- depthwise convolution */

/* Output pixels x .. x+PX-1 of one row, channels [k, k+8) (masked to `mask` unless full),
 * all kernel columns inside the image: each weight is loaded once for the PX pixels, and
 * eight pixels keep eight chains of multiply-adds in flight (four would leave the FMA units
 * waiting on the latency). */
INLINE void dw_group(const int PX, const ConvGeom *g, const float *in, const float *w,
                     const float *bias, float *out, int y, int x, int k, int ky0, int ky1,
                     __m256i mask, int full)
{
    const int c = g->oc;
    const __m256 b = full ? _mm256_loadu_ps(bias + k) : _mm256_maskload_ps(bias + k, mask);
    __m256 acc[8];
#pragma GCC unroll 8
    for (int j = 0; j < PX; j++)
        acc[j] = b;
    const int ix0 = x * g->sw - g->pad_left, step = g->sw * c;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *ip = in + ((size_t)(y * g->sh - g->pad_top + ky) * g->iw + ix0) * c + k;
        const float *wp = w + (size_t)ky * g->kw * c + k;
        for (int kx = 0; kx < g->kw; kx++, ip += c, wp += c) {
            __m256 wv = full ? _mm256_loadu_ps(wp) : _mm256_maskload_ps(wp, mask);
#pragma GCC unroll 8
            for (int j = 0; j < PX; j++)
                acc[j] = _mm256_fmadd_ps(full ? _mm256_loadu_ps(ip + (size_t)j * step)
                                              : _mm256_maskload_ps(ip + (size_t)j * step, mask),
                                         wv, acc[j]);
        }
    }
    float *o = out + ((size_t)y * g->ow + x) * c + k;
#pragma GCC unroll 8
    for (int j = 0; j < PX; j++) {
        __m256 v = g->relu6 ? relu6_ps(acc[j]) : acc[j];
        if (full)
            _mm256_storeu_ps(o + (size_t)j * c, v);
        else
            _mm256_maskstore_ps(o + (size_t)j * c, mask, v);
    }
}

static const float dw_zeros[16] __attribute__((aligned(32)));

/* Output pixels x .. x+PX-1 of one row, NB (1 or 2) full blocks of 8 channels from k, a
 * KW-wide kernel at stride S (all compile-time): each input column of the group's span is
 * loaded once and given to every pixel whose window holds it ((PX - 1) * S + KW loads a
 * kernel row instead of PX * KW). With EDGE, some columns are outside the image (the border
 * pixels run as a group too, not one by one). The taps of a pixel add in kernel order from
 * the bias, as in the scalar twin, which skips the taps outside: the sums are the same (up to
 * the sign of a zero). */
INLINE void dw_span(const int PX, const int NB, const int KW, const int S, const int EDGE,
                    const ConvGeom *g, const float *in, const float *w, const float *bias,
                    float *out, int y, int x, int k, int ky0, int ky1)
{
    const int c = g->oc, iw = g->iw;
    __m256 acc[2][8];
#pragma GCC unroll 2
    for (int b = 0; b < NB; b++) {
        const __m256 bv = _mm256_loadu_ps(bias + k + 8 * b);
#pragma GCC unroll 8
        for (int j = 0; j < PX; j++)
            acc[b][j] = bv;
    }
    const int ix0 = x * S - g->pad_left;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *row = in + (size_t)(y * S - g->pad_top + ky) * iw * c + k;
        const float *wp = w + (size_t)ky * KW * c + k;
        __m256 wv[2][5];
#pragma GCC unroll 2
        for (int b = 0; b < NB; b++)
#pragma GCC unroll 5
            for (int kx = 0; kx < KW; kx++)
                wv[b][kx] = _mm256_loadu_ps(wp + (size_t)kx * c + 8 * b);
        /* Pixel j takes column col = j * S + kx with weight kx; kx rises for every pixel. The
         * address steps one column at a time in one register: the empty asm keeps the
         * compiler from precomputing an offset per column outside the ky loop (up to 19,
         * which spill). With EDGE, a column outside the image is read from a block of zeros
         * (a select rather than a branch, so that a border group runs the same straight-line
         * code as the others); its products add zeros. */
        const float *p = EDGE ? row : row + (ptrdiff_t)ix0 * c;
#pragma GCC unroll 24
        for (int col = 0; col < (PX - 1) * S + KW; col++) {
            const float *src;
            if (EDGE) {
                const int ix = ix0 + col;
                src = (unsigned)ix < (unsigned)iw ? p + (ptrdiff_t)ix * c : dw_zeros;
            } else {
                src = p;
                p += c;
                __asm__("" : "+r"(p));
            }
            __m256 v[2];
#pragma GCC unroll 2
            for (int b = 0; b < NB; b++)
                v[b] = _mm256_loadu_ps(src + 8 * b);
#pragma GCC unroll 8
            for (int j = PX - 1; j >= 0; j--) {
                const int kx = col - j * S;
                if (kx >= 0 && kx < KW)
#pragma GCC unroll 2
                    for (int b = 0; b < NB; b++)
                        acc[b][j] = _mm256_fmadd_ps(v[b], wv[b][kx], acc[b][j]);
            }
        }
    }
    float *o = out + ((size_t)y * g->ow + x) * c + k;
#pragma GCC unroll 2
    for (int b = 0; b < NB; b++)
#pragma GCC unroll 8
        for (int j = 0; j < PX; j++)
            _mm256_storeu_ps(o + (size_t)j * c + 8 * b,
                             g->relu6 ? relu6_ps(acc[b][j]) : acc[b][j]);
}

/* dw_span for PX pixels from x, with the column checks only when the span leaves the image. */
INLINE void dw_span_at(const int PX, const int NB, const int KW, const int S, const ConvGeom *g,
                       const float *in, const float *w, const float *bias, float *out, int y,
                       int x, int k, int ky0, int ky1)
{
    const int ix0 = x * S - g->pad_left;
    if (ix0 >= 0 && ix0 + (PX - 1) * S + KW <= g->iw)
        dw_span(PX, NB, KW, S, 0, g, in, w, bias, out, y, x, k, ky0, ky1);
    else
        dw_span(PX, NB, KW, S, 1, g, in, w, bias, out, y, x, k, ky0, ky1);
}

/* One output pixel, NB blocks of 8 channels from k (the last masked unless full), only the
 * taps inside the image: the blocks are independent chains of multiply-adds, so that the
 * border pixels (a quarter of a 16-wide row with a 5x5 kernel) are not bound by the
 * latency of one chain. */
INLINE void dw_one(const int NB, const ConvGeom *g, const float *in, const float *w,
                   const float *bias, float *out, int y, int x, int k, int ky0, int ky1,
                   __m256i mask, int full)
{
    const int c = g->oc;
    int kx0, kx1;
    taps_inside(x, g->sw, g->pad_left, g->kw, g->iw, &kx0, &kx1);
    __m256 acc[8];
#pragma GCC unroll 8
    for (int v = 0; v < NB; v++)
        acc[v] = full || v < NB - 1 ? _mm256_loadu_ps(bias + k + 8 * v)
                                    : _mm256_maskload_ps(bias + k + 8 * v, mask);
    const int iy0 = y * g->sh - g->pad_top, ix0 = x * g->sw - g->pad_left;
    for (int ky = ky0; ky < ky1; ky++) {
        const float *ip = in + ((size_t)(iy0 + ky) * g->iw + (ix0 + kx0)) * c + k;
        const float *wp = w + ((size_t)ky * g->kw + kx0) * c + k;
        for (int kx = 0; kx < kx1 - kx0; kx++, ip += c, wp += c)
#pragma GCC unroll 8
            for (int v = 0; v < NB; v++)
                acc[v] = full || v < NB - 1
                             ? _mm256_fmadd_ps(_mm256_loadu_ps(ip + 8 * v),
                                               _mm256_loadu_ps(wp + 8 * v), acc[v])
                             : _mm256_fmadd_ps(_mm256_maskload_ps(ip + 8 * v, mask),
                                               _mm256_maskload_ps(wp + 8 * v, mask), acc[v]);
    }
    float *o = out + ((size_t)y * g->ow + x) * c + k;
#pragma GCC unroll 8
    for (int v = 0; v < NB; v++) {
        __m256 r = g->relu6 ? relu6_ps(acc[v]) : acc[v];
        if (full || v < NB - 1)
            _mm256_storeu_ps(o + 8 * v, r);
        else
            _mm256_maskstore_ps(o + 8 * v, mask, r);
    }
}

#define DW_ONE_CASE(nb)                                                                     \
    case nb:                                                                                \
        dw_one(nb, g, in, w, bias, out, y, x, k, ky0, ky1, mask, full);                     \
        break;

/* Every channel of one pixel near the border, up to 64 channels (8 chains) at a time. */
static void dw_pixel(const ConvGeom *g, const float *in, const float *w, const float *bias,
                     float *out, int y, int x, int ky0, int ky1)
{
    const int c = g->oc;
    for (int k = 0; k < c; k += 64) {
        const int n = c - k < 64 ? c - k : 64, nb = (n + 7) / 8, full = n % 8 == 0;
        const __m256i mask = lane_mask(n - 8 * (nb - 1));
        switch (nb) {
            DW_ONE_CASE(1) DW_ONE_CASE(2) DW_ONE_CASE(3) DW_ONE_CASE(4)
            DW_ONE_CASE(5) DW_ONE_CASE(6) DW_ONE_CASE(7) DW_ONE_CASE(8)
        default:
            break;
        }
    }
}

/* A whole output row for a KW-wide kernel at stride S, full 8-channel blocks (the channels
 * from c8 on, fewer than 8, are left to the caller): groups of 8 pixels, then 4, then single
 * ones, every channel block of a group before the next group, so that the group's input
 * lines are used whole while in L1 (block by block along the row measured up to 25 % slower:
 * 128x128x64 stride 2, 32x32x192 5x5, 16x16x384 3x3; about even on 64x64x144 3x3). At
 * stride 2 a column serves at most two pixels of eight, so few of the eight chains of
 * multiply-adds advance together; 3x3 kernels on multiples of 16 channels therefore take 4
 * pixels x 2 channel blocks (128x128x64: 33 -> 39 GFLOP/s; with 5x5 the 10 weight vectors
 * spill and it is slower). */
INLINE void dw_span_row(const int KW, const int S, const ConvGeom *g, const float *in,
                        const float *w, const float *bias, float *out, int y, int ky0, int ky1,
                        int c8)
{
    const int ow = g->ow;
    if (S == 2 && KW == 3 && c8 % 16 == 0) {
        const int x4 = ow / 4 * 4;
        for (int x = 0; x < x4; x += 4)
            for (int k = 0; k < c8; k += 16)
                dw_span_at(4, 2, KW, S, g, in, w, bias, out, y, x, k, ky0, ky1);
        for (int x = x4; x < ow; x++)
            for (int k = 0; k < c8; k += 8)
                dw_span_at(1, 1, KW, S, g, in, w, bias, out, y, x, k, ky0, ky1);
        return;
    }
    const int x8 = ow / 8 * 8, x4 = x8 + (ow - x8) / 4 * 4;
    for (int x = 0; x < x8; x += 8)
        for (int k = 0; k < c8; k += 8)
            dw_span_at(8, 1, KW, S, g, in, w, bias, out, y, x, k, ky0, ky1);
    for (int x = x8; x < x4; x += 4)
        for (int k = 0; k < c8; k += 8)
            dw_span_at(4, 1, KW, S, g, in, w, bias, out, y, x, k, ky0, ky1);
    for (int x = x4; x < ow; x++)
        for (int k = 0; k < c8; k += 8)
            dw_span_at(1, 1, KW, S, g, in, w, bias, out, y, x, k, ky0, ky1);
}

/* One function per kernel width and stride, so that each is register-allocated on its own
 * (inlined into one function, the spans' column offsets spill). */
#define DW_SPAN_ROW_FN(KW, S)                                                                 \
    static __attribute__((noinline)) void dw_span_row_##KW##_##S(                            \
        const ConvGeom *g, const float *in, const float *w, const float *bias, float *out,    \
        int y, int ky0, int ky1, int c8)                                                      \
    {                                                                                         \
        const ConvGeom local = *g; /* see dwconv_row_avx2 */                                  \
        dw_span_row(KW, S, &local, in, w, bias, out, y, ky0, ky1, c8);                        \
    }
DW_SPAN_ROW_FN(3, 1)
DW_SPAN_ROW_FN(3, 2)
DW_SPAN_ROW_FN(5, 1)
DW_SPAN_ROW_FN(5, 2)

/* One output row of a depthwise convolution. 3x3 and 5x5 kernels at stride 1 or 2 (every
 * depthwise layer of the BlazePose models) run as spans of pixels per 8-channel block, a last
 * block of fewer channels masked pixel group by pixel group; other kernels in groups of eight
 * (then four) pixels whose kernel columns are all inside the image and single pixels (all
 * their channels at once) at the borders. */
void dwconv_row_avx2(const ConvGeom *geom, const float *in, const float *w, const float *bias,
                     float *out, int y)
{
    /* A local copy: the vector stores may alias anything, so through the caller's pointer
     * every field would be loaded again after each group of pixels. */
    const ConvGeom local = *geom, *g = &local;
    const int c = g->oc;
    int ky0, ky1;
    taps_inside(y, g->sh, g->pad_top, g->kh, g->ih, &ky0, &ky1);
    int x_lo, x_hi;
    interior_columns(g, &x_lo, &x_hi);
    const int x_mid = x_lo + (x_hi - x_lo) / 8 * 8;
    const int x_end = x_mid + (x_hi - x_mid) / 4 * 4;
    const int spans = (g->kw == 3 || g->kw == 5) && (g->sw == 1 || g->sw == 2) && g->sh == g->sw;
    if (spans) {
        const int c8 = c / 8 * 8;
        if (g->kw == 3 && g->sw == 1)
            dw_span_row_3_1(g, in, w, bias, out, y, ky0, ky1, c8);
        else if (g->kw == 3)
            dw_span_row_3_2(g, in, w, bias, out, y, ky0, ky1, c8);
        else if (g->sw == 1)
            dw_span_row_5_1(g, in, w, bias, out, y, ky0, ky1, c8);
        else
            dw_span_row_5_2(g, in, w, bias, out, y, ky0, ky1, c8);
        if (c8 == c)
            return;
        const __m256i mask = lane_mask(c - c8);
        for (int x = 0; x < g->ow; x++)
            if (x >= x_lo && x + 8 <= x_mid) {
                dw_group(8, g, in, w, bias, out, y, x, c8, ky0, ky1, mask, 0);
                x += 7;
            } else {
                dw_one(1, g, in, w, bias, out, y, x, c8, ky0, ky1, mask, 0);
            }
        return;
    }
    for (int x = 0; x < x_lo; x++)
        dw_pixel(g, in, w, bias, out, y, x, ky0, ky1);
    const __m256i all = lane_mask(8);
    for (int x = x_lo; x < x_mid; x += 8)
        for (int k = 0; k < c; k += 8)
            dw_group(8, g, in, w, bias, out, y, x, k, ky0, ky1,
                     c - k < 8 ? lane_mask(c - k) : all, c - k >= 8);
    for (int x = x_mid; x < x_end; x += 4)
        for (int k = 0; k < c; k += 8)
            dw_group(4, g, in, w, bias, out, y, x, k, ky0, ky1,
                     c - k < 8 ? lane_mask(c - k) : all, c - k >= 8);
    for (int x = x_end; x < g->ow; x++)
        dw_pixel(g, in, w, bias, out, y, x, ky0, ky1);
}
