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

/* Nodes being built: the tree's own, or one subtree's while threads build them apart. */
typedef struct {
    QuadNode *nodes;
    int count, capacity;
} NodePool;

static int new_node(NodePool *t, double x0, double y0, double x1, double y1)
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
    *nd = (QuadNode){.x0 = x0, .y0 = y0, .x1 = x1, .y1 = y1, .child = {-1, -1, -1, -1},
                     .first = -1, .last = -1};
    return t->count++;
}

/* The quadrant of (x, y) in a cell: bit 0 the right half, bit 1 the upper half. */
static int quadrant(const QuadNode *nd, double x, double y)
{
    return (x >= 0.5 * (nd->x0 + nd->x1)) | ((y >= 0.5 * (nd->y0 + nd->y1)) << 1);
}

/* A new empty child of node id in quadrant q; -1 when out of memory. */
static int new_child(NodePool *t, int id, int q)
{
    const QuadNode *nd = &t->nodes[id];
    const double mx = 0.5 * (nd->x0 + nd->x1), my = 0.5 * (nd->y0 + nd->y1);
    const int child = new_node(t, q & 1 ? mx : nd->x0, q & 2 ? my : nd->y0,
                               q & 1 ? nd->x1 : mx, q & 2 ? nd->y1 : my);
    if (child >= 0)
        t->nodes[id].child[q] = child;
    return child;
}

