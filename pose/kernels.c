/* kernels — the optimised NHWC kernels pose/net.c runs (definitions in kernels.h): 1x1
 * convolutions as register-tiled products with bias, residual and RELU6 fused (no packing:
 * the weights are already stored [ic][oc] by the importer), direct convolution for the few
 * other kernels, depthwise convolution row by row, and the data-movement operators. Each
 * splits output rows between OpenMP threads (small layers run on one); the AVX2 inner loops
 * are in kernels_avx2.c, with the scalar loops here as their twins. */
#include <math.h>
#include <string.h>

#include "kernels.h"

void conv_geom_padding(ConvGeom *g, int same)
{
    if (same) {
        g->oh = (g->ih + g->sh - 1) / g->sh;
        g->ow = (g->iw + g->sw - 1) / g->sw;
        int pad_h = (g->oh - 1) * g->sh + g->kh - g->ih;
        int pad_w = (g->ow - 1) * g->sw + g->kw - g->iw;
        g->pad_top = pad_h > 0 ? pad_h / 2 : 0;
        g->pad_left = pad_w > 0 ? pad_w / 2 : 0;
    } else {
        g->oh = g->ih >= g->kh ? (g->ih - g->kh) / g->sh + 1 : 0;
        g->ow = g->iw >= g->kw ? (g->iw - g->kw) / g->sw + 1 : 0;
        g->pad_top = g->pad_left = 0;
    }
}

static inline float relu6f(float v) { return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v; }

/* Layers with fewer multiply-adds than this run on one thread: below it the fork and the
 * barrier cost more than the work, and on a loaded machine a barrier can wait for a whole
 * time slice. */
#define PARALLEL_MIN_WORK 65536L

/* The scalar twin of pointwise_block_avx2. */
static void pointwise_block(const float *in, int K, const float *w, int N, const float *bias,
                            const float *res, float *out, int relu6, int rows, int n0, int ncols)
{
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * N + n0;
        const float *x = in + (size_t)r * K;
        for (int j = 0; j < ncols; j++)
            o[j] = bias[n0 + j];
        for (int k = 0; k < K; k++) {
            const float a = x[k], *wr = w + (size_t)k * N + n0;
            for (int j = 0; j < ncols; j++)
                o[j] += a * wr[j];
        }
        const float *rr = res ? res + (size_t)r * N + n0 : NULL;
        for (int j = 0; j < ncols; j++) {
            float v = rr ? o[j] + rr[j] : o[j];
            o[j] = relu6 ? relu6f(v) : v;
        }
    }
}

#define POINTWISE_ROWS 4
#define POINTWISE_COLS 24

/* 1x1, stride 1: out[P x oc] = in[P x ic] * w[ic x oc] + bias (+ residual), activation; in
 * tiles of 4 pixels x 24 channels, channel blocks outermost so that a block's weights stay in
 * cache while the pixels stream past. */
static void pointwise(SimdLevel level, const ConvGeom *g, const float *in, const float *w,
                      const float *bias, const float *residual, float *out)
{
    const int P = g->oh * g->ow, K = g->ic, N = g->oc;
    const long m_tiles = (P + POINTWISE_ROWS - 1) / POINTWISE_ROWS;
    const long tiles = m_tiles * ((N + POINTWISE_COLS - 1) / POINTWISE_COLS);
    const int avx2 = level >= SIMD_AVX2;
#pragma omp parallel for schedule(static) if ((long)P * N * K >= PARALLEL_MIN_WORK)
    for (long t = 0; t < tiles; t++) {
        int p0 = (int)(t % m_tiles) * POINTWISE_ROWS, n0 = (int)(t / m_tiles) * POINTWISE_COLS;
        int rows = P - p0 < POINTWISE_ROWS ? P - p0 : POINTWISE_ROWS;
        int cols = N - n0 < POINTWISE_COLS ? N - n0 : POINTWISE_COLS;
        const float *x = in + (size_t)p0 * K;
        const float *r = residual ? residual + (size_t)p0 * N : NULL;
        float *o = out + (size_t)p0 * N;
        if (avx2)
            pointwise_block_avx2(x, K, w, N, bias, r, o, g->relu6, rows, n0, cols);
        else
            pointwise_block(x, K, w, N, bias, r, o, g->relu6, rows, n0, cols);
    }
}

static void conv2d_direct_row(const ConvGeom *g, const float *in, const float *w,
                              const float *bias, const float *residual, float *out, int y)
{
    for (int x = 0; x < g->ow; x++) {
        float *o = out + ((size_t)y * g->ow + x) * g->oc;
        for (int k = 0; k < g->oc; k++)
            o[k] = bias ? bias[k] : 0.0f;
        for (int ky = 0; ky < g->kh; ky++) {
            int iy = y * g->sh - g->pad_top + ky;
            if (iy < 0 || iy >= g->ih)
                continue;
            for (int kx = 0; kx < g->kw; kx++) {
                int ix = x * g->sw - g->pad_left + kx;
                if (ix < 0 || ix >= g->iw)
                    continue;
                const float *ip = in + ((size_t)iy * g->iw + ix) * g->ic;
                const float *wp = w + ((size_t)ky * g->kw + kx) * g->ic * g->oc;
                for (int i = 0; i < g->ic; i++)
                    for (int k = 0; k < g->oc; k++)
                        o[k] += ip[i] * wp[(size_t)i * g->oc + k];
            }
        }
        const float *r = residual ? residual + ((size_t)y * g->ow + x) * g->oc : NULL;
        for (int k = 0; k < g->oc; k++) {
            float v = r ? o[k] + r[k] : o[k];
            o[k] = g->relu6 ? relu6f(v) : v;
        }
    }
}

