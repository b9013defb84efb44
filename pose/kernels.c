/* kernels — the optimised NHWC kernels pose/net.c runs (definitions in kernels.h): 1x1
 * convolutions on weights packed once at load, as register-tiled products over cache blocks of
 * pixels or, for mostly-zero weights, as lists of non-zeros over transposed pixels, with bias,
 * residual and RELU6 fused; direct convolution for the few other kernels, depthwise
 * convolution row by row, and the data-movement operators. Each splits output rows (or
 * tiles) between OpenMP threads (small layers run on one); the AVX2 inner loops are in
 * kernels_avx2.c, with the scalar loops here as their twins. */
#include <math.h>
#include <omp.h>
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

/* ---------------------------------------------------------------- 1x1 convolution */

static int round8(int n) { return (n + 7) / 8 * 8; }

static size_t align64(size_t bytes) { return (bytes + 63) / 64 * 64; }

static size_t count_nonzero(const float *w, int K, int N)
{
    size_t nonzero = 0;
    for (size_t i = 0; i < (size_t)K * N; i++)
        nonzero += w[i] != 0.0f;
    return nonzero;
}

int pointwise_prefers_sparse(const float *w, int K, int N)
{
    return K >= POINTWISE_SPARSE_MIN_K &&
           (double)count_nonzero(w, K, N) < POINTWISE_SPARSE_MAX_DENSITY * (double)K * N;
}

static int sparse_chunks(int K) { return (K + POINTWISE_SPARSE_KC - 1) / POINTWISE_SPARSE_KC; }

int pointwise_fits_half(const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (f16_to_f32(f32_to_f16(w[i])) != w[i])
            return 0;
    return 1;
}

size_t pointwise_pack_bytes(const float *w, int K, int N, PointwiseForm form)
{
    size_t bias = align64((size_t)round8(N) * sizeof(float));
    if (form == POINTWISE_DENSE)
        return bias + align64((size_t)K * round8(N) * sizeof(float));
    if (form == POINTWISE_HALF)
        return bias + align64((size_t)K * round8(N) * sizeof(uint16_t));
    size_t nonzero = count_nonzero(w, K, N);
    return bias + align64(((size_t)N * sparse_chunks(K) + 1) * sizeof(int)) +
           align64(nonzero * sizeof(int)) + align64(nonzero * sizeof(float));
}

void pointwise_pack(PointwiseWeights *pw, void *mem, const float *w, const float *bias, int K,
                    int N, PointwiseForm form)
{
    unsigned char *at = mem;
    *pw = (PointwiseWeights){.K = K, .N = N, .sparse = form == POINTWISE_SPARSE};
    pw->bias = (float *)at;
    at += align64((size_t)round8(N) * sizeof(float));
    for (int n = 0; n < round8(N); n++)
        pw->bias[n] = n < N ? bias[n] : 0.0f;
    if (form != POINTWISE_SPARSE) {
        if (form == POINTWISE_HALF)
            pw->half_panels = (uint16_t *)at;
        else
            pw->panels = (float *)at;
        for (int n0 = 0; n0 < N; n0 += POINTWISE_NR) {
            int cols = N - n0 < POINTWISE_NR ? N - n0 : POINTWISE_NR, width = round8(cols);
            size_t panel = (size_t)n0 * K;
            for (int k = 0; k < K; k++)
                for (int j = 0; j < width; j++) {
                    float v = j < cols ? w[(size_t)k * N + n0 + j] : 0.0f;
                    size_t at_kj = panel + (size_t)k * width + j;
                    if (form == POINTWISE_HALF)
                        pw->half_panels[at_kj] = f32_to_f16(v);
                    else
                        pw->panels[at_kj] = v;
                }
        }
        return;
    }
    const int chunks = sparse_chunks(K);
    pw->chunks = chunks;
    pw->start = (int *)at;
    at += align64(((size_t)N * chunks + 1) * sizeof(int));
    size_t nonzero = count_nonzero(w, K, N);
    pw->channel = (int *)at;
    pw->value = (float *)(at + align64(nonzero * sizeof(int)));
    int used = 0;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < chunks; c++) {
            pw->start[(size_t)n * chunks + c] = used;
            int k1 = (c + 1) * POINTWISE_SPARSE_KC < K ? (c + 1) * POINTWISE_SPARSE_KC : K;
            for (int k = c * POINTWISE_SPARSE_KC; k < k1; k++)
                if (w[(size_t)k * N + n] != 0.0f) {
                    pw->channel[used] = k;
                    pw->value[used++] = w[(size_t)k * N + n];
                }
        }
    pw->start[(size_t)N * chunks] = used;
}

