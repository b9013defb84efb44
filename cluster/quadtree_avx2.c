/* quadtree_avx2.c — the AVX2 twin of quadtree_group_scalar: the QT_GROUP = 8 points of a group
 * in the 8 float lanes, one walk over the cells for all of them. */
#include "quadtree_simd.h"

#include <immintrin.h>

void quadtree_group_avx2(const QuadCell *cells, int count, const float *px, const float *py,
                         float theta2, float *fx, float *fy, float *sq)
{
    const __m256 x = _mm256_loadu_ps(px), y = _mm256_loadu_ps(py);
    const __m256 one = _mm256_set1_ps(1.0f), t2 = _mm256_set1_ps(theta2);
    const __m256 eps = _mm256_set1_ps((float)QT_DUPLICATE_EPS);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_setzero_ps(), ay = _mm256_setzero_ps(), aq = _mm256_setzero_ps();
    int i = 0;
    while (i < count) {
        const QuadCell *c = &cells[i];
        const __m256 dx = _mm256_sub_ps(x, _mm256_set1_ps(c->cx));
        const __m256 dy = _mm256_sub_ps(y, _mm256_set1_ps(c->cy));
        const __m256 d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
        __m256 keep;
        if (c->skip == i + 1) {
            /* a leaf: every lane takes it except a lane at the leaf's own point */
            const __m256 far_x = _mm256_cmp_ps(_mm256_andnot_ps(sign, dx), eps, _CMP_GT_OQ);
            const __m256 far_y = _mm256_cmp_ps(_mm256_andnot_ps(sign, dy), eps, _CMP_GT_OQ);
            keep = _mm256_or_ps(far_x, far_y);
        } else {
            const __m256 wide = _mm256_cmp_ps(_mm256_set1_ps(c->width2), _mm256_mul_ps(t2, d2),
                                              _CMP_GE_OQ);
            if (_mm256_movemask_ps(wide)) {
                i++; /* some lane needs the cell opened: its first child follows it */
                continue;
            }
            keep = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        }
        i = c->skip;
        const __m256 q = _mm256_div_ps(one, _mm256_add_ps(one, d2));
        const __m256 size = _mm256_set1_ps(c->size);
        const __m256 sq1 = _mm256_and_ps(keep, _mm256_mul_ps(size, q));
        const __m256 mult = _mm256_mul_ps(sq1, q);
        aq = _mm256_add_ps(aq, sq1);
        ax = _mm256_add_ps(ax, _mm256_mul_ps(mult, dx));
        ay = _mm256_add_ps(ay, _mm256_mul_ps(mult, dy));
    }
    _mm256_storeu_ps(fx, ax);
    _mm256_storeu_ps(fy, ay);
    _mm256_storeu_ps(sq, aq);
}
