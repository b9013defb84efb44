/* dbscan.c — DBSCAN (Ester, Kriegel, Sander & Xu, KDD 1996) with scikit-learn's labelling,
 * without ever holding neighbour lists (scikit-learn keeps them all: 13.7 GiB at 200k rows).
 *
 *   1. core points: range counts on a kd-tree that stop as soon as min_samples is reached;
 *   2. clusters: connected components of core points within eps of each other, by a lock-free
 *      union-find that always links the larger root under the smaller, so every component's
 *      root is its lowest row whatever the thread schedule; a candidate pair already in one
 *      component is skipped before its distance is computed, and so is a whole subtree once
 *      all its core points are known to be in the query's component;
 *   3. numbering: components in order of their lowest row (scikit-learn starts a cluster at
 *      each unlabelled core point in index order and expands it fully), and a border point
 *      joins the lowest-numbered cluster among its core neighbours (the first to reach it).
 *
 * The tree (boxtree.h) also answers the k-nearest queries of the k-distance curve. */
#include "boxtree.h"
#include "neighbour_heap.h"
#include "cluster.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int uf_find(atomic_int *parent, int x)
{
    for (;;) {
        int px = atomic_load_explicit(&parent[x], memory_order_relaxed);
        if (px == x)
            return x;
        const int gx = atomic_load_explicit(&parent[px], memory_order_relaxed);
        if (gx != px) /* path halving; losing the race only skips a shortcut */
            atomic_compare_exchange_weak_explicit(&parent[x], &px, gx, memory_order_relaxed,
                                                  memory_order_relaxed);
        x = gx;
    }
}

static void uf_union(atomic_int *parent, int a, int b)
{
    for (;;) {
        a = uf_find(parent, a);
        b = uf_find(parent, b);
        if (a == b)
            return;
        if (a < b) {
            const int s = a;
            a = b;
            b = s;
        }
        int expect = a; /* link the larger root under the smaller */
        if (atomic_compare_exchange_strong_explicit(&parent[a], &expect, b,
                                                    memory_order_relaxed, memory_order_relaxed))
            return;
    }
}

/* Row of a core point standing for all core points under a node once they are known to share
 * one component (components only merge, so this stays true), NODE_NO_CORE when the node holds
 * none, NODE_MIXED while unknown. */
#define NODE_MIXED (-1)
#define NODE_NO_CORE (-2)

static void mark_leaf(const BoxTree *t, const unsigned char *core, atomic_int *parent,
                      atomic_int *node_rep, int node)
{
    int rep = NODE_NO_CORE, root = -1;
    for (int p = t->start[node]; p < t->end[node]; p++) {
        const int j = t->idx[p];
        if (!core[j])
            continue;
        const int r = uf_find(parent, j);
        if (root >= 0 && r != root)
            return;
        root = r;
        rep = j;
    }
    atomic_store_explicit(&node_rep[node], rep, memory_order_relaxed);
}

static void mark_inner(atomic_int *parent, atomic_int *node_rep, int node, int l, int r)
{
    const int rl = atomic_load_explicit(&node_rep[l], memory_order_relaxed);
    const int rr = atomic_load_explicit(&node_rep[r], memory_order_relaxed);
    int rep = NODE_MIXED;
    if (rl == NODE_NO_CORE)
        rep = rr;
    else if (rr == NODE_NO_CORE)
        rep = rl;
    else if (rl >= 0 && rr >= 0 && uf_find(parent, rl) == uf_find(parent, rr))
        rep = rl;
    if (rep != NODE_MIXED)
        atomic_store_explicit(&node_rep[node], rep, memory_order_relaxed);
}

/* Unions core row i with every later core row within r, skipping whole subtrees already in
 * i's component. */
