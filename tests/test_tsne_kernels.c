/* test_tsne_kernels.c — the pieces of Barnes-Hut t-SNE that run on several threads or SIMD
 * lanes against their one-thread, scalar references: the quadtree built as separate subtrees
 * gives the same cells, bit for bit, as one insertion after another (also with duplicates,
 * duplicates straddling a cell's midlines, and a single repeated point); the AVX2 attraction
 * gives the scalar twin's bits and both match a double-precision sum. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cluster/cluster.h"
#include "../cluster/quadtree_simd.h"
#include "../cluster/tsne_simd.h"

/* Builds y both ways and compares cells, node counts and the leaf order. */
static void same_tree_both_ways(const float *y, int n, const int *order, const char *what)
{
    QuadTree a = {0}, b = {0};
    Status st = {0};
    cr_assert_eq(quadtree_build_split(&a, y, n, order, 0, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(quadtree_build_split(&b, y, n, order, 1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(a.count, b.count, "%s: %d cells one by one, %d split", what, a.count, b.count);
    cr_assert(memcmp(a.cells, b.cells, (size_t)a.count * sizeof(QuadCell)) == 0,
              "%s: cells differ", what);
    cr_assert_eq(a.cells[0].size, (float)n, "%s", what);
    int *oa = malloc((size_t)n * sizeof(int)), *ob = malloc((size_t)n * sizeof(int));
    cr_assert_eq(quadtree_order(&a, n, oa, &st), TK_OK);
    cr_assert_eq(quadtree_order(&b, n, ob, &st), TK_OK);
    cr_assert(memcmp(oa, ob, (size_t)n * sizeof(int)) == 0, "%s: orders differ", what);
    free(oa);
    free(ob);
    quadtree_free(&a);
    quadtree_free(&b);
}

Test(tsne_kernels, split_quadtree_equals_sequential_build)
{
    enum { N = 6000 };
    float *y = malloc(N * 2 * sizeof(float));
    int *order = malloc(N * sizeof(int));
    Rng rng;
    rng_seed(&rng, 3, 0);
    for (int i = 0; i < N * 2; i++)
        y[i] = rng_normal(&rng) * 10.0f + (i % 6 == 0 ? 30.0f : 0.0f);
    for (int i = 0; i < N; i++)
        order[i] = N - 1 - i;
    same_tree_both_ways(y, N, NULL, "random");
    same_tree_both_ways(y, N, order, "random, reversed order");
    same_tree_both_ways(y, 5, NULL, "five points");
    /* a tenth of the points are near-copies of others (within 1e-6) */
    for (int i = 0; i < N; i += 10) {
        y[2 * i] = y[2 * (i + 1)] + 4e-7f * (float)(i % 3);
        y[2 * i + 1] = y[2 * (i + 1) + 1];
    }
    same_tree_both_ways(y, N, NULL, "near duplicates");
    /* Clumps of near-copies astride the midlines of the root and of its lower-left child,
     * inserted first: each is one leaf while alone, and when it splits the whole clump moves
     * into the quadrant of its barycentre. The corners fix the bounds at [-8, 8.008]
     * (scikit-learn's margin), so the midlines are at 0.004 and -3.998. */
    for (int i = 0; i < N; i++) {
        y[2 * i] = 16.0f * rng_uniform(&rng) - 8.0f;
        y[2 * i + 1] = 16.0f * rng_uniform(&rng) - 8.0f;
    }
    y[2 * (N - 2)] = y[2 * (N - 2) + 1] = -8.0f;
    y[2 * (N - 1)] = y[2 * (N - 1) + 1] = 8.0f;
    for (int i = 0; i < 100; i++) {
        const float mid = i < 50 ? 0.004f : -3.998f, side = i % 2 ? 3e-7f : -2e-7f;
        y[2 * i] = mid + side;
        y[2 * i + 1] = mid + (i % 3 ? side : -side);
    }
    same_tree_both_ways(y, N, NULL, "clumps on midlines");
    for (int i = 0; i < N * 2; i++)
        y[i] = 1.5f;
    same_tree_both_ways(y, N, NULL, "one point repeated");
    free(y);
    free(order);
}

Test(tsne_kernels, attraction_twins_same_bits_and_exact)
{
    enum { N = 64 };
    float y[N * 2], val[N];
    int col[N];
    Rng rng;
    rng_seed(&rng, 5, 0);
    for (int i = 0; i < N * 2; i++)
        y[i] = rng_normal(&rng) * 3.0f;
    for (int e = 0; e < N; e++) {
        col[e] = (int)rng_below(&rng, N);
        val[e] = rng_uniform(&rng) * 1e-3f;
    }
    for (int count = 0; count <= 40; count++) {
        const int i = count % N;
        double fs[2], fv[2], want[2] = {0, 0}, scale = 0;
        tsne_attract_scalar(y, i, col, val, count, 12.0f, fs);
        for (int e = 0; e < count; e++) {
            const double dx = (double)y[2 * i] - y[2 * col[e]];
            const double dy = (double)y[2 * i + 1] - y[2 * col[e] + 1];
            const double w = (double)(val[e] * 12.0f) / (1.0 + dx * dx + dy * dy);
            want[0] += w * dx;
            want[1] += w * dy;
            scale += w * (fabs(dx) + fabs(dy));
        }
        for (int c = 0; c < 2; c++)
            cr_assert(fabs(fs[c] - want[c]) <= 1e-5 * scale + 1e-12,
                      "count %d: %.9g, exact %.9g", count, fs[c], want[c]);
        if (simd_detected() < SIMD_AVX2)
            continue;
        tsne_attract_avx2(y, i, col, val, count, 12.0f, fv);
        cr_assert(memcmp(fs, fv, sizeof fs) == 0, "count %d: scalar %.9g %.9g, avx2 %.9g %.9g",
                  count, fs[0], fs[1], fv[0], fv[1]);
    }
}
