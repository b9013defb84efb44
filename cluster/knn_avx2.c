/* knn_avx2.c — the AVX2/FMA twin of knn_block_sqdist_scalar: four training rows per vector,
 * one FMA per feature. */
#include "cluster.h"
#include "knn_simd.h"

#include <immintrin.h>
#include <math.h>

void knn_block_sqdist_avx2(const double *blocks, int nblocks, int d, const double *q,
                           double *out)
{
    for (int b = 0; b < nblocks; b++) {
        const double *blk = blocks + (size_t)b * d * 4;
        __m256d acc = _mm256_setzero_pd();
        for (int j = 0; j < d; j++) {
            const __m256d diff = _mm256_sub_pd(_mm256_loadu_pd(blk + 4 * j), _mm256_set1_pd(q[j]));
            acc = _mm256_fmadd_pd(diff, diff, acc);
        }
        _mm256_storeu_pd(out + 4 * b, acc);
    }
}

void knn_block_sqdist_exact_avx2(const double *blocks, int nblocks, int d, const double *q,
                                 double *out)
{
    for (int b = 0; b < nblocks; b++) {
        const double *blk = blocks + (size_t)b * d * 4;
        __m256d acc = _mm256_setzero_pd();
        for (int j = 0; j < d; j++) {
            const __m256d diff = _mm256_sub_pd(_mm256_loadu_pd(blk + 4 * j), _mm256_set1_pd(q[j]));
            __m256d sq = _mm256_mul_pd(diff, diff);
            /* An empty asm keeps the compiler from fusing the multiply and the add into an
             * FMA, which would round once instead of twice and break ties the scalar twin
             * resolves. */
            __asm__("" : "+x"(sq));
            acc = _mm256_add_pd(acc, sq);
        }
        _mm256_storeu_pd(out + 4 * b, acc);
    }
}

/* Twin of kd_nearest1_scalar (kdtree.c): the same traversal; leaf rows four at a time with
 * the exact sums above, both children's boxes at once. */
typedef struct {
    int id;
    double dist;
} KdPending;

/* Box distances computed in float are scaled by this (and lowered by 1e-30, for results in
 * float's subnormal range): a float sum of d rounded squares exceeds the exact one by far
 * less than a relative 1e-5. */
#define KD_BOX_SHRINK_F (1.0 - 1e-5)

/* A leaf's rows against the best so far *bd, *bi. */
static inline __attribute__((always_inline)) void scan_leaf8(const KdFlat *f, const KdRec *rec,
                                                             const __m256 *qf, const double *q,
                                                             const int d, double *best,
                                                             int *best_i)
{
    double bd = *best;
    int bi = *best_i;
    /* Eight rows at a time in float, a conservative filter (a float sum exceeds the
     * double one by a relative 1e-6 at most, or is infinite on overflow); the rows
     * it passes get the exact double sum of the scalar twin. */
    const float *blk = f->blocks8 + (size_t)rec->leaf_off8 * 8 * d;
    const int rows = rec->rows;
    const __m256 inf = _mm256_set1_ps(INFINITY);
    for (int i0 = 0; i0 < rows; i0 += 8, blk += 8 * d) {
        __m256 acc = _mm256_setzero_ps();
#pragma GCC unroll 8
        for (int j = 0; j < d; j++) {
            const __m256 diff = _mm256_sub_ps(_mm256_loadu_ps(blk + 8 * j), qf[j]);
            acc = _mm256_fmadd_ps(diff, diff, acc);
        }
        const __m256 thr = _mm256_set1_ps((float)(bd * (1 + 1e-4) + 1e-30));
        int mask = _mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(acc, thr, _CMP_LE_OQ),
                                                   _mm256_cmp_ps(acc, inf, _CMP_EQ_OQ)));
        if (rows - i0 < 8)
            mask &= (1 << (rows - i0)) - 1;
        while (mask) {
            const int l = __builtin_ctz((unsigned)mask);
            mask &= mask - 1;
            const int row = i0 + l;
            double s = 0;
#pragma GCC unroll 8
            for (int j = 0; j < d; j++) {
                const double diff = (double)blk[8 * j + l] - q[j];
                double sq = diff * diff;
                __asm__("" : "+x"(sq));
                s += sq;
            }
            const int orig = f->index[rec->begin + row];
            if (s < bd || (s == bd && orig < bi)) {
                bd = s;
                bi = orig;
            }
        }
    }
    *best = bd;
    *best_i = bi;
}

