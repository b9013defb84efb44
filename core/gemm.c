/* gemm.c — SGEMM: C = alpha * op(A) * op(B) + beta * C, row-major (see core.h).
 *
 * The driver of Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication"
 * (ACM TOMS, 2008), in the five-loop form of BLIS (Van Zee & van de Geijn, ACM TOMS, 2015):
 *   for jc in steps of NC over columns of C         B block of KC x NC lives in L3
 *     for pc in steps of KC over the depth            pack op(B) into NR-column panels
 *       for ic in steps of MC over rows of C          pack op(A) into MR-row panels (L2)
 *         for jr in steps of NR, ir in steps of MR    micro-kernel on one MR x NR tile
 * Packing absorbs the four transpose cases, so each micro-kernel has one layout only; edge
 * panels are padded with zeros, and the kernel writes a partial tile through a local buffer.
 * The exception: a row-major op(A) = A no deeper than one depth block is read in place by a
 * twin of the kernel (GemmMicroKernelRows), its rows being short contiguous streams already.
 *
 * Threads split C into a grid of regions, tile-aligned, and each thread runs the whole blocked
 * algorithm on its region with its own packing buffers. The depth blocking depends only on k
 * and the SIMD level, so every element of C sees the same sequence of operations whatever the
 * thread count: results are bit-identical between 1 and N threads.
 */
#include "core.h"
#include "gemm_internal.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

/* ---------------------------------------------------------------- blocking per level */

typedef void (*GemmPackFn)(const float *src, ptrdiff_t stride_across, ptrdiff_t stride_depth,
                           int count, int depth, float *dst);

typedef struct {
    int mr, nr;     /* register tile, fixed by the micro-kernel */
    int kc, mc, nc; /* cache blocks: kc x nr B panel in L1, mc x kc A block in L2 */
    GemmMicroKernel kernel;
    GemmMicroKernelRows kernel_rows; /* A read in place (NULL: always packed) */
    GemmPackFn pack_a, pack_b;
} GemmLevel;

/* Packs `count` vectors of `depth` elements (element p of vector r at
 * src[r*stride_across + p*stride_depth]) into panels of `width` vectors, each panel stored
 * depth-major: dst[panel][p*width + r]. The last panel is padded with zeros. A row block of
 * op(A) and a column block of op(B) are both such sets of vectors, only with different strides,
 * which is how one routine serves all four transpose cases. `width` is a compile-time constant
 * in every instantiation below, so the inner loops unroll and vectorise (forced inlining: clang
 * otherwise keeps one generic copy, measured 14% of the time at n = 256). */
static inline __attribute__((always_inline)) void
pack_panels(const float *restrict src, ptrdiff_t stride_across, ptrdiff_t stride_depth, int count,
            int depth, float *restrict dst, int width)
{
    const int full_panels = count / width;
    const ptrdiff_t panel_size = (ptrdiff_t)depth * width;
    if (stride_across == 1) {
        /* The source rows run across the panels: read each one once, front to back, rather
         * than panel by panel (which strides through memory and defeats the prefetchers).
         * One fixed-size memcpy per panel row: compilers expand it into a few vector moves,
         * where the equivalent element loop was turned by GCC's loop distribution into a libc
         * memmove call of 24-64 bytes per row (12 % of RNN training time, whose weight
         * gradients pack operands thousands of rows deep; < 1 % now). */
        for (int p = 0; p < depth; p++) {
            const float *row = src + (ptrdiff_t)p * stride_depth;
            for (int q = 0; q < full_panels; q++)
                memcpy(dst + q * panel_size + (ptrdiff_t)p * width, row + q * width,
                       (size_t)width * sizeof(float));
        }
    } else if (stride_depth == 1) {
        /* Each vector is contiguous: a panel reads `width` streams side by side. */
        for (int q = 0; q < full_panels; q++) {
            const float *block = src + (ptrdiff_t)q * width * stride_across;
            for (int p = 0; p < depth; p++)
#pragma GCC unroll 32
                for (int r = 0; r < width; r++)
                    dst[q * panel_size + (ptrdiff_t)p * width + r] =
                        block[(ptrdiff_t)r * stride_across + p];
        }
    } else {
        for (int q = 0; q < full_panels; q++) {
            const float *block = src + (ptrdiff_t)q * width * stride_across;
            for (int p = 0; p < depth; p++)
                for (int r = 0; r < width; r++)
                    dst[q * panel_size + (ptrdiff_t)p * width + r] =
                        block[(ptrdiff_t)r * stride_across + (ptrdiff_t)p * stride_depth];
        }
    }

    const int tail = count - full_panels * width;
    if (tail > 0) {
        /* The padded last panel: copy, then zeros, without a test per element (weight
         * gradients of 128 or 66 rows pack such a panel thousands of steps deep). */
        const float *block = src + (ptrdiff_t)full_panels * width * stride_across;
        float *panel = dst + full_panels * panel_size;
        for (int p = 0; p < depth; p++) {
            float *out = panel + (ptrdiff_t)p * width;
            const float *in = block + (ptrdiff_t)p * stride_depth;
            if (stride_across == 1)
                memcpy(out, in, (size_t)tail * sizeof(float));
            else
                for (int r = 0; r < tail; r++)
                    out[r] = in[(ptrdiff_t)r * stride_across];
            memset(out + tail, 0, (size_t)(width - tail) * sizeof(float));
        }
    }
}

