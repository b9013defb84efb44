/* kdtree.c — exact k-nearest-neighbour search in low dimensions: a balanced kd-tree split at
 * the median of the widest dimension, every node keeping the tight bounding box of its rows,
 * searched nearer child first; a child is pruned when the distance from the query to its box
 * exceeds the k-th best so far, which rules out more than the splitting planes alone.
 * Beside the nodes the build lays out a search copy (knn_simd.h): per node its children's
 * boxes, the leaves' rows in double and float blocks, and a leaf table. k = 1 has its own
 * search without a heap: with up to KD_FLAT_MAX_LEAVES leaves, a scan of every leaf box and
 * the leaves within the best in rising box distance, otherwise an iterative walk on a fixed
 * stack; each has a scalar and an AVX2 twin giving the same answer. */
#include "cluster.h"
#include "knn_simd.h"
#include "neighbour_heap.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const float *x;
    int d, dim;
} SortKey;

/* Total order (value, row), so the build is the same on every platform. */
static int compare_rows(const void *a, const void *b, void *ctx)
{
    const SortKey *k = ctx;
    const int ia = *(const int *)a, ib = *(const int *)b;
    const float va = k->x[(size_t)ia * k->d + k->dim], vb = k->x[(size_t)ib * k->d + k->dim];
    if (va != vb)
        return va < vb ? -1 : 1;
    return (ia > ib) - (ia < ib);
}

static KdNode *node_at(const KdTree *t, int id)
{
    return (KdNode *)(t->nodes + (size_t)id * t->node_stride);
}

static float *box_of(const KdNode *node) { return (float *)(node + 1); }

static int count_nodes(int rows, int leaf_size)
{
    if (rows <= leaf_size)
        return 1;
    return 1 + count_nodes(rows / 2, leaf_size) + count_nodes(rows - rows / 2, leaf_size);
}

