/* neighbour_heap.h — private to cluster/: the k best (distance, row) pairs seen so far, a
 * max-heap on caller-owned arrays, shared by the kd-tree, the vantage-point tree and brute
 * force. Pairs compare by distance, then by row, so equidistant neighbours resolve to the
 * lowest rows whatever order the search visits them in. */
#ifndef TAKT_NEIGHBOUR_HEAP_H
#define TAKT_NEIGHBOUR_HEAP_H

#include <math.h>

typedef struct {
    double *dist;
    int *idx;
    int count, k;
} NeighbourHeap;

static inline int nheap_before(double da, int ia, double db, int ib)
{
    return da < db || (da == db && ia < ib);
}

static inline void nheap_init(NeighbourHeap *h, double *dist, int *idx, int k)
{
    h->dist = dist;
    h->idx = idx;
    h->count = 0;
    h->k = k;
}

/* The distance a candidate must not exceed to enter (infinity until the heap is full). */
static inline double nheap_bound(const NeighbourHeap *h)
{
    return h->count < h->k ? INFINITY : h->dist[0];
}

/* Places (d, i) at the first free slot on the way down from pos (the max-heap order). */
static inline void nheap_sift_down(NeighbourHeap *h, int pos, double d, int i)
{
    for (;;) {
        const int l = 2 * pos + 1, r = l + 1;
        int big = pos;
        double bd = d;
        int bi = i;
        if (l < h->count && nheap_before(bd, bi, h->dist[l], h->idx[l])) {
            big = l;
            bd = h->dist[l];
            bi = h->idx[l];
        }
        if (r < h->count && nheap_before(bd, bi, h->dist[r], h->idx[r]))
            big = r;
        if (big == pos)
            break;
        h->dist[pos] = h->dist[big];
        h->idx[pos] = h->idx[big];
        pos = big;
    }
    h->dist[pos] = d;
    h->idx[pos] = i;
}

static inline void nheap_push(NeighbourHeap *h, double d, int i)
{
    if (h->count < h->k) {
        int pos = h->count++;
        while (pos > 0) {
            const int parent = (pos - 1) / 2;
            if (!nheap_before(h->dist[parent], h->idx[parent], d, i))
                break;
            h->dist[pos] = h->dist[parent];
            h->idx[pos] = h->idx[parent];
            pos = parent;
        }
        h->dist[pos] = d;
        h->idx[pos] = i;
    } else if (nheap_before(d, i, h->dist[0], h->idx[0])) {
        nheap_sift_down(h, 0, d, i);
    }
}

/* Sorts the heap's arrays ascending in place (heap sort: pop the largest to the end). */
static inline void nheap_sort(NeighbourHeap *h)
{
    const int total = h->count;
    while (h->count > 1) {
        const int last = --h->count;
        const double d = h->dist[last];
        const int i = h->idx[last];
        h->dist[last] = h->dist[0];
        h->idx[last] = h->idx[0];
        nheap_sift_down(h, 0, d, i);
    }
    h->count = total;
}

#endif