#define GEMM_PACKER(name, width)                                                                 \
    static void name(const float *src, ptrdiff_t stride_across, ptrdiff_t stride_depth,          \
                     int count, int depth, float *dst)                                           \
    {                                                                                            \
        pack_panels(src, stride_across, stride_depth, count, depth, dst, width);                 \
    }

GEMM_PACKER(pack_scalar_a, GEMM_SCALAR_MR)
GEMM_PACKER(pack_scalar_b, GEMM_SCALAR_NR)
/* Rows of A that are contiguous along the depth (op(A) = A, the input projections and
 * input-gradient products of the recurrent layers) go through the transposing packer of
 * gemm_avx2.c, the last count % 6 rows and every other layout through the generic one. */
static void pack_avx2_a(const float *src, ptrdiff_t stride_across, ptrdiff_t stride_depth,
                        int count, int depth, float *dst)
{
    if (stride_depth == 1 && count >= GEMM_AVX2_MR) {
        const int panels = count / GEMM_AVX2_MR;
        gemm_pack_rows6_avx2(src, stride_across, panels, depth, dst);
        src += (ptrdiff_t)panels * GEMM_AVX2_MR * stride_across;
        dst += (ptrdiff_t)panels * GEMM_AVX2_MR * depth;
        count -= panels * GEMM_AVX2_MR;
        if (count == 0)
            return;
    }
    pack_panels(src, stride_across, stride_depth, count, depth, dst, GEMM_AVX2_MR);
}
GEMM_PACKER(pack_avx2_b, GEMM_AVX2_NR)
GEMM_PACKER(pack_avx512_a, GEMM_AVX512_MR)
GEMM_PACKER(pack_avx512_b, GEMM_AVX512_NR)

/* Cache blocks, measured on Zen 3 (32 KiB L1d, 512 KiB L2 per core) for AVX2: a kc x 16 B
 * micro-panel of KC = 384 (24 KiB) stays in L1 while the A micro-panels stream from an MC x KC
 * block of 216 KiB in L2; KC 256..512 and MC 96..192 were all within 2% of each other, KC < 256
 * or MC > 192 lost more. NC only has to keep the KC x NC block of B in L3 (3 MiB); 2048 and 4080
 * measured the same, 512 was 3% slower. The AVX-512 blocks keep the 32-wide B micro-panel at
 * 32 KiB (KC = 256) for Skylake-X / Ice Lake L1s; they are sized by analogy, not measured here.
 * Indexed by SimdLevel. */
static const GemmLevel gemm_levels[] = {
    {GEMM_SCALAR_MR, GEMM_SCALAR_NR, 256, 128, 2048, gemm_kernel_scalar, gemm_kernel_rows_scalar,
     pack_scalar_a, pack_scalar_b},
    {GEMM_AVX2_MR, GEMM_AVX2_NR, 384, 144, 2048, gemm_kernel_avx2, gemm_kernel_rows_avx2,
     pack_avx2_a, pack_avx2_b},
    {GEMM_AVX512_MR, GEMM_AVX512_NR, 256, 144, 2048, gemm_kernel_avx512, NULL, pack_avx512_a,
     pack_avx512_b},
};
#define GEMM_LEVEL_COUNT ((int)(sizeof gemm_levels / sizeof gemm_levels[0]))