static int build_node(KdTree *t, const float *x, int begin, int end)
{
    const int id = t->node_count++;
    const int d = t->d;
    KdNode *node = node_at(t, id);
    float *lo = box_of(node), *hi = lo + d;
    int dim = 0;
    float widest = -1;
    for (int j = 0; j < d; j++) {
        lo[j] = hi[j] = x[(size_t)t->index[begin] * d + j];
        for (int i = begin + 1; i < end; i++) {
            const float v = x[(size_t)t->index[i] * d + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
        if (hi[j] - lo[j] > widest) {
            widest = hi[j] - lo[j];
            dim = j;
        }
    }
    *node = (KdNode){begin, end, -1, -1};
    if (end - begin <= t->leaf_size)
        return id;
    SortKey key = {x, d, dim};
    qsort_r(t->index + begin, (size_t)(end - begin), sizeof(int), compare_rows, &key);
    const int mid = begin + (end - begin) / 2;
    const int left = build_node(t, x, begin, mid);
    const int right = build_node(t, x, mid, end);
    node_at(t, id)->left = left;
    node_at(t, id)->right = right;
    return id;
}

static size_t nodes_bytes(int nodes, size_t stride) { return ((size_t)nodes * stride + 63) / 64 * 64; }

static int padded_d(int d) { return (d + 3) / 4 * 4; }

static size_t rec_stride(int d) { return sizeof(KdRec) + 4 * (size_t)padded_d(d) * sizeof(float); }

static size_t recs_bytes(int nodes, int d) { return ((size_t)nodes * rec_stride(d) + 63) / 64 * 64; }

static unsigned char *node_recs(const KdTree *t, int nodes)
{
    return t->nodes + nodes_bytes(nodes, t->node_stride);
}

static double *leaf_blocks(const KdTree *t, int nodes)
{
    return (double *)(t->nodes + nodes_bytes(nodes, t->node_stride) + recs_bytes(nodes, t->d));
}

/* Float blocks of 8 rows follow the double blocks; at most one more block per leaf than
 * full ones. */
static size_t blocks_max(int nodes, int n) { return (size_t)nodes + (size_t)n / 4 + 1; }

static float *leaf_blocks8(const KdTree *t, int nodes)
{
    return (float *)(leaf_blocks(t, nodes) + blocks_max(nodes, t->n) * 4 * t->d);
}

static int *leaf_nodes(const KdTree *t, int nodes)
{
    return (int *)(leaf_blocks8(t, nodes) + blocks_max(nodes, t->n) * 8 * t->d);
}

/* nodes + 8 ints (64-byte multiple) for leaf_node, then the leaf boxes. */
static size_t leaf_nodes_bytes(int nodes) { return ((size_t)(nodes + 8) * sizeof(int) + 63) / 64 * 64; }

static float *leaf_boxes(const KdTree *t, int nodes)
{
    return (float *)((unsigned char *)leaf_nodes(t, nodes) + leaf_nodes_bytes(nodes));
}

static KdFlat flat_of(const KdTree *t)
{
    const int nodes = t->node_count;
    const int leaves = (nodes + 1) / 2; /* every internal node has two children */
    return (KdFlat){node_recs(t, nodes), rec_stride(t->d), leaf_blocks(t, nodes),
                    leaf_blocks8(t, nodes), t->index, t->d, padded_d(t->d),
                    leaf_nodes(t, nodes), leaf_boxes(t, nodes), leaves, (leaves + 7) / 8 * 8};
}

/* The k = 1 search layout (knn_simd.h): one record per node with its children's boxes, and
 * every leaf's rows (tree order) in double blocks of 4, the lanes past a leaf's last row zero
 * and never read back. The build numbers a left child right after its parent. */
static void leaf_layout(KdTree *t, int nodes)
{
    double *blocks = leaf_blocks(t, nodes);
    const int d = t->d;
    const int pd = padded_d(d);
    const size_t stride = rec_stride(d);
    float *blocks8 = leaf_blocks8(t, nodes);
    int next = 0, next8 = 0;
    for (int id = 0; id < t->node_count; id++) {
        const KdNode *node = node_at(t, id);
        KdRec *rec = (KdRec *)(node_recs(t, nodes) + (size_t)id * stride);
        float *box = (float *)(rec + 1);
        memset(box, 0, 4 * (size_t)pd * sizeof(float));
        *rec = (KdRec){node->right, node->begin, node->end - node->begin, -1, -1, {0, 0, 0}};
        if (node->left >= 0) {
            const float *bl = box_of(node_at(t, node->left)), *br = box_of(node_at(t, node->right));
            for (int j = 0; j < d; j++) {
                box[j] = bl[j];
                box[pd + j] = bl[d + j];
                box[2 * pd + j] = br[j];
                box[3 * pd + j] = br[d + j];
            }
            continue;
        }
        rec->leaf_off = next;
        const int rows = node->end - node->begin;
        double *blk = blocks + (size_t)next * 4 * d;
        memset(blk, 0, (size_t)(rows + 3) / 4 * 4 * d * sizeof(double));
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++)
                blk[(size_t)(r / 4) * 4 * d + 4 * j + r % 4] =
                    t->points[(size_t)(node->begin + r) * d + j];
        next += (rows + 3) / 4;
        rec->leaf_off8 = next8;
        float *blk8 = blocks8 + (size_t)next8 * 8 * d;
        memset(blk8, 0, (size_t)(rows + 7) / 8 * 8 * d * sizeof(float));
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++)
                blk8[(size_t)(r / 8) * 8 * d + 8 * j + r % 8] =
                    t->points[(size_t)(node->begin + r) * d + j];
        next8 += (rows + 7) / 8;
    }
}

/* The leaves in tree order with their boxes, feature-major, padded with empty boxes. */
static void leaf_table(KdTree *t, int nodes)
{
    const KdFlat f = flat_of(t);
    int *leaf_node = leaf_nodes(t, nodes);
    float *box = leaf_boxes(t, nodes);
    int l = 0;
    for (int id = 0; id < nodes; id++)
        if (node_at(t, id)->left < 0)
            leaf_node[l++] = id;
    for (int j = 0; j < t->d; j++)
        for (int i = 0; i < f.nleaves8; i++) {
            const float *b = i < l ? box_of(node_at(t, leaf_node[i])) : NULL;
            box[(size_t)2 * j * f.nleaves8 + i] = b ? b[j] : 0;
            box[(size_t)(2 * j + 1) * f.nleaves8 + i] = b ? b[t->d + j] : 0;
        }
}