/* Inserts point `point` at (x, y) below node `root`; next: the leaf lists' links. */
static int insert(NodePool *t, int root, double x, double y, int point, int *next)
{
    int id = root;
    next[point] = -1;
    for (;;) {
        QuadNode *nd = &t->nodes[id];
        if (nd->size == 0) {
            nd->sx = x;
            nd->sy = y;
            nd->size = 1;
            nd->first = nd->last = point;
            return 0;
        }
        if (is_leaf(nd)) {
            const double lx = nd->sx / nd->size, ly = nd->sy / nd->size;
            if (fabs(x - lx) <= QT_DUPLICATE_EPS && fabs(y - ly) <= QT_DUPLICATE_EPS) {
                nd->sx += x;
                nd->sy += y;
                nd->size++;
                next[nd->last] = point;
                nd->last = point;
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
            t->nodes[child].first = nd->first;
            t->nodes[child].last = nd->last;
            nd->first = nd->last = -1;
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

/* ---------------------------------------------------------------- the parallel build
 * The top QT_SPLIT_DEPTH levels are laid out by one thread exactly as insertion would leave
 * them (a node's sums are its points' in insertion order; it stays a leaf while each new point
 * is a duplicate of the points before it, and when it splits those go down together into the
 * quadrant of their barycentre); below, every subtree gets its points in insertion order and
 * is built on its own pool by `insert`, then the pools are appended to the tree. So the
 * result does not depend on the number of threads, nor differ from one thread's insertions. */
#define QT_SPLIT_DEPTH 2
#define QT_SPLIT_CELLS 16 /* 4^QT_SPLIT_DEPTH */

struct QuadBuild {
    NodePool pool[QT_SPLIT_CELLS];
    int root[QT_SPLIT_CELLS];         /* the tree node each subtree replaces */
    int begin[QT_SPLIT_CELLS];        /* its points: pts[begin[s] .. begin[s] + size[s]) */
    int size[QT_SPLIT_CELLS];
    int count;                        /* subtrees this build */
    int *pts, *tmp;                   /* n point indices each */
    int pts_capacity;
};

/* How many of pts[0..count) a leaf would absorb before splitting (each a duplicate of the
 * barycentre of those before it); their barycentre in *bx, *by. */
static int duplicate_prefix(const float *y, const int *pts, int count, double *bx, double *by)
{
    double sx = y[2 * pts[0]], sy = y[2 * pts[0] + 1];
    int m = 1;
    for (; m < count; m++) {
        const double x = y[2 * pts[m]], yy = y[2 * pts[m] + 1];
        if (!(fabs(x - sx / m) <= QT_DUPLICATE_EPS && fabs(yy - sy / m) <= QT_DUPLICATE_EPS))
            break;
        sx += x;
        sy += yy;
    }
    *bx = sx / m;
    *by = sy / m;
    return m;
}

/* Lays out node id (pts[0..count), count >= 1, in insertion order) and the levels below it
 * down to QT_SPLIT_DEPTH, recording the subtrees left to build. */
static int build_top(NodePool *t, struct QuadBuild *b, const float *y, int *next, int id,
                     int depth, int *pts, int count)
{
    QuadNode *nd = &t->nodes[id];
    nd->sx = y[2 * pts[0]];
    nd->sy = y[2 * pts[0] + 1];
    for (int k = 1; k < count; k++) {
        nd->sx += y[2 * pts[k]];
        nd->sy += y[2 * pts[k] + 1];
    }
    nd->size = count;
    double bx, by;
    const int m = duplicate_prefix(y, pts, count, &bx, &by);
    if (m == count) { /* a leaf */
        nd->first = pts[0];
        nd->last = pts[count - 1];
        for (int k = 0; k < count; k++)
            next[pts[k]] = k + 1 < count ? pts[k + 1] : -1;
        return 0;
    }
    if (depth == QT_SPLIT_DEPTH) {
        b->root[b->count] = id;
        b->begin[b->count] = (int)(pts - b->pts);
        b->size[b->count++] = count;
        return 0;
    }
    /* stable split into quadrants (the duplicate prefix goes with its barycentre): tagged
     * copies in tmp, then back into pts quadrant by quadrant */
    int counts[4] = {0, 0, 0, 0}, *tagged = b->tmp + (pts - b->pts);
    for (int k = 0; k < count; k++) {
        const int q = k < m ? quadrant(nd, bx, by)
                            : quadrant(nd, y[2 * pts[k]], y[2 * pts[k] + 1]);
        tagged[k] = pts[k] << 2 | q;
        counts[q]++;
    }
    const int start[4] = {0, counts[0], counts[0] + counts[1],
                          counts[0] + counts[1] + counts[2]};
    int fill[4] = {start[0], start[1], start[2], start[3]};
    for (int k = 0; k < count; k++)
        pts[fill[tagged[k] & 3]++] = tagged[k] >> 2;
    for (int q = 0; q < 4; q++) {
        if (counts[q] == 0)
            continue;
        const int child = new_child(t, id, q);
        if (child < 0 ||
            build_top(t, b, y, next, child, depth + 1, pts + start[q], counts[q]) < 0)
            return -1;
    }
    return 0;
}

static StatusCode build_split(QuadTree *t, NodePool *top, const float *y, int n,
                              const int *order, Status *st)
{
    struct QuadBuild *b = t->build;
    if (!b && !(b = t->build = calloc(1, sizeof *b)))
        return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate for %d points", n);
    if (b->pts_capacity < n) {
        free(b->pts);
        free(b->tmp);
        b->pts = malloc((size_t)n * 2 * sizeof(int));
        b->tmp = malloc((size_t)n * 2 * sizeof(int));
        b->pts_capacity = b->pts && b->tmp ? 2 * n : 0;
        if (!b->pts || !b->tmp)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate for %d points", n);
    }
    for (int r = 0; r < n; r++)
        b->pts[r] = order ? order[r] : r;
    b->count = 0;
    if (build_top(top, b, y, t->next, 0, 0, b->pts, n) < 0)
        return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points", n);
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (int s = 0; s < b->count; s++) {
        NodePool *p = &b->pool[s];
        const QuadNode *r = &top->nodes[b->root[s]];
        p->count = 0;
        if (new_node(p, r->x0, r->y0, r->x1, r->y1) < 0) {
            failed = 1;
            continue;
        }
        const int *pts = b->pts + b->begin[s];
        for (int k = 0; k < b->size[s] && !failed; k++)
            failed |= insert(p, 0, y[2 * pts[k]], y[2 * pts[k] + 1], pts[k], t->next) < 0;
    }
    if (failed)
        return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points", n);
    /* append: a subtree's node 0 takes its root's place, the rest follow the tree's nodes */
    int total = top->count;
    for (int s = 0; s < b->count; s++)
        total += b->pool[s].count - 1;
    if (total > top->capacity) {
        QuadNode *grown = realloc(top->nodes, (size_t)total * 2 * sizeof(QuadNode));
        if (!grown)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points", n);
        top->nodes = grown;
        top->capacity = total * 2;
    }
    for (int s = 0; s < b->count; s++) {
        const NodePool *p = &b->pool[s];
        const int base = top->count - 1; /* local node k > 0 goes to base + k */
        for (int k = 0; k < p->count; k++) {
            QuadNode nd = p->nodes[k];
            for (int q = 0; q < 4; q++)
                if (nd.child[q] >= 0)
                    nd.child[q] += base;
            top->nodes[k == 0 ? b->root[s] : base + k] = nd;
        }
        top->count += p->count - 1;
    }
    return TK_OK;
}

/* Writes node id's subtree in depth-first order (children 0..3) from cell `at`; returns the
 * cell after it. */
static int flatten(QuadTree *t, int id, int at, int *placed)
{
    const QuadNode *nd = &t->nodes[id];
    for (int p = nd->first; p >= 0; p = t->next[p]) /* a leaf's points, in leaf order */
        t->leaf_order[(*placed)++] = p;
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
            next = flatten(t, nd->child[q], next, placed);
    t->cells[at].skip = next;
    return next;
}

StatusCode quadtree_build(QuadTree *t, const float *y, int n, const int *order, Status *st)
{
    return quadtree_build_split(t, y, n, order, n >= QT_PARALLEL_MIN_N, st);
}

StatusCode quadtree_build_split(QuadTree *t, const float *y, int n, const int *order, int split,
                                Status *st)
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
    if (t->point_capacity < n) {
        int *next = realloc(t->next, (size_t)n * 2 * sizeof(int));
        if (next)
            t->next = next;
        int *leaf_order = realloc(t->leaf_order, (size_t)n * 2 * sizeof(int));
        if (leaf_order)
            t->leaf_order = leaf_order;
        if (!next || !leaf_order)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate for %d points", n);
        t->point_capacity = 2 * n;
    }
    NodePool pool = {t->nodes, 0, t->capacity};
    StatusCode rc = TK_OK;
    if (new_node(&pool, x0, y0, x1, y1) < 0)
        rc = status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points", n);
    else if (split)
        rc = build_split(t, &pool, y, n, order, st);
    else
        for (int r = 0; r < n && rc == TK_OK; r++) {
            const int i = order ? order[r] : r;
            if (insert(&pool, 0, y[2 * i], y[2 * i + 1], i, t->next) < 0)
                rc = status_fail(st, TK_ENOMEM,
                                 "quadtree: cannot allocate nodes for %d points", n);
        }
    t->nodes = pool.nodes;
    t->capacity = pool.capacity;
    t->count = rc == TK_OK ? pool.count : 0;
    if (rc != TK_OK)
        return rc;
    if (t->cell_capacity < t->count) {
        QuadCell *grown = realloc(t->cells, (size_t)t->capacity * sizeof(QuadCell));
        if (!grown)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate %d cells", t->capacity);
        t->cells = grown;
        t->cell_capacity = t->capacity;
    }
    int placed = 0;
    flatten(t, 0, 0, &placed);
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

StatusCode quadtree_order(const QuadTree *t, int n, int *order, Status *st)
{
    if (t->count < 1 || t->nodes[0].size != n)
        return status_fail(st, TK_EINVAL, "quadtree: order of %d points asked, the tree holds %d",
                           n, t->count < 1 ? 0 : t->nodes[0].size);
    memcpy(order, t->leaf_order, (size_t)n * sizeof *order);
    return TK_OK;
}

void quadtree_free(QuadTree *t)
{
    if (t->build) {
        for (int s = 0; s < QT_SPLIT_CELLS; s++)
            free(t->build->pool[s].nodes);
        free(t->build->pts);
        free(t->build->tmp);
        free(t->build);
    }
    free(t->nodes);
    free(t->cells);
    free(t->next);
    free(t->leaf_order);
    memset(t, 0, sizeof *t);
}