static void link_core(const BoxTree *t, const unsigned char *core, atomic_int *parent,
                      atomic_int *node_rep, int i, float r2f, double r2)
{
    const float *q = t->x + (size_t)i * t->d;
    const float prune = r2f * (1.0f + BOX_RECHECK);
    int stack[BOX_STACK], top = 0;
    stack[top++] = 0;
    while (top > 0) {
        const int node = stack[--top];
        const int rep = atomic_load_explicit(&node_rep[node], memory_order_relaxed);
        if (rep == NODE_NO_CORE || (rep >= 0 && uf_find(parent, rep) == uf_find(parent, i)))
            continue;
        if (box_dist(t, node, q, prune) > prune)
            continue;
        if (t->left[node] >= 0) {
            if (rep == NODE_MIXED)
                mark_inner(parent, node_rep, node, t->left[node], t->right[node]);
            stack[top++] = t->left[node];
            stack[top++] = t->right[node];
            continue;
        }
        for (int p = t->start[node]; p < t->end[node]; p++) {
            const int j = t->idx[p];
            if (j <= i || !core[j] || uf_find(parent, j) == uf_find(parent, i))
                continue;
            if (box_within(t, q, t->xt + (size_t)p * t->d, r2f, r2))
                uf_union(parent, i, j);
        }
        if (rep == NODE_MIXED)
            mark_leaf(t, core, parent, node_rep, node);
    }
}

/* The lowest cluster number among the core rows within r of row i, or -1. */
static int border_cluster(const BoxTree *t, const unsigned char *core, atomic_int *parent,
                          const int *root_cluster, int i, float r2f, double r2)
{
    const float *q = t->x + (size_t)i * t->d;
    BoxWalk w;
    int best = -1;
    box_walk_start(&w, r2f);
    for (int leaf; (leaf = box_walk_next(t, &w, q)) >= 0;)
        for (int p = t->start[leaf]; p < t->end[leaf]; p++) {
            const int j = t->idx[p];
            if (!core[j])
                continue;
            const int c = root_cluster[uf_find(parent, j)];
            if ((best < 0 || c < best) && box_within(t, q, t->xt + (size_t)p * t->d, r2f, r2))
                best = c;
        }
    return best;
}

