/* vptree.c — a vantage-point tree (Yianilos, "Data structures and algorithms for nearest
 * neighbor search in general metric spaces", SODA 1993), the structure van der Maaten's
 * bhtsne uses for t-SNE's 3 * perplexity neighbours: each node is one row, its inside child
 * holds the rows closer than the median distance to it, the outside child the rest, and the
 * triangle inequality prunes whole children during a search. */
#include "cluster.h"
#include "neighbour_heap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double row_distance(const float *a, const float *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        const double diff = (double)a[j] - b[j];
        s += diff * diff;
    }
    return sqrt(s);
}

typedef struct {
    double dist;
    int row;
} Item;

static int compare_items(const void *a, const void *b)
{
    const Item *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

typedef struct {
    VpTree *t;
    Item *items;
    Rng rng;
    int next;
} Builder;

/* Makes a node of items [lo, hi): a random vantage point, the others sorted by distance to it
 * and split at the median. Returns the node or -1 for an empty range. */
static int build(Builder *b, int lo, int hi)
{
    if (lo >= hi)
        return -1;
    VpTree *t = b->t;
    const int pick = lo + (int)rng_below(&b->rng, (uint64_t)(hi - lo));
    const Item vp = b->items[pick];
    b->items[pick] = b->items[lo];
    b->items[lo] = vp;
    const int id = b->next++;
    t->nodes[id].index = vp.row;
    t->nodes[id].radius = 0;
    t->nodes[id].inside = t->nodes[id].outside = -1;
    if (hi - lo == 1)
        return id;
    const float *v = t->x + (size_t)vp.row * t->d;
    for (int i = lo + 1; i < hi; i++)
        b->items[i].dist = row_distance(v, t->x + (size_t)b->items[i].row * t->d, t->d);
    qsort(b->items + lo + 1, (size_t)(hi - lo - 1), sizeof(Item), compare_items);
    const int mid = (lo + 1 + hi) / 2;
    /* inside: [lo+1, mid) at distance <= radius; outside: [mid, hi) at distance >= radius */
    const double radius = b->items[mid].dist;
    const int inside = build(b, lo + 1, mid);
    const int outside = build(b, mid, hi);
    t->nodes[id].radius = radius;
    t->nodes[id].inside = inside;
    t->nodes[id].outside = outside;
    return id;
}

StatusCode vptree_build(VpTree *t, const float *x, int n, int d, uint64_t seed, Status *st)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || d < 1 || !x)
        return status_fail(st, TK_EINVAL, "vp-tree: %d rows x %d features", n, d);
    t->n = n;
    t->d = d;
    t->x = x;
    t->nodes = malloc((size_t)n * sizeof(VpNode));
    Item *items = malloc((size_t)n * sizeof(Item));
    if (!t->nodes || !items) {
        free(items);
        vptree_free(t);
        return status_fail(st, TK_ENOMEM, "vp-tree: cannot allocate for %d rows", n);
    }
    for (int i = 0; i < n; i++)
        items[i] = (Item){0, i};
    Builder b = {t, items, {{0}}, 0};
    rng_seed(&b.rng, seed, 0);
    t->root = build(&b, 0, n);
    free(items);
    return TK_OK;
}

/* Children are entered when the triangle inequality cannot rule them out, equality included,
 * so an equidistant lower row is never pruned. */
static void search(const VpTree *t, int id, const float *q, int exclude, NeighbourHeap *h)
{
    if (id < 0)
        return;
    const VpNode *node = &t->nodes[id];
    const double dist = row_distance(q, t->x + (size_t)node->index * t->d, t->d);
    if (node->index != exclude && dist <= nheap_bound(h))
        nheap_push(h, dist, node->index);
    if (node->inside < 0 && node->outside < 0)
        return;
    if (dist < node->radius) {
        if (dist - nheap_bound(h) <= node->radius)
            search(t, node->inside, q, exclude, h);
        if (dist + nheap_bound(h) >= node->radius)
            search(t, node->outside, q, exclude, h);
    } else {
        if (dist + nheap_bound(h) >= node->radius)
            search(t, node->outside, q, exclude, h);
        if (dist - nheap_bound(h) <= node->radius)
            search(t, node->inside, q, exclude, h);
    }
}

void vptree_query(const VpTree *t, const float *q, int k, int exclude, int *idx, double *dist)
{
    NeighbourHeap h;
    nheap_init(&h, dist, idx, k);
    search(t, t->root, q, exclude, &h);
    nheap_sort(&h);
}

void vptree_free(VpTree *t)
{
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
