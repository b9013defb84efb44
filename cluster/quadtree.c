/* quadtree.c — the 2-D space partition behind Barnes-Hut t-SNE (van der Maaten, "Accelerating
 * t-SNE using tree-based algorithms", JMLR 2014), built like scikit-learn's _QuadTree: one
 * point per leaf, points within 1e-6 of each other in every coordinate merged into one leaf,
 * every cell keeping the count and barycentre of the points below it. */
#include "cluster.h"
#include "quadtree_simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_leaf(const QuadNode *nd)
{
    return nd->child[0] < 0 && nd->child[1] < 0 && nd->child[2] < 0 && nd->child[3] < 0;
}

static int new_node(QuadTree *t, double x0, double y0, double x1, double y1)
{
    if (t->count == t->capacity) {
        const int cap = t->capacity ? 2 * t->capacity : 1024;
        QuadNode *grown = realloc(t->nodes, (size_t)cap * sizeof(QuadNode));
        if (!grown)
            return -1;
        t->nodes = grown;
        t->capacity = cap;
    }
    QuadNode *nd = &t->nodes[t->count];
    *nd = (QuadNode){.x0 = x0, .y0 = y0, .x1 = x1, .y1 = y1, .child = {-1, -1, -1, -1}};
    return t->count++;
}

/* The quadrant of (x, y) in a cell: bit 0 the right half, bit 1 the upper half. */
static int quadrant(const QuadNode *nd, double x, double y)
{
    return (x >= 0.5 * (nd->x0 + nd->x1)) | ((y >= 0.5 * (nd->y0 + nd->y1)) << 1);
}

/* A new empty child of node id in quadrant q; -1 when out of memory. */
static int new_child(QuadTree *t, int id, int q)
{
    const QuadNode *nd = &t->nodes[id];
    const double mx = 0.5 * (nd->x0 + nd->x1), my = 0.5 * (nd->y0 + nd->y1);
    const int child = new_node(t, q & 1 ? mx : nd->x0, q & 2 ? my : nd->y0,
                               q & 1 ? nd->x1 : mx, q & 2 ? nd->y1 : my);
    if (child >= 0)
        t->nodes[id].child[q] = child;
    return child;
}

static int insert(QuadTree *t, double x, double y)
{
    int id = 0;
    for (;;) {
        QuadNode *nd = &t->nodes[id];
        if (nd->size == 0) {
            nd->sx = x;
            nd->sy = y;
            nd->size = 1;
            return 0;
        }
        if (is_leaf(nd)) {
            const double lx = nd->sx / nd->size, ly = nd->sy / nd->size;
            if (fabs(x - lx) <= QT_DUPLICATE_EPS && fabs(y - ly) <= QT_DUPLICATE_EPS) {
                nd->sx += x;
                nd->sy += y;
                nd->size++;
                return 0;
            }
            /* split: the leaf's points move down into their quadrant */
            const int child = new_child(t, id, quadrant(nd, lx, ly));
            if (child < 0)
                return -1;
            nd = &t->nodes[id];
            t->nodes[child].sx = nd->sx;
            t->nodes[child].sy = nd->sy;
            t->nodes[child].size = nd->size;
        }
        nd->sx += x;
        nd->sy += y;
        nd->size++;
        const int q = quadrant(nd, x, y);
        if (nd->child[q] < 0 && new_child(t, id, q) < 0)
            return -1;
        id = t->nodes[id].child[q];
    }
}

/* Writes node id's subtree in depth-first order (children 0..3) from cell `at`; returns the
 * cell after it. */
static int flatten(QuadTree *t, int id, int at)
{
    const QuadNode *nd = &t->nodes[id];
    t->nodes[id].cell = at;
    QuadCell *c = &t->cells[at];
    const double w = nd->x1 - nd->x0 > nd->y1 - nd->y0 ? nd->x1 - nd->x0 : nd->y1 - nd->y0;
    c->cx = (float)(nd->sx / nd->size);
    c->cy = (float)(nd->sy / nd->size);
    c->size = (float)nd->size;
    c->width2 = (float)(w * w);
    int next = at + 1;
    for (int q = 0; q < 4; q++)
        if (nd->child[q] >= 0)
            next = flatten(t, nd->child[q], next);
    t->cells[at].skip = next;
    return next;
}

StatusCode quadtree_build(QuadTree *t, const float *y, int n, const int *order, Status *st)
{
    t->count = 0;
    if (n < 1)
        return status_fail(st, TK_EINVAL, "quadtree: %d points", n);
    double x0 = y[0], x1 = y[0], y0 = y[1], y1 = y[1];
    for (int i = 1; i < n; i++) {
        x0 = fmin(x0, y[2 * i]);
        x1 = fmax(x1, y[2 * i]);
        y0 = fmin(y0, y[2 * i + 1]);
        y1 = fmax(y1, y[2 * i + 1]);
    }
    /* scikit-learn's margin, so that no point lies on the upper boundary */
    x1 = fmax(x1 * (1 + 1e-3 * (x1 > 0 ? 1 : x1 < 0 ? -1 : 0)), x1 + 1e-3);
    y1 = fmax(y1 * (1 + 1e-3 * (y1 > 0 ? 1 : y1 < 0 ? -1 : 0)), y1 + 1e-3);
    if (new_node(t, x0, y0, x1, y1) < 0)
        return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points", n);
    for (int r = 0; r < n; r++) {
        const int i = order ? order[r] : r;
        if (insert(t, y[2 * i], y[2 * i + 1]) < 0)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points",
                               n);
    }
    if (t->cell_capacity < t->count) {
        QuadCell *grown = realloc(t->cells, (size_t)t->capacity * sizeof(QuadCell));
        if (!grown)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate %d cells", t->capacity);
        t->cells = grown;
        t->cell_capacity = t->capacity;
    }
    flatten(t, 0, 0);
    return TK_OK;
}

