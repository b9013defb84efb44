/* boxtree.c — see boxtree.h. */
#include "boxtree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void box_free(BoxTree *t)
{
    free(t->xt);
    free(t->idx);
    free(t->start);
    free(t->end);
    free(t->left);
    free(t->right);
    free(t->lo);
    free(t->hi);
}

static float row_value(const BoxTree *t, int pos, int dim)
{
    return t->x[(size_t)t->idx[pos] * t->d + dim];
}

/* Puts the element of rank k (by dimension dim) of idx[lo..hi) at position k (Hoare). */
static void box_select(BoxTree *t, int lo, int hi, int k, int dim)
{
    hi--;
    while (lo < hi) {
        const float pivot = row_value(t, (lo + hi) / 2, dim);
        int i = lo, j = hi;
        while (i <= j) {
            while (row_value(t, i, dim) < pivot)
                i++;
            while (row_value(t, j, dim) > pivot)
                j--;
            if (i <= j) {
                const int s = t->idx[i];
                t->idx[i++] = t->idx[j];
                t->idx[j--] = s;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

static int box_build_node(BoxTree *t, int start, int end)
{
    const int node = t->n_nodes++, d = t->d;
    float *lo = t->lo + (size_t)node * d, *hi = t->hi + (size_t)node * d;
    for (int j = 0; j < d; j++)
        lo[j] = hi[j] = row_value(t, start, j);
    for (int p = start + 1; p < end; p++)
        for (int j = 0; j < d; j++) {
            const float v = row_value(t, p, j);
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
    t->start[node] = start;
    t->end[node] = end;
    t->left[node] = t->right[node] = -1;
    int dim = 0;
    for (int j = 1; j < d; j++)
        if (hi[j] - lo[j] > hi[dim] - lo[dim])
            dim = j;
    if (end - start <= BOX_LEAF || hi[dim] == lo[dim])
        return node;
    const int mid = start + (end - start) / 2;
    box_select(t, start, end, mid, dim);
    const int l = box_build_node(t, start, mid);
    const int r = box_build_node(t, mid, end);
    t->left[node] = l;
    t->right[node] = r;
    return node;
}

StatusCode box_build(BoxTree *t, const float *x, int n, int d, Status *st)
{
    memset(t, 0, sizeof *t);
    t->x = x;
    t->n = n;
    t->d = d;
    t->avx2 = simd_active() >= SIMD_AVX2;
    const int max_nodes = 4 * (n / BOX_LEAF + 1);
    t->xt = malloc((size_t)n * d * sizeof *t->xt);
    t->idx = malloc((size_t)n * sizeof *t->idx);
    t->start = malloc((size_t)max_nodes * sizeof(int));
    t->end = malloc((size_t)max_nodes * sizeof(int));
    t->left = malloc((size_t)max_nodes * sizeof(int));
    t->right = malloc((size_t)max_nodes * sizeof(int));
    t->lo = malloc((size_t)max_nodes * d * sizeof(float));
    t->hi = malloc((size_t)max_nodes * d * sizeof(float));
    if (!t->xt || !t->idx || !t->start || !t->end || !t->left || !t->right || !t->lo ||
        !t->hi) {
        box_free(t);
        return status_fail(st, TK_ENOMEM, "kd-tree: cannot allocate for %d rows", n);
    }
    for (int i = 0; i < n; i++)
        t->idx[i] = i;
    box_build_node(t, 0, n);
    for (int p = 0; p < n; p++)
        memcpy(t->xt + (size_t)p * d, x + (size_t)t->idx[p] * d, (size_t)d * sizeof(float));
    return TK_OK;
}

float box_sqdist_scalar(const float *a, const float *b, int d)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

float box_sqdist(const BoxTree *t, const float *a, const float *b)
{
    return t->avx2 ? box_sqdist_avx2(a, b, t->d) : box_sqdist_scalar(a, b, t->d);
}

int box_within(const BoxTree *t, const float *a, const float *b, float r2f, double r2)
{
    const float s = box_sqdist(t, a, b);
    if (s < r2f * (1.0f - BOX_RECHECK))
        return 1;
    if (s > r2f * (1.0f + BOX_RECHECK))
        return 0;
    double e = 0.0;
    for (int j = 0; j < t->d; j++)
        e += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    return e <= r2;
}

float box_gap_scalar(const float *lo, const float *hi, const float *q, int d, float limit)
{
    float s = 0.0f;
    for (int j = 0; j < d; j++) {
        const float e = q[j] < lo[j] ? lo[j] - q[j] : (q[j] > hi[j] ? q[j] - hi[j] : 0.0f);
        s += e * e;
        if (s > limit)
            break;
    }
    return s;
}

/* Squared distance from q to node's box, or more than limit (stops early). */
float box_dist(const BoxTree *t, int node, const float *q, float limit)
{
    const float *lo = t->lo + (size_t)node * t->d, *hi = t->hi + (size_t)node * t->d;
    return t->avx2 ? box_gap_avx2(lo, hi, q, t->d) : box_gap_scalar(lo, hi, q, t->d, limit);
}

/* Rows within r of q, counted up to cap. */
int box_count(const BoxTree *t, const float *q, float r2f, double r2, int cap)
{
    BoxWalk w;
    int count = 0;
    box_walk_start(&w, r2f);
    for (int leaf; (leaf = box_walk_next(t, &w, q)) >= 0;)
        for (int p = t->start[leaf]; p < t->end[leaf]; p++)
            if (box_within(t, q, t->xt + (size_t)p * t->d, r2f, r2) && ++count >= cap)
                return count;
    return count;
}

int box_range_sum(const BoxTree *t, const float *q, float r2f, double r2, double *sum)
{
    BoxWalk w;
    int count = 0;
    memset(sum, 0, (size_t)t->d * sizeof *sum);
    box_walk_start(&w, r2f);
    for (int leaf; (leaf = box_walk_next(t, &w, q)) >= 0;)
        for (int p = t->start[leaf]; p < t->end[leaf]; p++) {
            const float *row = t->xt + (size_t)p * t->d;
            if (!box_within(t, q, row, r2f, r2))
                continue;
            count++;
            for (int j = 0; j < t->d; j++)
                sum[j] += row[j];
        }
    return count;
}
