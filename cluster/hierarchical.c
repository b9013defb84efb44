/* hierarchical.c — agglomerative clustering with scipy's output: a linkage matrix sorted by
 * height (stable) and relabelled with scipy's union-find convention, and fcluster's cuts.
 *
 *   ward      nearest-neighbour chain on cluster centroids and sizes: the Ward distance
 *             sqrt(2 na nb / (na + nb)) |ca - cb| equals what scipy's Lance–Williams update
 *             computes on the full matrix, in O(n d) memory; the scans compare float
 *             distances (SIMD along clusters), the recorded heights are recomputed in double;
 *   complete, average   nearest-neighbour chain on the condensed distance matrix with the
 *             Lance–Williams updates (max, size-weighted mean), n <= HIER_CONDENSED_MAX_N;
 *   single    Prim's minimum spanning tree, distances recomputed on the fly, O(n) memory.
 *
 * The chain follows scipy's _hierarchy.nn_chain (a chain's previous element wins ties, so the
 * chain cannot cycle) and mst_single_linkage; algorithms from D. Müllner, "Modern hierarchical,
 * agglomerative clustering algorithms" (arXiv:1109.2378, 2011). Distances in double. */
#include "cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Below this many operations per step Prim's scan stays on one thread: a parallel region per
 * merge costs more than it saves (far more when the machine is shared and a thread waits to be
 * scheduled). */
#define PARALLEL_MIN_WORK (1L << 22)
#define SCAN_LANES 16

const char *linkage_name(Linkage method)
{
    switch (method) {
    case LINKAGE_WARD: return "ward";
    case LINKAGE_COMPLETE: return "complete";
    case LINKAGE_AVERAGE: return "average";
    case LINKAGE_SINGLE: return "single";
    }
    return "?";
}

int linkage_parse(const char *name)
{
    for (int m = LINKAGE_WARD; m <= LINKAGE_SINGLE; m++)
        if (strcmp(name, linkage_name((Linkage)m)) == 0)
            return m;
    return -1;
}