void conv2d(SimdLevel level, const ConvGeom *g, const float *in, const float *w,
            const float *bias, const float *residual, float *out)
{
    if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_top == 0 &&
        g->pad_left == 0 && g->oh == g->ih && g->ow == g->iw) {
        pointwise(level, g, in, w, bias, residual, out);
        return;
    }
    int avx2 = level >= SIMD_AVX2;
    long work = (long)g->oh * g->ow * g->oc * g->kh * g->kw * g->ic;
#pragma omp parallel for schedule(static) if (work >= PARALLEL_MIN_WORK)
    for (int y = 0; y < g->oh; y++) {
        if (avx2)
            conv2d_direct_avx2(g, in, w, bias, residual, out, y);
        else
            conv2d_direct_row(g, in, w, bias, residual, out, y);
    }
}

static void dwconv_row(const ConvGeom *g, const float *in, const float *w, const float *bias,
                       float *out, int y)
{
    int c = g->oc;
    for (int x = 0; x < g->ow; x++) {
        float *o = out + ((size_t)y * g->ow + x) * c;
        for (int k = 0; k < c; k++)
            o[k] = bias ? bias[k] : 0.0f;
        for (int ky = 0; ky < g->kh; ky++) {
            int iy = y * g->sh - g->pad_top + ky;
            if (iy < 0 || iy >= g->ih)
                continue;
            for (int kx = 0; kx < g->kw; kx++) {
                int ix = x * g->sw - g->pad_left + kx;
                if (ix < 0 || ix >= g->iw)
                    continue;
                const float *ip = in + ((size_t)iy * g->iw + ix) * c;
                const float *wp = w + ((size_t)ky * g->kw + kx) * c;
                for (int k = 0; k < c; k++)
                    o[k] += ip[k] * wp[k];
            }
        }
        if (g->relu6)
            for (int k = 0; k < c; k++)
                o[k] = relu6f(o[k]);
    }
}

void dwconv(SimdLevel level, const ConvGeom *g, const float *in, const float *w,
            const float *bias, float *out)
{
    int avx2 = level >= SIMD_AVX2;
    long work = (long)g->oh * g->ow * g->oc * g->kh * g->kw;
#pragma omp parallel for schedule(static) if (work >= PARALLEL_MIN_WORK)
    for (int y = 0; y < g->oh; y++) {
        if (avx2)
            dwconv_row_avx2(g, in, w, bias, out, y);
        else
            dwconv_row(g, in, w, bias, out, y);
    }
}

#define ELEMENTWISE_CHUNK 4096

void add(SimdLevel level, const float *a, const float *b, float *out, size_t n, int relu6)
{
    long chunks = (long)((n + ELEMENTWISE_CHUNK - 1) / ELEMENTWISE_CHUNK);
#pragma omp parallel for schedule(static) if (n >= 4 * PARALLEL_MIN_WORK)
    for (long ch = 0; ch < chunks; ch++) {
        size_t lo = (size_t)ch * ELEMENTWISE_CHUNK;
        size_t len = n - lo < ELEMENTWISE_CHUNK ? n - lo : ELEMENTWISE_CHUNK;
        if (level >= SIMD_AVX2) {
            add_avx2(a + lo, b + lo, out + lo, len, relu6);
        } else {
            for (size_t i = lo; i < lo + len; i++) {
                float v = a[i] + b[i];
                out[i] = relu6 ? relu6f(v) : v;
            }
        }
    }
}

void pad(const float *in, int h, int w, int c, const int pads[6], float *out)
{
    int oh = h + pads[0] + pads[1], ow = w + pads[2] + pads[3], oc = c + pads[4] + pads[5];
#pragma omp parallel for schedule(static) if ((long)oh * ow * oc >= 4 * PARALLEL_MIN_WORK)
    for (int y = 0; y < oh; y++) {
        float *row = out + (size_t)y * ow * oc;
        int iy = y - pads[0];
        if (iy < 0 || iy >= h) {
            memset(row, 0, (size_t)ow * oc * sizeof *row);
            continue;
        }
        memset(row, 0, (size_t)pads[2] * oc * sizeof *row);
        memset(row + (size_t)(pads[2] + w) * oc, 0, (size_t)pads[3] * oc * sizeof *row);
        float *dst = row + (size_t)pads[2] * oc;
        const float *src = in + (size_t)iy * w * c;
        if (oc == c) {
            memcpy(dst, src, (size_t)w * c * sizeof *dst);
            continue;
        }
        for (int x = 0; x < w; x++) {
            float *d = dst + (size_t)x * oc;
            memset(d, 0, (size_t)pads[4] * sizeof *d);
            memcpy(d + pads[4], src + (size_t)x * c, (size_t)c * sizeof *d);
            memset(d + pads[4] + c, 0, (size_t)pads[5] * sizeof *d);
        }
    }
}