/* Below this many multiply-adds (64^3) one thread is about as fast as two: measured with warm
 * OpenMP workers, two threads start to win near 48^3; the margin covers waking sleeping ones. */
#define GEMM_PARALLEL_MIN_MACS (64.0 * 64 * 64)

/* ---------------------------------------------------------------- operands */

typedef struct {
    GemmTrans ta, tb;
    int k;
    float alpha, beta;
    const float *A;
    int lda;
    const float *B;
    int ldb;
    float *C;
    int ldc;
    int c_transposed; /* the product computed is C^T = op(B)^T op(A)^T, see gemm_transposes_c */
} GemmOperands;

static GemmTrans flip(GemmTrans t) { return t == GEMM_N ? GEMM_T : GEMM_N; }

/* Rows [row0, row0+rows) x depth [p0, p0+depth) of op(A), packed. */
static void pack_a_block(const GemmLevel *lv, const GemmOperands *g, int row0, int rows, int p0,
                         int depth, float *dst)
{
    if (g->ta == GEMM_N)
        lv->pack_a(g->A + (ptrdiff_t)row0 * g->lda + p0, g->lda, 1, rows, depth, dst);
    else
        lv->pack_a(g->A + (ptrdiff_t)p0 * g->lda + row0, 1, g->lda, rows, depth, dst);
}

/* Depth [p0, p0+depth) x columns [col0, col0+cols) of op(B), packed. */
static void pack_b_block(const GemmLevel *lv, const GemmOperands *g, int p0, int depth, int col0,
                         int cols, float *dst)
{
    if (g->tb == GEMM_N)
        lv->pack_b(g->B + (ptrdiff_t)p0 * g->ldb + col0, 1, g->ldb, cols, depth, dst);
    else
        lv->pack_b(g->B + (ptrdiff_t)col0 * g->ldb + p0, g->ldb, 1, cols, depth, dst);
}

/* ---------------------------------------------------------------- one region, one thread */

static _Thread_local float *thread_pack_a;
static _Thread_local float *thread_pack_b;

/* The _Thread_local pointers are the fast path; the tss key only exists so that its destructor
 * frees a thread's buffers when the thread ends (OpenMP retires workers when a team shrinks). */
static tss_t pack_buffer_owner;
static int pack_buffer_owner_ok;
static once_flag pack_buffer_owner_once = ONCE_FLAG_INIT;

static void create_pack_buffer_owner(void)
{
    pack_buffer_owner_ok = tss_create(&pack_buffer_owner, free) == thrd_success;
}

/* Packing buffer sizes in floats: the largest A block and B block of any level. */
static void pack_buffer_sizes(size_t *a_floats, size_t *b_floats)
{
    *a_floats = *b_floats = 0;
    for (int i = 0; i < GEMM_LEVEL_COUNT; i++) {
        const GemmLevel *lv = &gemm_levels[i];
        const size_t a = (size_t)lv->mc * lv->kc, b = (size_t)lv->kc * lv->nc;
        *a_floats = a > *a_floats ? a : *a_floats;
        *b_floats = b > *b_floats ? b : *b_floats;
    }
    *b_floats = (*b_floats + 15) / 16 * 16; /* keeps the A buffer 64-byte aligned too */
}

/* Allocated once per thread at its first SGEMM and kept for the thread's life, so that the
 * steady state never allocates. Returns 0 when the allocation fails. */
static int thread_buffers_ready(void)
{
    if (thread_pack_a)
        return 1;
    call_once(&pack_buffer_owner_once, create_pack_buffer_owner);
    size_t a_floats, b_floats;
    pack_buffer_sizes(&a_floats, &b_floats);
    float *buf = aligned_alloc(64, (a_floats + b_floats) * sizeof(float));
    if (!buf)
        return 0;
    if (pack_buffer_owner_ok)
        tss_set(pack_buffer_owner, buf);
    thread_pack_b = buf;
    thread_pack_a = buf + b_floats;
    return 1;
}

