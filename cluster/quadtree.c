/* quadtree.c — the 2-D space partition behind Barnes-Hut t-SNE (van der Maaten, "Accelerating
 * t-SNE using tree-based algorithms", JMLR 2014), built like scikit-learn's _QuadTree: one
 * point per leaf, points within 1e-6 of each other in every coordinate merged into one leaf,
 * every cell keeping the count and barycentre of the points below it. */
#include "cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* scikit-learn's duplicate tolerance (_quad_tree.pyx, EPSILON). */
#define QT_DUPLICATE_EPS 1e-6

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

/* The quadrant of (x, y) in cell id (bit 0: right half, bit 1: upper half) and its bounds. */
static int quadrant(const QuadNode *nd, double x, double y, double *b)
{
    const double mx = 0.5 * (nd->x0 + nd->x1), my = 0.5 * (nd->y0 + nd->y1);
    const int q = (x >= mx) | ((y >= my) << 1);
    b[0] = q & 1 ? mx : nd->x0;
    b[1] = q & 2 ? my : nd->y0;
    b[2] = q & 1 ? nd->x1 : mx;
    b[3] = q & 2 ? nd->y1 : my;
    return q;
}

static int insert(QuadTree *t, double x, double y)
{
    int id = 0;
    for (;;) {
        QuadNode *nd = &t->nodes[id];
        if (nd->size == 0) {
            nd->cx = x;
            nd->cy = y;
            nd->size = 1;
            return 0;
        }
        if (is_leaf(nd)) {
            if (fabs(x - nd->cx) <= QT_DUPLICATE_EPS && fabs(y - nd->cy) <= QT_DUPLICATE_EPS) {
                nd->cx = (nd->cx * nd->size + x) / (nd->size + 1);
                nd->cy = (nd->cy * nd->size + y) / (nd->size + 1);
                nd->size++;
                return 0;
            }
            /* split: the leaf's points move down into their quadrant */
            double b[4];
            const int q = quadrant(nd, nd->cx, nd->cy, b);
            const int child = new_node(t, b[0], b[1], b[2], b[3]);
            if (child < 0)
                return -1;
            nd = &t->nodes[id];
            t->nodes[child].cx = nd->cx;
            t->nodes[child].cy = nd->cy;
            t->nodes[child].size = nd->size;
            nd->child[q] = child;
        }
        nd->cx = (nd->cx * nd->size + x) / (nd->size + 1);
        nd->cy = (nd->cy * nd->size + y) / (nd->size + 1);
        nd->size++;
        double b[4];
        const int q = quadrant(nd, x, y, b);
        if (nd->child[q] < 0) {
            const int child = new_node(t, b[0], b[1], b[2], b[3]);
            if (child < 0)
                return -1;
            t->nodes[id].child[q] = child;
        }
        id = t->nodes[id].child[q];
    }
}

/* Writes node id's subtree in depth-first order (children 0..3) from cell `at`; returns the
 * cell after it. */
static int flatten(QuadTree *t, int id, int at)
{
    const QuadNode *nd = &t->nodes[id];
    QuadCell *c = &t->cells[at];
    const double w = nd->x1 - nd->x0 > nd->y1 - nd->y0 ? nd->x1 - nd->x0 : nd->y1 - nd->y0;
    c->cx = (float)nd->cx;
    c->cy = (float)nd->cy;
    c->size = (float)nd->size;
    c->width2 = (float)(w * w);
    int next = at + 1;
    for (int q = 0; q < 4; q++)
        if (nd->child[q] >= 0)
            next = flatten(t, nd->child[q], next);
    t->cells[at].skip = next;
    return next;
}

StatusCode quadtree_build(QuadTree *t, const float *y, int n, Status *st)
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
    for (int i = 0; i < n; i++)
        if (insert(t, y[2 * i], y[2 * i + 1]) < 0)
            return status_fail(st, TK_ENOMEM, "quadtree: cannot allocate nodes for %d points",
                               n);
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

void quadtree_free(QuadTree *t)
{
    free(t->nodes);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