void maxpool(const ConvGeom *g, const float *in, float *out)
{
    int c = g->oc;
    long work = (long)g->oh * g->ow * c * g->kh * g->kw;
#pragma omp parallel for schedule(static) if (work >= PARALLEL_MIN_WORK)
    for (int y = 0; y < g->oh; y++)
        for (int x = 0; x < g->ow; x++) {
            float *o = out + ((size_t)y * g->ow + x) * c;
            int any = 0;
            for (int ky = 0; ky < g->kh; ky++) {
                int iy = y * g->sh - g->pad_top + ky;
                if (iy < 0 || iy >= g->ih)
                    continue;
                for (int kx = 0; kx < g->kw; kx++) {
                    int ix = x * g->sw - g->pad_left + kx;
                    if (ix < 0 || ix >= g->iw)
                        continue;
                    const float *ip = in + ((size_t)iy * g->iw + ix) * c;
                    if (!any)
                        memcpy(o, ip, (size_t)c * sizeof *o);
                    else
                        for (int k = 0; k < c; k++)
                            o[k] = ip[k] > o[k] ? ip[k] : o[k];
                    any = 1;
                }
            }
            if (!any)
                memset(o, 0, (size_t)c * sizeof *o);
        }
}

/* The same source coordinates as the reference (see resize_bilinear_ref), computed once per
 * output column and reused for every row. */
void resize_bilinear(const float *in, int ih, int iw, int c, float *out, int oh, int ow,
                     int align_corners, int half_pixel_centers)
{
    float scale_y = align_corners && oh > 1 ? (float)(ih - 1) / (float)(oh - 1)
                                            : (float)ih / (float)oh;
    float scale_x = align_corners && ow > 1 ? (float)(iw - 1) / (float)(ow - 1)
                                            : (float)iw / (float)ow;
    float offset = half_pixel_centers ? 0.5f : 0.0f;
#pragma omp parallel for schedule(static) if ((long)oh * ow * c >= PARALLEL_MIN_WORK / 4)
    for (int y = 0; y < oh; y++) {
        float sy = ((float)y + offset) * scale_y - offset;
        int y0 = (int)floorf(sy), y1 = (int)ceilf(sy);
        y0 = y0 < 0 ? 0 : y0;
        y1 = y1 > ih - 1 ? ih - 1 : y1;
        float dy = sy - (float)y0;
        for (int x = 0; x < ow; x++) {
            float sx = ((float)x + offset) * scale_x - offset;
            int x0 = (int)floorf(sx), x1 = (int)ceilf(sx);
            x0 = x0 < 0 ? 0 : x0;
            x1 = x1 > iw - 1 ? iw - 1 : x1;
            float dx = sx - (float)x0;
            float w00 = (1 - dy) * (1 - dx), w10 = dy * (1 - dx), w01 = (1 - dy) * dx,
                  w11 = dy * dx;
            const float *p00 = in + ((size_t)y0 * iw + x0) * c;
            const float *p10 = in + ((size_t)y1 * iw + x0) * c;
            const float *p01 = in + ((size_t)y0 * iw + x1) * c;
            const float *p11 = in + ((size_t)y1 * iw + x1) * c;
            float *o = out + ((size_t)y * ow + x) * c;
            for (int k = 0; k < c; k++)
                o[k] = p00[k] * w00 + p10[k] * w10 + p01[k] * w01 + p11[k] * w11;
        }
    }
}

void depth_to_space(const float *in, int h, int w, int c, int block, float *out)
{
    int oc = c / (block * block), ow = w * block;
#pragma omp parallel for schedule(static) if ((long)h * w * c >= 4 * PARALLEL_MIN_WORK)
    for (int y = 0; y < h * block; y++) {
        const float *src = in + (size_t)(y / block) * w * c + (size_t)(y % block) * block * oc;
        float *dst = out + (size_t)y * ow * oc;
        for (int x = 0; x < w; x++)
            memcpy(dst + (size_t)x * block * oc, src + (size_t)x * c,
                   (size_t)block * oc * sizeof *dst);
    }
}

void concat(const float *const *in, const size_t *inner, int n, size_t outer, float *out)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += inner[i];
    for (size_t r = 0; r < outer; r++) {
        float *dst = out + r * total;
        for (int i = 0; i < n; i++) {
            memcpy(dst, in[i] + r * inner[i], inner[i] * sizeof *dst);
            dst += inner[i];
        }
    }
}

void logistic(const float *in, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = 1.0f / (1.0f + expf(-in[i]));
}