/* The scalar twin of pointwise_block_avx2. */
static void pointwise_block(const float *in, const PointwiseWeights *pw, const float *res,
                            float *out, int relu6, int rows, int n0, int ncols)
{
    const int K = pw->K, N = pw->N, width = round8(ncols);
    const size_t panel = (size_t)n0 * K;
    float row[POINTWISE_NR];
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < ncols; j++)
            out[(size_t)r * N + n0 + j] = pw->bias[n0 + j];
    /* weight row k outermost, so that float16 panels are widened once per block; every
     * output still adds its products in the order of k */
    for (int k = 0; k < K; k++) {
        const float *wr = pw->panels ? pw->panels + panel + (size_t)k * width : row;
        if (!pw->panels)
            for (int j = 0; j < ncols; j++)
                row[j] = f16_to_f32(pw->half_panels[panel + (size_t)k * width + j]);
        for (int r = 0; r < rows; r++) {
            const float a = in[(size_t)r * K + k];
            float *o = out + (size_t)r * N + n0;
            for (int j = 0; j < ncols; j++)
                o[j] += a * wr[j];
        }
    }
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * N + n0;
        const float *rr = res ? res + (size_t)r * N + n0 : NULL;
        for (int j = 0; j < ncols; j++) {
            float v = rr ? o[j] + rr[j] : o[j];
            o[j] = relu6 ? relu6f(v) : v;
        }
    }
}

/* The scalar twin of pointwise_sparse_block_avx2, in its order: the sum starts at the bias;
 * per chunk of input channels, the even-numbered non-zeros add onto it, the odd-numbered ones
 * into a second sum (two chains of multiply-adds in flight) that joins it at the chunk's
 * end. */
static void pointwise_sparse_block(const float *in, const PointwiseWeights *pw, const float *res,
                                   float *out, int relu6, int rows, int n0, int n1)
{
    const int K = pw->K, N = pw->N, C = pw->chunks;
    for (int r = 0; r < rows; r++) {
        const float *x = in + (size_t)r * K;
        for (int n = n0; n < n1; n++) {
            float v = pw->bias[n];
            for (const int *seg = pw->start + (size_t)n * C; seg < pw->start + (size_t)(n + 1) * C;
                 seg++) {
                float even = v, odd = 0.0f;
                int j = seg[0];
                for (; j + 2 <= seg[1]; j += 2) {
                    even += pw->value[j] * x[pw->channel[j]];
                    odd += pw->value[j + 1] * x[pw->channel[j + 1]];
                }
                if (j < seg[1])
                    even += pw->value[j] * x[pw->channel[j]];
                v = even + odd;
            }
            if (res)
                v += res[(size_t)r * N + n];
            out[(size_t)r * N + n] = relu6 ? relu6f(v) : v;
        }
    }
}

/* Pixels per cache block of the dense kernel: the block's input rows (about 16 KB) stay in
 * L1 while every weight panel passes over them; a multiple of every micro-tile height. */
static int pointwise_block_rows(int K, int P)
{
    int rows = (4096 / K) / 24 * 24;
    rows = rows < 24 ? 24 : rows;
    return rows > P ? P : rows;
}

/* Dense: tiles of (pixel block, weight panel), pixel blocks outermost so that a thread's
 * static share is a run of whole blocks; small layers (few pixels) split over the panels.
 * Float32 panels: blocks whose input rows stay in L1 while every panel passes over them.
 * Widened float16 panels: one block per thread (a multiple of 8 pixels: 32 + 32 of an 8x8
 * map at two threads), so that each thread widens each panel once and walks its pixels
 * panel by panel. The full landmark model, in one process with frames alternating: 10.4,
 * 11.2, 12.3 ms against 10.7, 12.1, 13.4 ms with float32 panels in L1 blocks at one thread;
 * 8.8, 8.0, 9.0 against 9.4, 8.4, 9.6 ms at two; the same float16 panels widened in each
 * micro-tile instead, in L1 blocks: 11.4, 12.6, 13.9 and 9.8, 9.0, 10.0 ms. */
static void pointwise_dense(SimdLevel level, const ConvGeom *g, const float *in,
                            const PointwiseWeights *pw, const float *residual, float *out,
                            float *scratch, int scratch_threads)
{
    const int P = g->oh * g->ow, K = pw->K, N = pw->N;
    const int avx2 = level >= SIMD_AVX2;
    const int tile = POINTWISE_TILE_ROWS(N < POINTWISE_NR ? N : POINTWISE_NR);
    const int widen = avx2 && pw->half_panels && scratch && P > tile;
    int threads = (long)P * N * K >= PARALLEL_MIN_WORK ? omp_get_max_threads() : 1;
    if (widen && threads > scratch_threads)
        threads = scratch_threads;
    const int share = ((P + threads - 1) / threads + 7) / 8 * 8;
    const int block = widen ? (share < P ? share : P) : pointwise_block_rows(K, P);
    const long blocks = (P + block - 1) / block;
    const long panels = (N + POINTWISE_NR - 1) / POINTWISE_NR;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long t = 0; t < blocks * panels; t++) {
        const int p_lo = (int)(t / panels) * block, n0 = (int)(t % panels) * POINTWISE_NR;
        const int p_hi = P - p_lo < block ? P : p_lo + block;
        const int cols = N - n0 < POINTWISE_NR ? N - n0 : POINTWISE_NR;
        const float *x = in + (size_t)p_lo * K;
        const float *r = residual ? residual + (size_t)p_lo * N : NULL;
        float *o = out + (size_t)p_lo * N;
        float *wide = NULL;
        if (widen) {
            wide = scratch + (size_t)omp_get_thread_num() * POINTWISE_WIDE_FLOATS(K);
            pointwise_widen_avx2(pw, n0, cols, wide);
        }
        if (avx2)
            pointwise_block_avx2(x, pw, wide, r, o, g->relu6, p_hi - p_lo, n0, cols);
        else
            pointwise_block(x, pw, r, o, g->relu6, p_hi - p_lo, n0, cols);
    }
}