StatusCode kdtree_build(KdTree *t, const float *x, int n, int d, int leaf_size, Status *st)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || d < 1 || d > KDTREE_MAX_D || leaf_size < 1)
        return status_fail(st, TK_EINVAL,
                           "kd-tree: %d rows x %d features, leaf size %d (need rows >= 1, "
                           "1 <= features <= %d, leaf size >= 1)",
                           n, d, leaf_size, KDTREE_MAX_D);
    t->n = n;
    t->d = d;
    t->leaf_size = leaf_size;
    const int nodes = count_nodes(n, leaf_size);
    t->points = malloc((size_t)n * d * sizeof(float));
    t->index = malloc((size_t)n * sizeof(int));
    t->node_stride = (sizeof(KdNode) + 2 * (size_t)d * sizeof(float) + 15) / 16 * 16;
    /* The node records are followed by the search layout (see leaf_layout): the offset of
     * each leaf's rows in blocks, then every leaf's rows in double, in blocks of 4 rows,
     * feature-major inside a block (knn_simd.h), padded per leaf. */
    const size_t bytes = nodes_bytes(nodes, t->node_stride) + recs_bytes(nodes, d) +
                         blocks_max(nodes, n) * 4 * (size_t)d * sizeof(double) +
                         blocks_max(nodes, n) * 8 * (size_t)d * sizeof(float) +
                         leaf_nodes_bytes(nodes) + 2 * (size_t)d * (nodes + 8) * sizeof(float);
    t->nodes = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!t->points || !t->index || !t->nodes) {
        kdtree_free(t);
        return status_fail(st, TK_ENOMEM, "kd-tree: cannot allocate for %d rows", n);
    }
    for (int i = 0; i < n; i++)
        t->index[i] = i;
    build_node(t, x, 0, n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            t->points[(size_t)i * d + j] = x[(size_t)t->index[i] * d + j];
    leaf_layout(t, nodes);
    leaf_table(t, nodes);
    return TK_OK;
}

typedef void (*BlockKernel)(const double *, int, int, const double *, double *);

/* A child is entered when its box distance does not exceed the bound (the heap's worst, or
 * the best so far for k = 1), equality included, so that an equidistant lower row is never
 * pruned. Nearer child first; the farther one waits on a fixed stack with its box distance,
 * checked again when it is popped. */
typedef struct {
    int id;
    double dist;
} Pending;

/* Balanced halves: the depth is at most 32 for int row counts, one pending node per level. */
#define KD_STACK 64
/* Rows of a leaf whose distances are computed in one kernel call. */
#define KD_CHUNK_BLOCKS 16

/* The squared distance from q to the box lo[d], hi[d], scaled down to a safe lower bound. */
static double box_distance(const float *lo, const float *hi, const double *q, int d)
{
    double sum = 0;
    for (int j = 0; j < d; j++) {
        const double below = lo[j] - q[j], above = q[j] - hi[j];
        double out = below > above ? below : above;
        out = out > 0 ? out : 0;
        sum += out * out;
    }
    return sum * KD_BOX_SHRINK;
}

/* Any k: the k best in a heap, leaf rows through the block kernel. */
static void search(const KdFlat *f, const double *q, BlockKernel kernel, NeighbourHeap *h)
{
    const int d = f->d, pd = f->pd;
    _Alignas(32) double sq[KD_CHUNK_BLOCKS * 4];
    Pending stack[KD_STACK];
    int top = 0;
    int id = 0;
    for (;;) {
        const KdRec *rec = (const KdRec *)(f->recs + (size_t)id * f->stride);
        if (rec->right < 0) {
            for (int c = 0; c < rec->rows; c += KD_CHUNK_BLOCKS * 4) {
                const int count =
                    rec->rows - c < KD_CHUNK_BLOCKS * 4 ? rec->rows - c : KD_CHUNK_BLOCKS * 4;
                kernel(f->blocks + ((size_t)rec->leaf_off + c / 4) * 4 * d, (count + 3) / 4, d, q,
                       sq);
                const int *rowid = f->index + rec->begin + c;
                for (int i = 0; i < count; i++)
                    if (sq[i] <= nheap_bound(h))
                        nheap_push(h, sq[i], rowid[i]);
            }
        } else {
            const float *box = (const float *)(rec + 1);
            const double bound = nheap_bound(h);
            const double dl = box_distance(box, box + pd, q, d);
            const double dr = box_distance(box + 2 * pd, box + 3 * pd, q, d);
            const int near = dl <= dr ? id + 1 : rec->right;
            const int far = dl <= dr ? rec->right : id + 1;
            const double dnear = dl <= dr ? dl : dr, dfar = dl <= dr ? dr : dl;
            if (dfar <= bound)
                stack[top++] = (Pending){far, dfar};
            if (dnear <= bound) {
                id = near;
                continue;
            }
        }
        const double bound = nheap_bound(h);
        while (top > 0 && stack[top - 1].dist > bound)
            top--;
        if (top == 0)
            break;
        id = stack[--top].id;
    }
}

