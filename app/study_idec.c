/* study_idec.c — `takt study --refine idec`: the trained autoencoder fine-tuned with IDEC's
 * clustering loss (nn/idec.c) on the frames it was trained on (the whole input, or a long
 * recording's sample of blocks: training and validation parts), its centres started by k-means
 * (same k, same seed) on their latent vectors. */
#include "study.h"
#include "../cluster/cluster.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    Progress progress;
} RefineView;

static void on_refine_progress(void *user, const IdecResult *r, const IdecConfig *c)
{
    RefineView *v = user;
    char note[96];
    snprintf(note, sizeof note, "update %d  changed %.4f  kl %.4f  mse %.5f", r->updates,
             r->changed, r->kl_loss, r->rec_loss);
    progress_update(&v->progress, r->steps, note);
}

StatusCode study_refine_idec(SeqAE *m, const Keypoints *data, int end, int stride,
                             const MinMax *scale, const IdecConfig *cfg, float *centers,
                             int *n_windows, IdecResult *res, Status *st)
{
    const int T = m->cfg.seq_len, L = m->cfg.latent, F = data->n_features;
    Keypoints scaled;
    int *starts = NULL, *labels = NULL, n = 0;
    float *z = NULL, *x = NULL;
    Arena measure, arena = {0};
    StatusCode rc = keypoints_scaled_copy(data, scale, &scaled, st);
    if (rc)
        return rc;
    rc = windows_make(&scaled, 0, end, T, stride, &starts, &n, st);
    if (!rc && n < cfg->k)
        rc = status_fail(st, TK_EINVAL, "refine: %d training windows, fewer than the %d "
                         "clusters", n, cfg->k);
    /* The centres' start: k-means on the latent vectors of the windows refined. */
    SeqAEWork w;
    if (!rc) {
        arena_init_measure(&measure);
        seqae_work_plan(m, &w, &measure, cfg->batch, 0, st);
        rc = arena_init(&arena, measure.peak, st);
    }
    if (!rc)
        rc = seqae_work_plan(m, &w, &arena, cfg->batch, 0, st);
    if (!rc) {
        z = malloc(sizeof(float) * (size_t)n * L);
        x = malloc(sizeof(float) * (size_t)cfg->batch * T * F);
        labels = malloc(sizeof(int) * (size_t)n);
        if (!z || !x || !labels)
            rc = status_fail(st, TK_ENOMEM, "refine: cannot hold %d latent vectors", n);
    }
    for (int i = 0; !rc && i < n; i += cfg->batch) {
        const int B = n - i < cfg->batch ? n - i : cfg->batch;
        windows_gather(&scaled, starts + i, NULL, B, T, x);
        seqae_encode(m, &w, x, B, z + (size_t)i * L);
    }
    if (!rc) {
        KMeansParams p = kmeans_params_default(cfg->k);
        p.seed = cfg->seed;
        p.n_init = 4;
        KMeansResult km = {.centers = centers, .labels = labels};
        rc = kmeans_fit(z, n, L, &p, &km, st);
    }
    if (!rc) {
        RefineView view;
        progress_start(&view.progress, "study: refine (IDEC)", cfg->max_steps, "steps");
        rc = idec_fit(m, &scaled, starts, n, cfg, centers, on_refine_progress, &view, res, st);
        progress_end(&view.progress, rc ? "failed" : res->converged ? "converged" : NULL);
    }
    *n_windows = n;
    free(scaled.x);
    free(starts);
    free(labels);
    free(z);
    free(x);
    arena_free(&arena);
    return rc;
}
