/* elbow.c — choosing k for k-means: inertia for k = 1..K and the knee of that curve, with the
 * mean silhouette for every k >= 2 as a second opinion.
 *
 * The knee: both axes scaled to [0, 1], the k whose point lies farthest below the chord from
 * the first point to the last (the "kneedle" construction, Satopää et al., ICDCS workshops
 * 2011, on a decreasing convex curve). On the team's blobs32 anchors this picks k = 5 / 4 / 5
 * for 2k / 20k / 200k rows, the figures ANCHORS.md lists for scikit-learn's inertias. */
#include "cluster.h"

#include <math.h>
#include <stdlib.h>

int elbow_knee(const double *y, int count)
{
    if (count < 3)
        return 1;
    double lo = y[0], hi = y[0];
    for (int i = 1; i < count; i++) {
        lo = y[i] < lo ? y[i] : lo;
        hi = y[i] > hi ? y[i] : hi;
    }
    if (!(hi > lo))
        return 1;
    const double y0 = (y[0] - lo) / (hi - lo), y1 = (y[count - 1] - lo) / (hi - lo);
    int best = 0;
    double best_gap = 0.0;
    for (int i = 1; i < count - 1; i++) {
        const double t = (double)i / (count - 1);
        const double gap = (y0 + t * (y1 - y0)) - (y[i] - lo) / (hi - lo);
        if (gap > best_gap) {
            best_gap = gap;
            best = i;
        }
    }
    return best + 1;
}

StatusCode elbow_fit(const float *x, int n, int d, const ElbowParams *p, ElbowResult *out,
                     Status *st)
{
    StatusCode rc = cluster_check_data("elbow", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (p->k_max < 1 || p->k_max > n)
        return status_fail(st, TK_EINVAL, "elbow: k_max = %d, must be 1..%d (rows)", p->k_max,
                           n);
    float *centers = malloc((size_t)p->k_max * d * sizeof *centers);
    int *labels = malloc((size_t)n * sizeof *labels);
    if (!centers || !labels) {
        free(centers);
        free(labels);
        return status_fail(st, TK_ENOMEM, "elbow: cannot allocate for %d rows", n);
    }
    out->best_silhouette_k = 0;
    for (int k = 1; k <= p->k_max && rc == TK_OK; k++) {
        KMeansParams km = p->km;
        km.k = k;
        km.init = NULL;
        KMeansResult r = {centers, labels, 0, 0};
        if ((rc = kmeans_fit(x, n, d, &km, &r, st)) != TK_OK)
            break;
        out->inertia[k - 1] = r.inertia;
        out->silhouette[k - 1] = NAN;
        if (k < 2 || k > n - 1)
            continue;
        double s;
        rc = metric_silhouette(x, n, d, labels, p->silhouette_sample, km.seed, &s, st);
        if (rc == TK_EINVAL) { /* fewer distinct clusters than k: no silhouette at this k */
            rc = TK_OK;
            continue;
        }
        if (rc != TK_OK)
            break;
        out->silhouette[k - 1] = s;
        const int best = out->best_silhouette_k;
        if (best == 0 || s > out->silhouette[best - 1])
            out->best_silhouette_k = k;
    }
    if (rc == TK_OK)
        out->knee_k = elbow_knee(out->inertia, p->k_max);
    free(centers);
    free(labels);
    return rc;
}