StatusCode dbscan_fit(const float *x, int n, int d, const DbscanParams *p, int *labels,
                      int *n_clusters, unsigned char *core_out, Status *st)
{
    StatusCode rc = cluster_check_data("DBSCAN", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (!(p->eps > 0.0) || !isfinite(p->eps))
        return status_fail(st, TK_EINVAL, "DBSCAN: eps = %g, must be a finite number > 0",
                           p->eps);
    if (p->min_samples < 1)
        return status_fail(st, TK_EINVAL, "DBSCAN: min_samples = %d, must be >= 1",
                           p->min_samples);
    BoxTree t;
    if ((rc = box_build(&t, x, n, d, st)) != TK_OK)
        return rc;
    unsigned char *core = malloc((size_t)n);
    atomic_int *parent = malloc((size_t)n * sizeof *parent);
    int *root_cluster = malloc((size_t)n * sizeof *root_cluster);
    atomic_int *node_rep = malloc((size_t)t.n_nodes * sizeof *node_rep);
    if (!core || !parent || !root_cluster || !node_rep) {
        rc = status_fail(st, TK_ENOMEM, "DBSCAN: cannot allocate for %d rows", n);
        goto done;
    }
    const double r2 = p->eps * p->eps;
    const float r2f = (float)r2;
#pragma omp parallel for schedule(dynamic, 64)
    for (int i = 0; i < n; i++) {
        core[i] = box_count(&t, x + (size_t)i * d, r2f, r2, p->min_samples) >= p->min_samples;
        atomic_init(&parent[i], i);
    }
    for (int k = 0; k < t.n_nodes; k++)
        atomic_init(&node_rep[k], NODE_MIXED);
#pragma omp parallel for schedule(dynamic, 16)
    for (int i = 0; i < n; i++)
        if (core[i])
            link_core(&t, core, parent, node_rep, i, r2f, r2);
    int clusters = 0;
    for (int i = 0; i < n; i++) {
        root_cluster[i] = -1;
        if (core[i] && uf_find(parent, i) == i)
            root_cluster[i] = clusters++;
    }
#pragma omp parallel for schedule(dynamic, 64)
    for (int i = 0; i < n; i++)
        labels[i] = core[i] ? root_cluster[uf_find(parent, i)]
                            : border_cluster(&t, core, parent, root_cluster, i, r2f, r2);
    if (n_clusters)
        *n_clusters = clusters;
    if (core_out)
        memcpy(core_out, core, (size_t)n);
done:
    free(core);
    free(parent);
    free(root_cluster);
    free(node_rep);
    box_free(&t);
    return rc;
}

/* The k-th smallest squared distance from row i to the other rows. */
static double kth_nearest(const BoxTree *t, int i, NeighbourHeap *heap)
{
    const float *q = t->x + (size_t)i * t->d;
    int stack[BOX_STACK], top = 0;
    heap->count = 0;
    stack[top++] = 0;
    while (top > 0) {
        const int node = stack[--top];
        const double bound = nheap_bound(heap);
        if (box_dist(t, node, q, (float)bound) > bound)
            continue;
        if (t->left[node] >= 0) {
            /* Visit the nearer child first (pushed last) so the bound tightens sooner. */
            const int l = t->left[node], r = t->right[node];
            const float dl = box_dist(t, l, q, INFINITY), dr = box_dist(t, r, q, INFINITY);
            stack[top++] = dl < dr ? r : l;
            stack[top++] = dl < dr ? l : r;
            continue;
        }
        for (int p = t->start[node]; p < t->end[node]; p++)
            if (t->idx[p] != i)
                nheap_push(heap, box_sqdist(t, q, t->xt + (size_t)p * t->d), t->idx[p]);
    }
    return heap->dist[0];
}

static int cmp_float_desc(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

StatusCode dbscan_kdistance(const float *x, int n, int d, int k, float *dist, Status *st)
{
    StatusCode rc = cluster_check_data("k-distance", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (k < 1 || k > n - 1)
        return status_fail(st, TK_EINVAL, "k-distance: k = %d, must be 1..%d (rows - 1)", k,
                           n - 1);
    BoxTree t;
    if ((rc = box_build(&t, x, n, d, st)) != TK_OK)
        return rc;
    const int n_threads = threads_max();
    double *heap_dist = malloc((size_t)n_threads * k * sizeof *heap_dist);
    int *heap_idx = malloc((size_t)n_threads * k * sizeof *heap_idx);
    if (!heap_dist || !heap_idx) {
        free(heap_dist);
        free(heap_idx);
        box_free(&t);
        return status_fail(st, TK_ENOMEM, "k-distance: cannot allocate %d x %d", n_threads, k);
    }
#pragma omp parallel for schedule(dynamic, 64) num_threads(n_threads)
    for (int i = 0; i < n; i++) {
        const size_t slot = (size_t)omp_get_thread_num() * k;
        NeighbourHeap heap;
        nheap_init(&heap, heap_dist + slot, heap_idx + slot, k);
        dist[i] = sqrtf((float)kth_nearest(&t, i, &heap));
    }
    qsort(dist, (size_t)n, sizeof *dist, cmp_float_desc);
    free(heap_dist);
    free(heap_idx);
    box_free(&t);
    return TK_OK;
}

StatusCode dbscan_suggest_eps(const float *x, int n, int d, int min_samples, double *eps,
                              Status *st)
{
    if (min_samples < 2)
        return status_fail(st, TK_EINVAL, "suggest eps: min_samples = %d, must be >= 2",
                           min_samples);
    float *dist = malloc((size_t)n * sizeof *dist);
    double *curve = malloc((size_t)n * sizeof *curve);
    StatusCode rc = TK_OK;
    if (!dist || !curve)
        rc = status_fail(st, TK_ENOMEM, "suggest eps: cannot allocate %d distances", n);
    else if ((rc = dbscan_kdistance(x, n, d, min_samples - 1, dist, st)) == TK_OK) {
        for (int i = 0; i < n; i++)
            curve[i] = dist[i];
        *eps = curve[elbow_knee(curve, n) - 1];
    }
    free(dist);
    free(curve);
    return rc;
}