static double sqdist_row(const double *a, const float *b, int d)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < d; j++) {
        const double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

static double sqdist_dd(const double *a, const double *b, int d)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < d; j++) {
        const double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

static size_t condensed_index(int n, int i, int j)
{
    if (i > j) {
        const int t = i;
        i = j;
        j = t;
    }
    return (size_t)n * i - (size_t)i * (i + 1) / 2 + (size_t)(j - i - 1);
}

/* The clusters the chain works on: Ward's centroids or the condensed matrix. */
typedef struct {
    Linkage method;
    int n, d;
    int *size;        /* 0 once merged away */
    double *centroid; /* ward: n x d */
    float *centroid_t; /* ward: the same rounded to float and transposed (d x n), so a scan
                        * runs along clusters in SIMD lanes; column s holds the cluster in
                        * slot s, and the m active clusters fill slots 0..m-1 */
    float *slot_size;  /* ward: n, the size of the cluster in each slot */
    int *slot_of, *id_of; /* ward: cluster -> slot, slot -> cluster */
    int m;             /* ward: active clusters */
    double *D;        /* complete / average: condensed, n(n-1)/2 */
} Clusters;

/* The merge cost of a and b that the chain compares: the squared Ward distance (from the
 * float copy of the centroids: four times the SIMD lanes of double; the height recorded for a
 * merge is recomputed in double), or the matrix entry. */
static double cost(const Clusters *c, int a, int b)
{
    if (c->method == LINKAGE_WARD) {
        const float *ct = c->centroid_t;
        const int sa = c->slot_of[a], sb = c->slot_of[b];
        float s = 0.0f;
        for (int j = 0; j < c->d; j++) {
            const float t = ct[(size_t)j * c->n + sa] - ct[(size_t)j * c->n + sb];
            s += t * t;
        }
        const float na = c->slot_size[sa], nb = c->slot_size[sb];
        return 2.0f * na * nb / (na + nb) * s;
    }
    return c->D[condensed_index(c->n, a, b)];
}

static double merge_height(const Clusters *c, int a, int b, double chain_cost)
{
    if (c->method != LINKAGE_WARD)
        return chain_cost;
    const double na = c->size[a], nb = c->size[b];
    return sqrt(2.0 * na * nb / (na + nb) *
                sqdist_dd(c->centroid + (size_t)a * c->d, c->centroid + (size_t)b * c->d, c->d));
}

/* Ward's scan: squared distances from x to a block of clusters, accumulated dimension by
 * dimension along the transposed centroids, weighted, the lowest kept. Single-threaded: a
 * scan is a few microseconds, less than waking a second thread for it. */
static int nearest_ward(const Clusters *c, int x, double *best_cost)
{
    const int n = c->n, d = c->d, m = c->m, xs = c->slot_of[x];
    const float nx = c->slot_size[xs];
    float best = INFINITY;
    int arg = -1;
    for (int s0 = 0; s0 < m; s0 += SCAN_LANES) {
        const int lanes = s0 + SCAN_LANES < m ? SCAN_LANES : m - s0;
        float acc[SCAN_LANES] = {0};
        if (lanes == SCAN_LANES) { /* a fixed width keeps acc in registers across dimensions */
            for (int j = 0; j < d; j++) {
                const float *row = c->centroid_t + (size_t)j * n + s0;
                const float cj = c->centroid_t[(size_t)j * n + xs];
                for (int i = 0; i < SCAN_LANES; i++)
                    acc[i] += (cj - row[i]) * (cj - row[i]);
            }
            const float *sz = c->slot_size + s0;
            for (int i = 0; i < SCAN_LANES; i++)
                acc[i] = 2.0f * nx * sz[i] / (nx + sz[i]) * acc[i];
        } else {
            for (int j = 0; j < d; j++) {
                const float *row = c->centroid_t + (size_t)j * n + s0;
                const float cj = c->centroid_t[(size_t)j * n + xs];
                for (int i = 0; i < lanes; i++)
                    acc[i] += (cj - row[i]) * (cj - row[i]);
            }
            const float *sz = c->slot_size + s0;
            for (int i = 0; i < lanes; i++)
                acc[i] = 2.0f * nx * sz[i] / (nx + sz[i]) * acc[i];
        }
        for (int i = 0; i < lanes; i++) {
            if (s0 + i == xs || acc[i] > best)
                continue;
            const int id = c->id_of[s0 + i];
            if (acc[i] < best || id < arg) {
                best = acc[i];
                arg = id;
            }
        }
    }
    *best_cost = best;
    return arg;
}

/* The active cluster nearest x other than x: lowest cost, the lowest index among equals. */
static int nearest(const Clusters *c, int x, double *best_cost)
{
    if (c->method == LINKAGE_WARD)
        return nearest_ward(c, x, best_cost);
    double best = INFINITY;
    int arg = -1;
    const double *D = c->D;
    for (int i = 0; i < c->n; i++) {
        if (i == x || c->size[i] == 0)
            continue;
        const double v = D[condensed_index(c->n, x, i)];
        if (v < best) {
            best = v;
            arg = i;
        }
    }
    *best_cost = best;
    return arg;
}

/* Lance–Williams (or the centroid update for Ward): y becomes the merge of x and y. */
static void merge(Clusters *c, int x, int y)
{
    const int nx = c->size[x], ny = c->size[y];
    if (c->method == LINKAGE_WARD) {
        double *cx = c->centroid + (size_t)x * c->d, *cy = c->centroid + (size_t)y * c->d;
        const int sy = c->slot_of[y], sx = c->slot_of[x], last = c->m - 1;
        for (int j = 0; j < c->d; j++) {
            cy[j] = (nx * cx[j] + ny * cy[j]) / (nx + ny);
            c->centroid_t[(size_t)j * c->n + sy] = (float)cy[j];
        }
        c->slot_size[sy] = (float)(nx + ny);
        /* x leaves: the last slot's cluster moves into its slot. */
        for (int j = 0; j < c->d; j++)
            c->centroid_t[(size_t)j * c->n + sx] = c->centroid_t[(size_t)j * c->n + last];
        c->slot_size[sx] = c->slot_size[last];
        c->id_of[sx] = c->id_of[last];
        c->slot_of[c->id_of[sx]] = sx;
        c->m--;
    } else {
        for (int i = 0; i < c->n; i++) {
            if (c->size[i] == 0 || i == x || i == y)
                continue;
            const double dx = c->D[condensed_index(c->n, x, i)];
            double *dy = &c->D[condensed_index(c->n, y, i)];
            if (c->method == LINKAGE_COMPLETE)
                *dy = dx > *dy ? dx : *dy;
            else
                *dy = (nx * dx + ny * *dy) / (nx + ny);
        }
    }
    c->size[x] = 0;
    c->size[y] = nx + ny;
}

/* scipy's nn_chain: Z rows hold row representatives (relabelled later). */
static void nn_chain(Clusters *c, double *Z, int *chain)
{
    const int n = c->n;
    int len = 0;
    for (int k = 0; k < n - 1; k++) {
        if (len == 0) {
            for (int i = 0; i < n; i++)
                if (c->size[i] > 0) {
                    chain[len++] = i;
                    break;
                }
        }
        int x, y;
        double best;
        for (;;) {
            x = chain[len - 1];
            y = nearest(c, x, &best);
            if (len > 1) {
                const int prev = chain[len - 2];
                const double prev_cost = cost(c, x, prev);
                if (prev_cost <= best) {
                    y = prev;
                    best = prev_cost;
                    break;
                }
            }
            chain[len++] = y;
        }
        len -= 2;
        if (x > y) {
            const int t = x;
            x = y;
            y = t;
        }
        Z[4 * k + 0] = x;
        Z[4 * k + 1] = y;
        Z[4 * k + 2] = merge_height(c, x, y, best);
        Z[4 * k + 3] = c->size[x] + c->size[y];
        merge(c, x, y);
    }
}

/* scipy's mst_single_linkage (Prim). */
static StatusCode mst_single(const float *x, int n, int d, double *Z, Status *st)
{
    double *dmin = malloc((size_t)n * sizeof *dmin);
    double *xrow = malloc((size_t)d * sizeof *xrow);
    unsigned char *merged = calloc((size_t)n, 1);
    if (!dmin || !xrow || !merged) {
        free(dmin);
        free(xrow);
        free(merged);
        return status_fail(st, TK_ENOMEM, "single linkage: cannot allocate for %d rows", n);
    }
    for (int i = 0; i < n; i++)
        dmin[i] = INFINITY;
    int y = 0;
    for (int k = 0; k < n - 1; k++) {
        const int cur = y;
        merged[cur] = 1;
        for (int j = 0; j < d; j++)
            xrow[j] = x[(size_t)cur * d + j];
        double best = INFINITY;
        int arg = -1;
#pragma omp parallel if ((long)n * d >= PARALLEL_MIN_WORK)
        {
            double tb = INFINITY;
            int ta = -1;
#pragma omp for schedule(static) nowait
            for (int i = 0; i < n; i++) {
                if (merged[i])
                    continue;
                const double dist = sqrt(sqdist_row(xrow, x + (size_t)i * d, d));
                if (dist < dmin[i])
                    dmin[i] = dist;
                if (dmin[i] < tb) {
                    tb = dmin[i];
                    ta = i;
                }
            }
#pragma omp critical
            if (ta >= 0 && (tb < best || (tb == best && ta < arg))) {
                best = tb;
                arg = ta;
            }
        }
        y = arg;
        Z[4 * k + 0] = cur;
        Z[4 * k + 1] = y;
        Z[4 * k + 2] = best;
        Z[4 * k + 3] = 0; /* sizes come from relabelling */
    }
    free(dmin);
    free(xrow);
    free(merged);
    return TK_OK;
}

typedef struct {
    double h;
    int pos;
} HeightPos;

static int cmp_height(const void *a, const void *b)
{
    const HeightPos *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int uf_find(int *parent, int x)
{
    int r = x;
    while (parent[r] != r)
        r = parent[r];
    while (parent[x] != r) {
        const int next = parent[x];
        parent[x] = r;
        x = next;
    }
    return r;
}

/* Stable sort by height, then scipy's label(): ids of merged clusters become n + row. */
static StatusCode sort_and_label(double *Z, int n, Status *st)
{
    HeightPos *order = malloc((size_t)(n - 1) * sizeof *order);
    double *copy = malloc((size_t)(n - 1) * 4 * sizeof *copy);
    int *parent = malloc((size_t)(2 * n - 1) * sizeof *parent);
    int *size = malloc((size_t)(2 * n - 1) * sizeof *size);
    if (!order || !copy || !parent || !size) {
        free(order);
        free(copy);
        free(parent);
        free(size);
        return status_fail(st, TK_ENOMEM, "linkage: cannot allocate for %d rows", n);
    }
    for (int k = 0; k < n - 1; k++)
        order[k] = (HeightPos){Z[4 * k + 2], k};
    qsort(order, (size_t)(n - 1), sizeof *order, cmp_height);
    memcpy(copy, Z, (size_t)(n - 1) * 4 * sizeof *copy);
    for (int k = 0; k < n - 1; k++)
        memcpy(Z + 4 * k, copy + 4 * order[k].pos, 4 * sizeof *Z);
    for (int i = 0; i < 2 * n - 1; i++) {
        parent[i] = i;
        size[i] = 1;
    }
    for (int k = 0; k < n - 1; k++) {
        const int a = uf_find(parent, (int)Z[4 * k]), b = uf_find(parent, (int)Z[4 * k + 1]);
        Z[4 * k] = a < b ? a : b;
        Z[4 * k + 1] = a < b ? b : a;
        parent[a] = parent[b] = n + k;
        size[n + k] = size[a] + size[b];
        Z[4 * k + 3] = size[n + k];
    }
    free(order);
    free(copy);
    free(parent);
    free(size);
    return TK_OK;
}

StatusCode hier_linkage(const float *x, int n, int d, Linkage method, double *Z, Status *st)
{
    StatusCode rc = cluster_check_data("linkage", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (n < 2)
        return status_fail(st, TK_EINVAL, "linkage: needs at least 2 rows, got %d", n);
    if (method < LINKAGE_WARD || method > LINKAGE_SINGLE)
        return status_fail(st, TK_EINVAL, "linkage: unknown method %d", (int)method);
    if ((method == LINKAGE_COMPLETE || method == LINKAGE_AVERAGE) && n > HIER_CONDENSED_MAX_N)
        return status_fail(st, TK_EUNSUPPORTED,
                           "linkage: %s linkage keeps all n(n-1)/2 distances; %d rows is more "
                           "than its limit of %d (use ward or single)",
                           linkage_name(method), n, HIER_CONDENSED_MAX_N);
    if (method == LINKAGE_SINGLE) {
        if ((rc = mst_single(x, n, d, Z, st)) != TK_OK)
            return rc;
        return sort_and_label(Z, n, st);
    }
    Clusters c = {.method = method, .n = n, .d = d};
    c.size = malloc((size_t)n * sizeof *c.size);
    int *chain = malloc((size_t)n * sizeof *chain);
    if (method == LINKAGE_WARD) {
        c.centroid = malloc((size_t)n * d * sizeof *c.centroid);
        c.centroid_t = malloc((size_t)n * d * sizeof *c.centroid_t);
        c.slot_size = malloc((size_t)n * sizeof *c.slot_size);
        c.slot_of = malloc((size_t)n * sizeof *c.slot_of);
        c.id_of = malloc((size_t)n * sizeof *c.id_of);
    } else {
        c.D = malloc((size_t)n * (n - 1) / 2 * sizeof *c.D);
    }
    const int ward_ok = c.centroid && c.centroid_t && c.slot_size && c.slot_of && c.id_of;
    if (!c.size || !chain || (!ward_ok && !c.D)) {
        rc = status_fail(st, TK_ENOMEM, "linkage: cannot allocate for %d rows", n);
        goto done;
    }
    for (int i = 0; i < n; i++)
        c.size[i] = 1;
    if (c.centroid) {
        for (size_t i = 0; i < (size_t)n * d; i++) {
            c.centroid[i] = x[i];
            c.centroid_t[(i % d) * n + i / d] = x[i];
        }
        for (int i = 0; i < n; i++) {
            c.slot_size[i] = 1.0f;
            c.slot_of[i] = c.id_of[i] = i;
        }
        c.m = n;
    } else {
#pragma omp parallel for schedule(dynamic, 16)
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                double s = 0.0;
                for (int t = 0; t < d; t++) {
                    const double e = (double)x[(size_t)i * d + t] - x[(size_t)j * d + t];
                    s += e * e;
                }
                c.D[condensed_index(n, i, j)] = sqrt(s);
            }
    }
    nn_chain(&c, Z, chain);
    rc = sort_and_label(Z, n, st);
done:
    free(c.size);
    free(c.centroid);
    free(c.centroid_t);
    free(c.slot_size);
    free(c.slot_of);
    free(c.id_of);
    free(c.D);
    free(chain);
    return rc;
}

static StatusCode check_linkage(const double *Z, int n, Status *st)
{
    if (n < 2)
        return status_fail(st, TK_EINVAL, "cut: a linkage of %d rows", n);
    for (int k = 0; k < n - 1; k++) {
        const double a = Z[4 * k], b = Z[4 * k + 1];
        if (!(a >= 0 && b >= 0 && a < n + k && b < n + k) || !(Z[4 * k + 2] >= 0))
            return status_fail(st, TK_EINVAL, "cut: linkage row %d is malformed", k);
    }
    return TK_OK;
}

/* fcluster's traversal (scipy's cluster_monocrit): depth first from the root, both subtrees
 * before a node's own leaf children; a node whose subtree's highest merge is <= t starts a
 * cluster unless inside one already; leaves outside any such node are clusters of their own. */
static StatusCode cut_at(const double *Z, int n, double t, const double *mr, int *labels,
                         Status *st)
{
    int *stack = malloc((size_t)n * sizeof *stack);
    unsigned char *phase = calloc((size_t)n, 1);
    if (!stack || !phase) {
        free(stack);
        free(phase);
        return status_fail(st, TK_ENOMEM, "cut: cannot allocate for %d rows", n);
    }
    int top = 0, leader = -1, clusters = 0;
    stack[top++] = 2 * n - 2;
    while (top > 0) {
        const int node = stack[top - 1], z = node - n;
        if (phase[z] == 0 && leader < 0 && mr[z] <= t) {
            leader = node;
            clusters++;
        }
        if (phase[z] < 2) {
            const int child = (int)Z[4 * z + phase[z]];
            phase[z]++;
            if (child >= n)
                stack[top++] = child;
            continue;
        }
        for (int c = 0; c < 2; c++) {
            const int child = (int)Z[4 * z + c];
            if (child < n) {
                if (leader < 0)
                    clusters++;
                labels[child] = clusters - 1;
            }
        }
        if (leader == node)
            leader = -1;
        top--;
    }
    free(stack);
    free(phase);
    return TK_OK;
}

/* Highest merge in each node's subtree (scipy's get_max_dist_for_each_cluster). */
static double *max_heights(const double *Z, int n)
{
    double *mr = malloc((size_t)(n - 1) * sizeof *mr);
    if (!mr)
        return NULL;
    for (int k = 0; k < n - 1; k++) {
        double m = Z[4 * k + 2];
        for (int c = 0; c < 2; c++) {
            const int child = (int)Z[4 * k + c];
            if (child >= n && mr[child - n] > m)
                m = mr[child - n];
        }
        mr[k] = m;
    }
    return mr;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

StatusCode hier_cut_distance(const double *Z, int n, double t, int *labels, Status *st)
{
    StatusCode rc = check_linkage(Z, n, st);
    if (rc != TK_OK)
        return rc;
    double *mr = max_heights(Z, n);
    if (!mr)
        return status_fail(st, TK_ENOMEM, "cut: cannot allocate for %d rows", n);
    rc = cut_at(Z, n, t, mr, labels, st);
    free(mr);
    return rc;
}

StatusCode hier_cut_k(const double *Z, int n, int k, int *labels, Status *st)
{
    StatusCode rc = check_linkage(Z, n, st);
    if (rc != TK_OK)
        return rc;
    if (k < 1)
        return status_fail(st, TK_EINVAL, "cut: k = %d, must be >= 1", k);
    double *mr = max_heights(Z, n);
    double *sorted = malloc((size_t)(n - 1) * sizeof *sorted);
    if (!mr || !sorted) {
        free(mr);
        free(sorted);
        return status_fail(st, TK_ENOMEM, "cut: cannot allocate for %d rows", n);
    }
    memcpy(sorted, mr, (size_t)(n - 1) * sizeof *sorted);
    qsort(sorted, (size_t)(n - 1), sizeof *sorted, cmp_double);
    /* The lowest threshold leaving at most k - 1 merges above it (fcluster 'maxclust'). */
    const double t = k >= n ? -INFINITY : sorted[n - 1 - k];
    rc = cut_at(Z, n, t, mr, labels, st);
    free(mr);
    free(sorted);
    return rc;
}