/* The depth block: at most kc, and balanced so that the last block is not a sliver (a sliver
 * would cost a whole pass over C for little work). A function of k and the level only. */
static int depth_block(int k, int kc_max)
{
    int blocks = (k + kc_max - 1) / kc_max;
    return (k + blocks - 1) / blocks;
}

/* One tile: A from a packed panel (lda == 0) or read in place (rows lda apart). */
static void tile_kernel(const GemmLevel *lv, int kc, const float *a, ptrdiff_t lda,
                        const float *b_panel, float alpha, float beta, float *c, ptrdiff_t ldc,
                        int rows, int cols)
{
    if (lda)
        lv->kernel_rows(kc, a, lda, b_panel, alpha, beta, c, ldc, rows, cols);
    else
        lv->kernel(kc, a, b_panel, alpha, beta, c, ldc, rows, cols);
}

/* One tile of a transposed product: the kernel writes it whole to a local buffer, and it goes
 * to C with rows and columns exchanged, ct[j*ldc + i] = alpha * tile[i][j] + beta * ct[...].
 * With alpha = 1 and beta 0 or 1 (all the library's calls) that is the kernel's own arithmetic,
 * so the orientation does not change a bit. */
static void transposed_tile(const GemmLevel *lv, int kc, const float *a, ptrdiff_t lda,
                            const float *b_panel, float alpha, float beta, float *ct,
                            ptrdiff_t ldc, int rows, int cols)
{
    _Alignas(64) float tile[GEMM_AVX512_MR * GEMM_AVX512_NR];
    tile_kernel(lv, kc, a, lda, b_panel, 1.0f, 0.0f, tile, lv->nr, lv->mr, lv->nr);
    for (int j = 0; j < cols; j++) {
        float *c_row = ct + (ptrdiff_t)j * ldc;
        for (int i = 0; i < rows; i++) {
            const float t = tile[i * lv->nr + j];
            c_row[i] = beta == 0.0f   ? alpha * t
                       : beta == 1.0f ? alpha * t + c_row[i]
                                      : alpha * t + beta * c_row[i];
        }
    }
}

/* Rows [row0, row0+rows) x columns [col0, col0+cols) of the product, on one thread. Reading
 * the operands in place instead of packing them was tried for the weight gradients (A^T B,
 * whose k steps are rows of the stored matrices): slower, because rows 256-512 bytes apart
 * fall into a few L1 sets. A row-major op(A) = A of one depth block is read in place (whole
 * panels of MR rows; a last partial panel is packed): its MR rows are MR short contiguous
 * streams, and packing them cost more than it saved (see GemmMicroKernelRows). */