/* Sparse: tiles of (pixel block, output channel group). With few pixel blocks (the small maps
 * of the detector's last stages) the channels are split further, into at least four tiles a
 * thread; each tile transposes its pixels again, cheap beside the multiply-adds. */
static void pointwise_sparse(SimdLevel level, const ConvGeom *g, const float *in,
                             const PointwiseWeights *pw, const float *residual, float *out)
{
    const int P = g->oh * g->ow, K = pw->K, N = pw->N;
    const long blocks = (P + POINTWISE_SPARSE_ROWS - 1) / POINTWISE_SPARSE_ROWS;
    /* a listed multiply-add (index, broadcast, transposes) costs about two dense ones */
    const long work = 2L * P * pw->start[(size_t)N * pw->chunks];
    const int threads = work >= PARALLEL_MIN_WORK ? omp_get_max_threads() : 1;
    const long splits =
        threads == 1 || blocks >= 4L * threads ? 1 : (4L * threads + blocks - 1) / blocks;
    int group = round8((int)((N + splits - 1) / splits));
    group = group > POINTWISE_SPARSE_GROUP ? POINTWISE_SPARSE_GROUP : group;
    const long groups = (N + group - 1) / group;
    const int avx2 = level >= SIMD_AVX2;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long t = 0; t < blocks * groups; t++) {
        const int p0 = (int)(t / groups) * POINTWISE_SPARSE_ROWS;
        const int n0 = (int)(t % groups) * group, n1 = N - n0 < group ? N : n0 + group;
        const int rows = P - p0 < POINTWISE_SPARSE_ROWS ? P - p0 : POINTWISE_SPARSE_ROWS;
        const float *x = in + (size_t)p0 * K;
        const float *r = residual ? residual + (size_t)p0 * N : NULL;
        float *o = out + (size_t)p0 * N;
        if (avx2)
            pointwise_sparse_block_avx2(x, pw, r, o, g->relu6, rows, n0, n1);
        else
            pointwise_sparse_block(x, pw, r, o, g->relu6, rows, n0, n1);
    }
}

void pointwise_conv(SimdLevel level, const ConvGeom *g, const float *in,
                    const PointwiseWeights *pw, const float *residual, float *out,
                    float *scratch, int scratch_threads)
{
    if (pw->sparse)
        pointwise_sparse(level, g, in, pw, residual, out);
    else
        pointwise_dense(level, g, in, pw, residual, out, scratch, scratch_threads);
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

/* add on the calling thread */
static void add_serial(SimdLevel level, const float *a, const float *b, float *out, size_t n,
                       int relu6)
{
    if (level >= SIMD_AVX2) {
        add_avx2(a, b, out, n, relu6);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float v = a[i] + b[i];
        out[i] = relu6 ? relu6f(v) : v;
    }
}

void add(SimdLevel level, const float *a, const float *b, float *out, size_t n, int relu6)
{
    long chunks = (long)((n + ELEMENTWISE_CHUNK - 1) / ELEMENTWISE_CHUNK);
#pragma omp parallel for schedule(static) if (n >= 4 * PARALLEL_MIN_WORK)
    for (long ch = 0; ch < chunks; ch++) {
        size_t lo = (size_t)ch * ELEMENTWISE_CHUNK;
        size_t len = n - lo < ELEMENTWISE_CHUNK ? n - lo : ELEMENTWISE_CHUNK;
        add_serial(level, a + lo, b + lo, out + lo, len, relu6);
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

/* The scalar twin of bilinear_pixel_avx2. */
static void bilinear_pixel(const float *p00, const float *p10, const float *p01,
                           const float *p11, float w00, float w10, float w01, float w11, float *o,
                           int c)
{
    for (int k = 0; k < c; k++)
        o[k] = p00[k] * w00 + p10[k] * w10 + p01[k] * w01 + p11[k] * w11;
}

/* The same source coordinates as the reference (see resize_bilinear_ref), computed once per
 * output column and reused for every row; the addend joins each row while it is in L1 (the
 * two passes over a 64x64x48 map cost 0.19 ms apart). */
void resize_bilinear(SimdLevel level, const float *in, int ih, int iw, int c, float *out,
                     int oh, int ow, int align_corners, int half_pixel_centers,
                     const float *addend, int relu6)
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
            if (level >= SIMD_AVX2)
                bilinear_pixel_avx2(p00, p10, p01, p11, w00, w10, w01, w11, o, c);
            else
                bilinear_pixel(p00, p10, p01, p11, w00, w10, w01, w11, o, c);
        }
        if (addend) {
            float *row = out + (size_t)y * ow * c;
            add_serial(level, row, addend + (size_t)y * ow * c, row, (size_t)ow * c, relu6);
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