/* Leaf rows against the best so far (exact double sums, ties to the lowest row). */
static void scan_leaf(const KdFlat *f, int id, const double *q, double *bd, int *bi)
{
    const int d = f->d;
    const KdRec *rec = (const KdRec *)(f->recs + (size_t)id * f->stride);
    const double *blk = f->blocks + (size_t)rec->leaf_off * 4 * d;
    const int *rowid = f->index + rec->begin;
    for (int i = 0; i < rec->rows; i++) {
        const double *b = blk + (size_t)(i / 4) * 4 * d + i % 4;
        double s = 0;
        for (int j = 0; j < d; j++) {
            const double diff = b[4 * j] - q[j];
            s += diff * diff;
        }
        if (s < *bd || (s == *bd && rowid[i] < *bi)) {
            *bd = s;
            *bi = rowid[i];
        }
    }
}

void kd_nearest1_scalar(const KdFlat *f, const double *q, double *best, int *best_i)
{
    const int d = f->d, pd = f->pd;
    double bd = *best;
    int bi = *best_i;
    Pending stack[KD_STACK];
    int top = 0;
    int id = 0;
    for (;;) {
        const KdRec *rec = (const KdRec *)(f->recs + (size_t)id * f->stride);
        if (rec->right < 0) {
            scan_leaf(f, id, q, &bd, &bi);
        } else {
            const float *box = (const float *)(rec + 1);
            const double dist[2] = {box_distance(box, box + pd, q, d),
                                    box_distance(box + 2 * pd, box + 3 * pd, q, d)};
            const int left_first = dist[0] <= dist[1];
            const int near = left_first ? id + 1 : rec->right;
            const int far = left_first ? rec->right : id + 1;
            const double dnear = left_first ? dist[0] : dist[1];
            const double dfar = left_first ? dist[1] : dist[0];
            if (dfar <= bd)
                stack[top++] = (Pending){far, dfar};
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

void kd_leafscan1_scalar(const KdFlat *f, const double *q, double *best, int *best_i)
{
    const int d = f->d, nl = f->nleaves, nl8 = f->nleaves8;
    double dist[KD_FLAT_MAX_LEAVES];
    for (int i = 0; i < nl; i++) {
        double sum = 0;
        for (int j = 0; j < d; j++) {
            const double below = f->leaf_box[(size_t)2 * j * nl8 + i] - q[j];
            const double above = q[j] - f->leaf_box[(size_t)(2 * j + 1) * nl8 + i];
            double out = below > above ? below : above;
            out = out > 0 ? out : 0;
            sum += out * out;
        }
        dist[i] = sum * KD_BOX_SHRINK;
    }
    double bd = *best;
    int bi = *best_i;
    for (;;) {
        int pick = -1;
        for (int i = 0; i < nl; i++)
            if (dist[i] <= bd && (pick < 0 || dist[i] < dist[pick]))
                pick = i;
        if (pick < 0)
            break;
        dist[pick] = NAN; /* visited: compares false */
        scan_leaf(f, f->leaf_node[pick], q, &bd, &bi);
    }
    *best = bd;
    *best_i = bi;
}

void kdtree_query(const KdTree *t, const float *q, int k, int *idx, double *sqdist)
{
    _Alignas(32) double qd[KDTREE_MAX_D];
    for (int j = 0; j < t->d; j++)
        qd[j] = q[j];
    const BlockKernel kernel =
        simd_active() >= SIMD_AVX2 ? knn_block_sqdist_exact_avx2 : knn_block_sqdist_scalar;
    if (k == 1) {
        for (int j = t->d; j < padded_d(t->d); j++)
            qd[j] = 0;
        double best = INFINITY;
        int best_i = INT_MAX;
        const KdFlat f = flat_of(t);
        const int avx2 = simd_active() >= SIMD_AVX2;
        if (f.nleaves <= KD_FLAT_MAX_LEAVES)
            (avx2 ? kd_leafscan1_avx2 : kd_leafscan1_scalar)(&f, qd, &best, &best_i);
        else
            (avx2 ? kd_nearest1_avx2 : kd_nearest1_scalar)(&f, qd, &best, &best_i);
        idx[0] = best_i;
        sqdist[0] = best;
        return;
    }
    NeighbourHeap h;
    nheap_init(&h, sqdist, idx, k);
    const KdFlat f = flat_of(t);
    search(&f, qd, kernel, &h);
    nheap_sort(&h);
}

void kdtree_free(KdTree *t)
{
    free(t->points);
    free(t->index);
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