/* Inlined with constant d and pd for the common small widths, where the loops unroll. */
static inline __attribute__((always_inline)) void nearest1(const KdFlat *f, const double *q,
                                                           double *best, int *best_i, const int d,
                                                           const int pd)
{
    double bd = *best;
    int bi = *best_i;
    __m256 qf[KDTREE_MAX_D];
    _Alignas(16) float q4[KDTREE_MAX_D];
    for (int j = 0; j < pd; j++) {
        qf[j] = _mm256_set1_ps((float)q[j]);
        q4[j] = (float)q[j];
    }
    KdPending stack[64];
    int top = 0;
    int id = 0;
    for (;;) {
        const KdRec *rec = (const KdRec *)(f->recs + (size_t)id * f->stride);
        if (rec->right < 0) {
            scan_leaf8(f, rec, qf, q, d, &bd, &bi);
        } else {
            /* In float, four features at a time, then widened and scaled down so that
             * rounding never lifts it above the double distance of a row inside; an
             * overflow to infinity counts as 0 (no pruning). */
            const float *box = (const float *)(rec + 1);
            __m128 sl = _mm_setzero_ps(), sr = _mm_setzero_ps();
#pragma GCC unroll 8
            for (int j = 0; j < pd; j += 4) {
                const __m128 qj = _mm_loadu_ps(q4 + j);
                const __m128 ol = _mm_max_ps(_mm_max_ps(_mm_sub_ps(_mm_loadu_ps(box + j), qj),
                                                        _mm_sub_ps(qj, _mm_loadu_ps(box + pd + j))),
                                             _mm_setzero_ps());
                const __m128 orr =
                    _mm_max_ps(_mm_max_ps(_mm_sub_ps(_mm_loadu_ps(box + 2 * pd + j), qj),
                                          _mm_sub_ps(qj, _mm_loadu_ps(box + 3 * pd + j))),
                               _mm_setzero_ps());
                sl = _mm_add_ps(sl, _mm_mul_ps(ol, ol));
                sr = _mm_add_ps(sr, _mm_mul_ps(orr, orr));
            }
            __m128 h = _mm_hadd_ps(sl, sr);
            h = _mm_hadd_ps(h, h); /* [left, right, left, right] */
            h = _mm_andnot_ps(_mm_cmpeq_ps(h, _mm_set1_ps(INFINITY)), h);
            const __m128d both =
                _mm_sub_pd(_mm_mul_pd(_mm_cvtps_pd(h), _mm_set1_pd(KD_BOX_SHRINK_F)),
                           _mm_set1_pd(1e-30));
            const double dl = _mm_cvtsd_f64(both), dr = _mm_cvtsd_f64(_mm_unpackhi_pd(both, both));
            const int left_first = dl <= dr;
            const int near = left_first ? id + 1 : rec->right;
            const int far = left_first ? rec->right : id + 1;
            const double dnear = left_first ? dl : dr, dfar = left_first ? dr : dl;
            if (dfar <= bd)
                stack[top++] = (KdPending){far, dfar};
            if (dnear <= bd) {
                id = near;
                continue;
            }
        }
        while (top > 0 && stack[top - 1].dist > bd)
            top--;
        if (top == 0)
            break;
        id = stack[--top].id;
    }
    *best = bd;
    *best_i = bi;
}

void kd_nearest1_avx2(const KdFlat *f, const double *q, double *best, int *best_i)
{
    switch (f->d) {
    case 2: nearest1(f, q, best, best_i, 2, 4); break;
    case 3: nearest1(f, q, best, best_i, 3, 4); break;
    case 4: nearest1(f, q, best, best_i, 4, 4); break;
    case 6: nearest1(f, q, best, best_i, 6, 8); break;
    case 8: nearest1(f, q, best, best_i, 8, 8); break;
    default: nearest1(f, q, best, best_i, f->d, f->pd); break;
    }
}