void quadtree_repulsion(const QuadTree *t, const float *p, double theta2, double *force,
                        double *sum_q)
{
    double fx = 0, fy = 0, sq = 0;
    const double px = p[0], py = p[1];
    const QuadCell *cells = t->cells;
    int i = 0;
    while (i < t->count) {
        const QuadCell *c = &cells[i];
        const double dx = px - c->cx, dy = py - c->cy;
        const double d2 = dx * dx + dy * dy;
        if (c->skip == i + 1) { /* a leaf */
            i = c->skip;
            if (fabs(dx) <= QT_DUPLICATE_EPS && fabs(dy) <= QT_DUPLICATE_EPS)
                continue; /* the point itself (and its duplicates, as scikit-learn) */
        } else if (c->width2 < theta2 * d2) {
            i = c->skip;
        } else {
            i++; /* open the cell: its first child follows it */
            continue;
        }
        const double q = 1.0 / (1.0 + d2);
        const double mult = c->size * q * q;
        sq += c->size * q;
        fx += mult * dx;
        fy += mult * dy;
    }
    force[0] = fx;
    force[1] = fy;
    *sum_q = sq;
}

void quadtree_group_scalar(const QuadCell *cells, int count, const float *px, const float *py,
                           float theta2, float *fx, float *fy, float *sq)
{
    float dx[QT_GROUP], dy[QT_GROUP], d2[QT_GROUP];
    for (int l = 0; l < QT_GROUP; l++)
        fx[l] = fy[l] = sq[l] = 0;
    int i = 0;
    while (i < count) {
        const QuadCell *c = &cells[i];
        int open = 0;
        for (int l = 0; l < QT_GROUP; l++) {
            dx[l] = px[l] - c->cx;
            dy[l] = py[l] - c->cy;
            d2[l] = dx[l] * dx[l] + dy[l] * dy[l];
            open |= c->width2 >= theta2 * d2[l];
        }
        const int leaf = c->skip == i + 1;
        if (!leaf && open) {
            i++;
            continue;
        }
        i = c->skip;
        for (int l = 0; l < QT_GROUP; l++) {
            const int self = leaf && fabsf(dx[l]) <= (float)QT_DUPLICATE_EPS &&
                             fabsf(dy[l]) <= (float)QT_DUPLICATE_EPS;
            const float q = 1.0f / (1.0f + d2[l]);
            const float sq1 = self ? 0.0f : c->size * q;
            const float mult = sq1 * q;
            sq[l] += sq1;
            fx[l] += mult * dx[l];
            fy[l] += mult * dy[l];
        }
    }
}

void quadtree_repulsion_group(const QuadTree *t, const float *p, float theta2, double *force,
                              double *sum_q)
{
    float px[QT_GROUP], py[QT_GROUP], fx[QT_GROUP], fy[QT_GROUP], sq[QT_GROUP];
    for (int l = 0; l < QT_GROUP; l++) {
        px[l] = p[2 * l];
        py[l] = p[2 * l + 1];
    }
    if (simd_active() >= SIMD_AVX2)
        quadtree_group_avx2(t->cells, t->count, px, py, theta2, fx, fy, sq);
    else
        quadtree_group_scalar(t->cells, t->count, px, py, theta2, fx, fy, sq);
    for (int l = 0; l < QT_GROUP; l++) {
        force[2 * l] = fx[l];
        force[2 * l + 1] = fy[l];
        sum_q[l] = sq[l];
    }
}

StatusCode quadtree_order(QuadTree *t, const float *y, int n, int *order, Status *st)
{
    /* keys: the leaf cell of every point (n), then a counting sort's buckets (count + 1) */
    const int need = n + t->count + 1;
    if (t->key_capacity < need) {
        int *grown = realloc(t->keys, (size_t)need * 2 * sizeof(int));
        if (!grown)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot order %d points", n);
        t->keys = grown;
        t->key_capacity = need * 2;
    }
    int *leaf_of = t->keys, *bucket = t->keys + n;
    const QuadNode *nodes = t->nodes;
#pragma omp parallel for schedule(static) if (n >= 4096)
    for (int i = 0; i < n; i++) {
        int id = 0;
        for (;;) {
            const QuadNode *nd = &nodes[id];
            const int q = is_leaf(nd) ? -1 : quadrant(nd, y[2 * i], y[2 * i + 1]);
            if (q < 0 || nd->child[q] < 0)
                break;
            id = nd->child[q];
        }
        leaf_of[i] = nodes[id].cell;
    }
    memset(bucket, 0, ((size_t)t->count + 1) * sizeof(int));
    for (int i = 0; i < n; i++)
        bucket[leaf_of[i] + 1]++;
    for (int c = 0; c < t->count; c++)
        bucket[c + 1] += bucket[c];
    for (int i = 0; i < n; i++)
        order[bucket[leaf_of[i]]++] = i;
    return TK_OK;
}

void quadtree_free(QuadTree *t)
{
    free(t->nodes);
    free(t->cells);
    free(t->keys);
    memset(t, 0, sizeof *t);
}