static void gemm_region(const GemmLevel *lv, const GemmOperands *g, int row0, int rows,
                        int col0, int cols)
{
    if (!thread_buffers_ready() && g->c_transposed) {
        /* The region in the caller's orientation: rows and columns exchanged. */
        const GemmOperands caller = {flip(g->tb), flip(g->ta), g->k, g->alpha, g->beta, g->B,
                                     g->ldb, g->A, g->lda, g->C, g->ldc, 0};
        gemm_region(lv, &caller, col0, cols, row0, rows);
        return;
    }
    if (!thread_buffers_ready()) {
        /* sgemm cannot fail: without buffers, fall back to the reference loops. */
        const float *A = g->A + (g->ta == GEMM_N ? (ptrdiff_t)row0 * g->lda : row0);
        const float *B = g->B + (g->tb == GEMM_N ? col0 : (ptrdiff_t)col0 * g->ldb);
        sgemm_naive(g->ta, g->tb, rows, cols, g->k, g->alpha, A, g->lda, B, g->ldb, g->beta,
                    g->C + (ptrdiff_t)row0 * g->ldc + col0, g->ldc);
        return;
    }
    float *packed_a = thread_pack_a;
    float *packed_b = thread_pack_b;
    const int kc_step = depth_block(g->k, lv->kc);
    const int a_in_place = lv->kernel_rows && g->ta == GEMM_N && g->k <= lv->kc;

    for (int jc = 0; jc < cols; jc += lv->nc) {
        const int nc = cols - jc < lv->nc ? cols - jc : lv->nc;
        for (int pc = 0; pc < g->k; pc += kc_step) {
            const int kc = g->k - pc < kc_step ? g->k - pc : kc_step;
            /* Later depth blocks accumulate onto what the first one wrote. */
            const float beta = pc == 0 ? g->beta : 1.0f;
            pack_b_block(lv, g, pc, kc, col0 + jc, nc, packed_b);
            for (int ic = 0; ic < rows; ic += lv->mc) {
                const int mc = rows - ic < lv->mc ? rows - ic : lv->mc;
                /* In place, only the partial last panel is packed (at the buffer's start). */
                const int whole = a_in_place ? mc / lv->mr * lv->mr : 0;
                if (mc > whole)
                    pack_a_block(lv, g, row0 + ic + whole, mc - whole, pc, kc, packed_a);
                for (int jr = 0; jr < nc; jr += lv->nr) {
                    const int tile_cols = nc - jr < lv->nr ? nc - jr : lv->nr;
                    const float *b_panel = packed_b + (ptrdiff_t)jr * kc;
                    float *c_col = g->C + (ptrdiff_t)(row0 + ic) * g->ldc + col0 + jc + jr;
                    for (int ir = 0; ir < mc; ir += lv->mr) {
                        const int tile_rows = mc - ir < lv->mr ? mc - ir : lv->mr;
                        const int direct = ir < whole;
                        const float *a = direct ? g->A + (ptrdiff_t)(row0 + ic + ir) * g->lda + pc
                                                : packed_a + (ptrdiff_t)(ir - whole) * kc;
                        const ptrdiff_t lda = direct ? g->lda : 0;
                        if (g->c_transposed)
                            transposed_tile(lv, kc, a, lda, b_panel, g->alpha, beta,
                                            g->C + (ptrdiff_t)(col0 + jc + jr) * g->ldc +
                                                row0 + ic + ir,
                                            g->ldc, tile_rows, tile_cols);
                        else
                            tile_kernel(lv, kc, a, lda, b_panel, g->alpha, beta,
                                        c_col + (ptrdiff_t)ir * g->ldc, g->ldc, tile_rows,
                                        tile_cols);
                    }
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- threads */

/* Splits C into grid_rows x grid_cols regions of whole tiles, as many as `threads` allows
 * (fewer when C has too few tiles for every factorisation of the count). Among the grids of one
 * size it takes the one that packs the least: a region packs each of its rows of A and columns
 * of B once per depth block, so its cost goes with m/grid_rows + n/grid_cols. Ties split the
 * larger dimension. */
static void choose_grid(int m, int n, int mr, int nr, int threads, int *grid_rows,
                        int *grid_cols)
{
    const int row_tiles = (m + mr - 1) / mr;
    const int col_tiles = (n + nr - 1) / nr;
    *grid_rows = 1;
    *grid_cols = 1;
    for (int count = threads; count > 1; count--) {
        double best_cost = -1.0;
        for (int gr = 1; gr <= count; gr++) {
            const int gc = count / gr;
            if (gr * gc != count || gr > row_tiles || gc > col_tiles)
                continue;
            const double cost = (double)m / gr + (double)n / gc;
            const int prefer =
                best_cost < 0 || cost < best_cost ||
                (cost == best_cost && (m >= n ? gr > *grid_rows : gc > *grid_cols));
            if (prefer) {
                best_cost = cost;
                *grid_rows = gr;
                *grid_cols = gc;
            }
        }
        if (best_cost >= 0)
            return;
    }
}

/* Start of part `index` of `parts` when `extent` is cut at multiples of `unit`. */
static int part_start(int extent, int unit, int parts, int index)
{
    const int units = (extent + unit - 1) / unit;
    const long long start = (long long)units * index / parts * unit;
    return start < extent ? (int)start : extent;
}

static void gemm_parallel(const GemmLevel *lv, const GemmOperands *g, int m, int n, int threads)
{
    int grid_rows, grid_cols;
    choose_grid(m, n, lv->mr, lv->nr, threads, &grid_rows, &grid_cols);
    const int regions = grid_rows * grid_cols;
    if (regions == 1) {
        gemm_region(lv, g, 0, m, 0, n);
        return;
    }
#pragma omp parallel num_threads(regions)
    {
        /* The runtime may grant fewer threads than asked (nested region, limits): then some
         * threads take several regions; the result does not change. */
        const int team = omp_get_num_threads();
        for (int r = omp_get_thread_num(); r < regions; r += team) {
            const int gr = r / grid_cols, gc = r % grid_cols;
            const int row0 = part_start(m, lv->mr, grid_rows, gr);
            const int row1 = part_start(m, lv->mr, grid_rows, gr + 1);
            const int col0 = part_start(n, lv->nr, grid_cols, gc);
            const int col1 = part_start(n, lv->nr, grid_cols, gc + 1);
            if (row1 > row0 && col1 > col0)
                gemm_region(lv, g, row0, row1 - row0, col0, col1 - col0);
        }
    }
}

/* C = beta * C, the whole product when alpha == 0 or k == 0 (A and B are not read). */
static void scale_c(int m, int n, float beta, float *C, int ldc)
{
    if (beta == 1.0f)
        return;
    for (int i = 0; i < m; i++) {
        float *c_row = C + (ptrdiff_t)i * ldc;
        for (int j = 0; j < n; j++)
            c_row[j] = beta == 0.0f ? 0.0f : beta * c_row[j];
    }
}

/* ---------------------------------------------------------------- public */

/* Tiles of mr x nr cover C padded to whole tiles; when C^T = op(B)^T op(A)^T pads clearly less
 * (a 128 x 66 weight gradient: 132 x 80 against 66 x 128, a fifth less arithmetic for AVX2's
 * 6 x 16) the driver computes that instead. Its tiles reach C through a buffer, a cost the
 * depth has to amortise, hence the k bound (at k = 64 the copy ate the gain). A function of
 * the shape and the level only, so results stay the same for any thread count. */
int gemm_transposes_c(int mr, int nr, int m, int n, int k)
{
    const double padded = (double)((m + mr - 1) / mr * mr) * ((n + nr - 1) / nr * nr);
    const double padded_t = (double)((n + mr - 1) / mr * mr) * ((m + nr - 1) / nr * nr);
    return k >= 256 && padded_t < 0.9 * padded;
}

void sgemm_ex(SimdLevel level, int threads, GemmTrans ta, GemmTrans tb, int m, int n, int k,
              float alpha, const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, C, ldc);
        return;
    }
    const SimdLevel detected = simd_detected();
    if (level > detected)
        level = detected;
    if (level < SIMD_SCALAR)
        level = SIMD_SCALAR;
    if (threads <= 0)
        threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if ((double)m * n * k < GEMM_PARALLEL_MIN_MACS)
        threads = 1;

    const GemmLevel *lv = &gemm_levels[level];
    if (gemm_transposes_c(lv->mr, lv->nr, m, n, k)) {
        const GemmOperands g = {flip(tb), flip(ta), k, alpha, beta, B, ldb, A, lda, C, ldc, 1};
        gemm_parallel(lv, &g, n, m, threads);
    } else {
        const GemmOperands g = {ta, tb, k, alpha, beta, A, lda, B, ldb, C, ldc, 0};
        gemm_parallel(lv, &g, m, n, threads);
    }
}

void sgemm(GemmTrans ta, GemmTrans tb, int m, int n, int k, float alpha, const float *A, int lda,
           const float *B, int ldb, float beta, float *C, int ldc)
{
    sgemm_ex(simd_active(), 0, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_naive(GemmTrans ta, GemmTrans tb, int m, int n, int k, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            if (alpha != 0.0f)
                for (int p = 0; p < k; p++) {
                    const float a = ta == GEMM_N ? A[(ptrdiff_t)i * lda + p]
                                                 : A[(ptrdiff_t)p * lda + i];
                    const float b = tb == GEMM_N ? B[(ptrdiff_t)p * ldb + j]
                                                 : B[(ptrdiff_t)j * ldb + p];
                    sum += (double)a * b;
                }
            float *c = C + (ptrdiff_t)i * ldc + j;
            double value = (double)alpha * sum;
            if (beta != 0.0f)
                value += (double)beta * *c;
            *c = (float)value;
        }
    }
}
