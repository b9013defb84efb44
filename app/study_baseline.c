/* study_baseline.c — what the autoencoder has to beat: k-means with the same k on the scaled
 * windows themselves (frames flattened) and on their principal components, labelled per frame
 * and segmented exactly as the study's own clusters are. K-means and PCA are fitted on an even
 * sample of at most BASELINE_FIT_WINDOWS windows, then every window is read back from the
 * frames on disk and assigned in batches, so a long recording costs no more memory. */
#include "study.h"
#include "../cluster/cluster.h"

#include <stdlib.h>

/* Windows fitted on: an even sample keeps the cost flat on long recordings. */
#define BASELINE_FIT_WINDOWS 4000
#define BASELINE_BATCH 512
#define BASELINE_PCA_MAX_D 256

/* The scaled window at start, its frames 0, step, 2 step, ... flattened into out
 * [len/step * F]; frames: scratch of len * F. */
static StatusCode flatten(const StudyFrames *fr, const MinMax *scale, int start, int len,
                          int step, float *frames, float *out, Status *st)
{
    const int F = fr->meta.n_features;
    StatusCode rc = study_frames_window(fr, start, len, scale, frames, st);
    for (int t = 0, j = 0; !rc && t < len; t += step, j++)
        for (int f = 0; f < F; f++)
            out[(size_t)j * F + f] = frames[(size_t)t * F + f];
    return rc;
}

StatusCode study_baseline(const StudyFrames *frames, const MinMax *scale, const int *starts,
                          int n_windows, int len, int n_clusters, int pca_components,
                          int min_frames, uint64_t seed, int *frame_label, Status *st)
{
    const Keypoints *k = &frames->meta;
    const int F = k->n_features;
    /* PCA's Jacobi eigen-decomposition costs O(d^3) per sweep (minutes at d = 960): for it
     * windows are read every step-th frame, down to BASELINE_PCA_MAX_D values. */
    int step = 1;
    while (pca_components && (len + step - 1) / step * F > BASELINE_PCA_MAX_D && step < len)
        step++;
    const int d = (len + step - 1) / step * F;
    if (pca_components > d)
        pca_components = d;
    const int n_fit = n_windows < BASELINE_FIT_WINDOWS ? n_windows : BASELINE_FIT_WINDOWS;
    const int dk = pca_components ? pca_components : d;
    float *fit = malloc(sizeof(float) * (size_t)n_fit * d);
    float *fit_k = pca_components ? malloc(sizeof(float) * (size_t)n_fit * dk) : fit;
    float *batch = malloc(sizeof(float) * (size_t)BASELINE_BATCH * d);
    float *batch_k = pca_components ? malloc(sizeof(float) * (size_t)BASELINE_BATCH * dk) : batch;
    float *centers = malloc(sizeof(float) * (size_t)n_clusters * dk);
    int *fit_labels = malloc(sizeof(int) * (size_t)n_fit);
    int *win = malloc(sizeof(int) * (size_t)n_windows);
    int *votes = malloc(sizeof(int) * (size_t)n_clusters);
    float *window = malloc(sizeof(float) * (size_t)len * F);
    float *conf = malloc(sizeof(float) * (size_t)k->n_frames);
    Pca pca = {0};
    StudySegment *segs = NULL;
    int n_segs;
    StatusCode rc = TK_OK;
    if (!fit || !fit_k || !batch || !batch_k || !centers || !fit_labels || !win || !votes ||
        !conf || !window)
        rc = status_fail(st, TK_ENOMEM, "baseline: cannot hold %d windows of %d values", n_fit, d);
    if (!rc && n_fit < n_clusters)
        rc = status_fail(st, TK_EINVAL, "baseline: %d windows for %d clusters", n_fit, n_clusters);
    if (!rc) {
        for (int i = 0; !rc && i < n_fit; i++)
            rc = flatten(frames, scale, starts[(long)i * n_windows / n_fit], len, step, window,
                         fit + (size_t)i * d, st);
        if (!rc && pca_components) {
            rc = pca_fit(&pca, fit, n_fit, d, pca_components, st);
            if (!rc)
                pca_transform(&pca, fit, n_fit, fit_k);
        }
    }
    if (!rc) {
        KMeansParams p = kmeans_params_default(n_clusters);
        p.seed = seed;
        p.n_init = 4;
        KMeansResult res = {.centers = centers, .labels = fit_labels};
        rc = kmeans_fit(fit_k, n_fit, dk, &p, &res, st);
    }
    for (int i = 0; !rc && i < n_windows; i += BASELINE_BATCH) {
        const int B = n_windows - i < BASELINE_BATCH ? n_windows - i : BASELINE_BATCH;
        for (int b = 0; !rc && b < B; b++)
            rc = flatten(frames, scale, starts[i + b], len, step, window,
                         batch + (size_t)b * d, st);
        if (!rc && pca_components)
            pca_transform(&pca, batch, B, batch_k);
        if (!rc)
            rc = kmeans_predict(batch_k, B, dk, centers, n_clusters, win + i, NULL, st);
    }
    if (!rc) {
        study_vote_frames(starts, n_windows, len, win, n_clusters, k, votes, frame_label, conf);
        rc = study_segments(frame_label, conf, k->n_frames, min_frames, &segs, &n_segs, st);
    }
    free(segs);
    if (pca_components) {
        pca_free(&pca);
        free(fit_k);
        free(batch_k);
    }
    free(fit);
    free(batch);
    free(centers);
    free(fit_labels);
    free(win);
    free(votes);
    free(window);
    free(conf);
    return rc;
}
