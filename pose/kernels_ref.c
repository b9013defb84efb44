/* kernels_ref — the naive reference of every pose kernel: one output element at a time,
 * straight from the definition of the TFLite operator (sums in double), no threads, no
 * SIMD. Slow on purpose; the tests hold the optimised kernels in kernels.c against these. */
#include <math.h>
#include <string.h>

#include "kernels.h"

static float clamp_act(double v, int relu6)
{
    if (relu6)
        v = v < 0 ? 0 : v > 6 ? 6 : v;
    return (float)v;
}

void conv2d_ref(const ConvGeom *g, const float *in, const float *w, const float *bias,
                const float *residual, float *out)
{
    for (int y = 0; y < g->oh; y++)
        for (int x = 0; x < g->ow; x++)
            for (int o = 0; o < g->oc; o++) {
                double acc = bias ? bias[o] : 0.0;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        int iy = y * g->sh - g->pad_top + ky, ix = x * g->sw - g->pad_left + kx;
                        if (iy < 0 || iy >= g->ih || ix < 0 || ix >= g->iw)
                            continue;
                        for (int i = 0; i < g->ic; i++)
                            acc += (double)in[((size_t)iy * g->iw + ix) * g->ic + i] *
                                   w[(((size_t)ky * g->kw + kx) * g->ic + i) * g->oc + o];
                    }
                size_t at = ((size_t)y * g->ow + x) * g->oc + o;
                if (residual)
                    acc = (double)(float)acc + residual[at];
                out[at] = clamp_act(acc, g->relu6);
            }
}

void dwconv_ref(const ConvGeom *g, const float *in, const float *w, const float *bias,
                float *out)
{
    for (int y = 0; y < g->oh; y++)
        for (int x = 0; x < g->ow; x++)
            for (int c = 0; c < g->oc; c++) {
                double acc = bias ? bias[c] : 0.0;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        int iy = y * g->sh - g->pad_top + ky, ix = x * g->sw - g->pad_left + kx;
                        if (iy >= 0 && iy < g->ih && ix >= 0 && ix < g->iw)
                            acc += (double)in[((size_t)iy * g->iw + ix) * g->ic + c] *
                                   w[((size_t)ky * g->kw + kx) * g->oc + c];
                    }
                out[((size_t)y * g->ow + x) * g->oc + c] = clamp_act(acc, g->relu6);
            }
}

void add_ref(const float *a, const float *b, float *out, size_t n, int relu6)
{
    for (size_t i = 0; i < n; i++)
        out[i] = clamp_act((double)(a[i] + b[i]), relu6);
}

void pad_ref(const float *in, int h, int w, int c, const int pads[6], float *out)
{
    int oh = h + pads[0] + pads[1], ow = w + pads[2] + pads[3], oc = c + pads[4] + pads[5];
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int k = 0; k < oc; k++) {
                int iy = y - pads[0], ix = x - pads[2], ik = k - pads[4];
                int inside = iy >= 0 && iy < h && ix >= 0 && ix < w && ik >= 0 && ik < c;
                out[((size_t)y * ow + x) * oc + k] =
                    inside ? in[((size_t)iy * w + ix) * c + ik] : 0.0f;
            }
}

void maxpool_ref(const ConvGeom *g, const float *in, float *out)
{
    for (int y = 0; y < g->oh; y++)
        for (int x = 0; x < g->ow; x++)
            for (int c = 0; c < g->oc; c++) {
                float best = -INFINITY;
                for (int ky = 0; ky < g->kh; ky++)
                    for (int kx = 0; kx < g->kw; kx++) {
                        int iy = y * g->sh - g->pad_top + ky, ix = x * g->sw - g->pad_left + kx;
                        if (iy >= 0 && iy < g->ih && ix >= 0 && ix < g->iw) {
                            float v = in[((size_t)iy * g->iw + ix) * g->ic + c];
                            best = v > best ? v : best;
                        }
                    }
                out[((size_t)y * g->ow + x) * g->oc + c] = best == -INFINITY ? 0.0f : best;
            }
}

/* TFLite reference_ops::ResizeBilinear: the source coordinate of output position v is
 * (v + 0.5) * scale - 0.5 with half-pixel centers, v * scale otherwise; scale is
 * (in - 1) / (out - 1) with align_corners, in / out otherwise; the two neighbours are
 * floor and ceil of it clamped into the image. */
static void source_coord(int v, int in_size, int out_size, int align, int half, float *pos,
                         int *lo, int *hi)
{
    float scale = align && out_size > 1 ? (float)(in_size - 1) / (float)(out_size - 1)
                                        : (float)in_size / (float)out_size;
    float s = half ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
    *pos = s;
    int f = (int)floorf(s);
    *lo = f < 0 ? 0 : f;
    int c = (int)ceilf(s);
    *hi = c > in_size - 1 ? in_size - 1 : c;
}

void resize_bilinear_ref(const float *in, int ih, int iw, int c, float *out, int oh, int ow,
                         int align_corners, int half_pixel_centers)
{
    for (int y = 0; y < oh; y++) {
        float sy;
        int y0, y1;
        source_coord(y, ih, oh, align_corners, half_pixel_centers, &sy, &y0, &y1);
        for (int x = 0; x < ow; x++) {
            float sx;
            int x0, x1;
            source_coord(x, iw, ow, align_corners, half_pixel_centers, &sx, &x0, &x1);
            double dy = sy - y0, dx = sx - x0;
            for (int k = 0; k < c; k++) {
                double v = in[((size_t)y0 * iw + x0) * c + k] * (1 - dy) * (1 - dx) +
                           in[((size_t)y1 * iw + x0) * c + k] * dy * (1 - dx) +
                           in[((size_t)y0 * iw + x1) * c + k] * (1 - dy) * dx +
                           in[((size_t)y1 * iw + x1) * c + k] * dy * dx;
                out[((size_t)y * ow + x) * c + k] = (float)v;
            }
        }
    }
}

void depth_to_space_ref(const float *in, int h, int w, int c, int block, float *out)
{
    int oc = c / (block * block), ow = w * block;
    for (int y = 0; y < h * block; y++)
        for (int x = 0; x < ow; x++)
            for (int k = 0; k < oc; k++) {
                int sy = y / block, sx = x / block, dy = y % block, dx = x % block;
                out[((size_t)y * ow + x) * oc + k] =
                    in[((size_t)sy * w + sx) * c + (dy * block + dx) * oc + k];
            }
}

void concat_ref(const float *const *in, const size_t *inner, int n, size_t outer, float *out)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += inner[i];
    for (size_t r = 0; r < outer; r++) {
        size_t col = 0;
        for (int i = 0; i < n; i++)
            for (size_t j = 0; j < inner[i]; j++)
                out[r * total + col++] = in[i][r * inner[i] + j];
    }
}

void logistic_ref(const float *in, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(1.0 / (1.0 + exp(-(double)in[i])));
}