static inline __attribute__((always_inline)) void leafscan1(const KdFlat *f, const double *q,
                                                            double *best, int *best_i,
                                                            const int d)
{
    const int nl = f->nleaves, nl8 = f->nleaves8;
    double bd = *best;
    int bi = *best_i;
    __m256 qf[KDTREE_MAX_D];
#pragma GCC unroll 8
    for (int j = 0; j < d; j++)
        qf[j] = _mm256_set1_ps((float)q[j]);
    /* Every leaf's box distance in float, scaled down to a safe lower bound as in nearest1;
     * lanes past the last leaf, and visited leaves, are NaN (never <= anything). */
    _Alignas(32) float dist[KD_FLAT_MAX_LEAVES];
    const __m256 inf = _mm256_set1_ps(INFINITY), zero = _mm256_setzero_ps();
    for (int i = 0; i < nl8; i += 8) {
        __m256 acc = zero;
#pragma GCC unroll 8
        for (int j = 0; j < d; j++) {
            const __m256 lo = _mm256_loadu_ps(f->leaf_box + (size_t)2 * j * nl8 + i);
            const __m256 hi = _mm256_loadu_ps(f->leaf_box + (size_t)(2 * j + 1) * nl8 + i);
            const __m256 out = _mm256_max_ps(
                _mm256_max_ps(_mm256_sub_ps(lo, qf[j]), _mm256_sub_ps(qf[j], hi)), zero);
            acc = _mm256_fmadd_ps(out, out, acc);
        }
        acc = _mm256_andnot_ps(_mm256_cmp_ps(acc, inf, _CMP_EQ_OQ), acc);
        acc = _mm256_sub_ps(_mm256_mul_ps(acc, _mm256_set1_ps((float)KD_BOX_SHRINK_F)),
                            _mm256_set1_ps(1e-30f));
        _mm256_store_ps(dist + i, acc);
    }
    for (int i = nl; i < nl8; i++)
        dist[i] = NAN;
    /* First the leaf nearest the query (its own, mostly), for a good bound. */
    __m256 m = inf;
    for (int i = 0; i < nl8; i += 8)
        m = _mm256_min_ps(_mm256_load_ps(dist + i), m); /* NaN lanes give way to m */
    __m128 h = _mm_min_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_min_ps(h, _mm_movehl_ps(h, h));
    h = _mm_min_ss(h, _mm_shuffle_ps(h, h, 1));
    const __m256 lowv = _mm256_set1_ps(_mm_cvtss_f32(h));
    int first = 0;
    for (int i = 0; i < nl8; i += 8) {
        const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(dist + i), lowv, _CMP_EQ_OQ));
        if (hit) {
            first = i + __builtin_ctz((unsigned)hit);
            break;
        }
    }
    dist[first] = NAN;
    scan_leaf8(f, (const KdRec *)(f->recs + (size_t)f->leaf_node[first] * f->stride), qf, q, d,
               &bd, &bi);
    /* Then every other leaf whose box is within that bound, nearest first, while it stays
     * within the best. */
    float cd[KD_FLAT_MAX_LEAVES];
    int ci[KD_FLAT_MAX_LEAVES];
    int count = 0;
    const __m256 thr = _mm256_set1_ps((float)bd);
    for (int i = 0; i < nl8; i += 8) {
        int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(dist + i), thr, _CMP_LE_OQ));
        while (hit) {
            const int l = i + __builtin_ctz((unsigned)hit);
            hit &= hit - 1;
            float v = dist[l];
            int at = count++;
            for (; at > 0 && cd[at - 1] > v; at--) {
                cd[at] = cd[at - 1];
                ci[at] = ci[at - 1];
            }
            cd[at] = v;
            ci[at] = l;
        }
    }
    for (int c = 0; c < count && cd[c] <= (float)bd; c++)
        scan_leaf8(f, (const KdRec *)(f->recs + (size_t)f->leaf_node[ci[c]] * f->stride), qf, q,
                   d, &bd, &bi);
    *best = bd;
    *best_i = bi;
}

void kd_leafscan1_avx2(const KdFlat *f, const double *q, double *best, int *best_i)
{
    switch (f->d) {
    case 2: leafscan1(f, q, best, best_i, 2); break;
    case 3: leafscan1(f, q, best, best_i, 3); break;
    case 4: leafscan1(f, q, best, best_i, 4); break;
    case 6: leafscan1(f, q, best, best_i, 6); break;
    case 8: leafscan1(f, q, best, best_i, 8); break;
    default: leafscan1(f, q, best, best_i, f->d); break;
    }
}
