/* train.c — the SeqAE training loop: shuffled mini-batches of windows from the training block,
 * Adam, validation loss after every epoch, early stopping on it, and a checkpoint after every
 * epoch and on request (a signal), from which a resumed run continues bit-identically: the
 * checkpoint holds the parameters, Adam's moments and step, the data-order RNG as it was
 * before the current epoch's shuffle and the position inside the epoch. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

TrainConfig train_default_config(void)
{
    return (TrainConfig){.epochs = 30, .batch = 64, .seq_len = 40, .stride = 1, .hidden = 32,
                         .latent = 32, .patience = 5, .lr = 3e-3f, .clip = 0.0f, .seed = 0};
}

void train_state_free(TrainState *s)
{
    seqae_free(&s->model);
    free(s->adam_m);
    free(s->adam_v);
    free(s->best_params);
    free(s->train_loss);
    free(s->val_loss);
    minmax_free(&s->scale);
    memset(s, 0, sizeof *s);
}

StatusCode train_state_alloc(TrainState *s, const TrainConfig *cfg, int n_features, Status *st)
{
    memset(s, 0, sizeof *s);
    if (cfg->epochs < 1 || cfg->batch < 1 || cfg->seq_len < 1 || cfg->stride < 1 ||
        cfg->patience < 0 || !(cfg->lr > 0.0f) || !(cfg->clip >= 0.0f))
        return status_fail(st, TK_EINVAL,
                           "train: bad settings (epochs %d, batch %d, seq-len %d, stride %d, "
                           "patience %d, lr %g, clip %g)",
                           cfg->epochs, cfg->batch, cfg->seq_len, cfg->stride, cfg->patience,
                           cfg->lr, cfg->clip);
    s->cfg = *cfg;
    SeqAEConfig mc = seqae_default_config();
    mc.features = n_features;
    mc.seq_len = cfg->seq_len;
    mc.hidden = cfg->hidden;
    mc.latent = cfg->latent;
    mc.decoder_input = cfg->decoder_input;
    mc.fixed_decoder = cfg->fixed_decoder != 0;
    StatusCode rc = seqae_init(&s->model, &mc, st);
    if (rc)
        return rc;
    const size_t n = s->model.n_params;
    s->adam_m = malloc(n * sizeof(float));
    s->adam_v = malloc(n * sizeof(float));
    s->best_params = malloc(n * sizeof(float));
    s->train_loss = malloc((size_t)cfg->epochs * sizeof(float));
    s->val_loss = malloc((size_t)cfg->epochs * sizeof(float));
    if (!s->adam_m || !s->adam_v || !s->best_params || !s->train_loss || !s->val_loss) {
        train_state_free(s);
        return status_fail(st, TK_ENOMEM, "train: cannot allocate the optimiser state");
    }
    adam_init(&s->adam, cfg->lr, s->adam_m, s->adam_v, n);
    for (int e = 0; e < cfg->epochs; e++)
        s->train_loss[e] = s->val_loss[e] = NAN;
    s->best_val = INFINITY;
    return TK_OK;
}

StatusCode train_state_new(TrainState *s, const TrainConfig *cfg, const Keypoints *k, Status *st)
{
    StatusCode rc = train_state_alloc(s, cfg, k->n_features, st);
    if (rc)
        return rc;
    Rng init;
    rng_seed(&init, cfg->seed, 0);
    seqae_init_params(&s->model, &init);
    memcpy(s->best_params, s->model.params, s->model.n_params * sizeof(float));
    rng_seed(&s->epoch_rng, cfg->seed, 1);
    s->n_frames = k->n_frames;
    int a, b;
    split_70_10_20(k->n_frames, &a, &b);
    rc = minmax_fit(&s->scale, k, 0, a, st);
    if (rc)
        train_state_free(s);
    return rc;
}

/* Mean loss over windows without training (validation). */
static float evaluate(TrainState *s, SeqAEWork *w, const Keypoints *k, const int *starts, int n,
                      float *batch_x)
{
    double sum = 0;
    for (int i = 0; i < n; i += s->cfg.batch) {
        const int B = n - i < s->cfg.batch ? n - i : s->cfg.batch;
        windows_gather(k, starts + i, NULL, B, s->cfg.seq_len, batch_x);
        sum += (double)seqae_step(&s->model, w, batch_x, B, 0) * B;
    }
    return (float)(sum / n);
}

/* The loop proper, with every buffer already in place. */
static StatusCode run_epochs(TrainState *s, const Keypoints *k, const int *train_starts,
                             const int *val_starts, SeqAEWork *w, int *order, float *batch_x,
                             const TrainIo *io, int *stopped, Status *st)
{
    const TrainConfig *c = &s->cfg;
    const int steps = (s->n_train + c->batch - 1) / c->batch;
    SeqAE *m = &s->model;
    while (!s->finished) {
        /* The shuffle is replayed from the epoch's starting RNG state, so a resume in the
         * middle of an epoch sees the same order. */
        Rng rng = s->epoch_rng;
        for (int i = 0; i < s->n_train; i++)
            order[i] = i;
        rng_shuffle_int(&rng, order, (size_t)s->n_train);
        while (s->step < steps) {
            const int first = s->step * c->batch;
            const int B = s->n_train - first < c->batch ? s->n_train - first : c->batch;
            windows_gather(k, train_starts, order + first, B, c->seq_len, batch_x);
            memset(m->grads, 0, m->n_params * sizeof(float));
            const float loss = seqae_step(m, w, batch_x, B, 1);
            if (c->clip > 0.0f)
                clip_grad_norm(m->grads, m->n_params, c->clip);
            adam_step(&s->adam, m->params, m->grads);
            s->epoch_loss += (double)loss * B;
            s->step++;
            if (io->callback)
                io->callback(io->user, s, s->step, steps, loss);
            if (io->stop && *io->stop && s->step < steps) {
                *stopped = 1;
                return io->checkpoint ? checkpoint_save(s, io->checkpoint, st) : TK_OK;
            }
        }
        const int e = s->epoch;
        s->train_loss[e] = (float)(s->epoch_loss / s->n_train);
        s->val_loss[e] = s->n_val ? evaluate(s, w, k, val_starts, s->n_val, batch_x) : NAN;
        /* Without validation windows (a short file) the training loss decides. */
        const float score = s->n_val ? s->val_loss[e] : s->train_loss[e];
        if (score < s->best_val) {
            s->best_val = score;
            s->bad_epochs = 0;
            memcpy(s->best_params, m->params, m->n_params * sizeof(float));
        } else {
            s->bad_epochs++;
        }
        s->epoch++;
        s->step = 0;
        s->epoch_loss = 0;
        s->epoch_rng = rng;
        if (s->epoch >= c->epochs || (c->patience > 0 && s->bad_epochs >= c->patience))
            s->finished = 1;
        if (io->callback)
            io->callback(io->user, s, 0, steps, s->train_loss[e]);
        if (io->checkpoint) {
            StatusCode rc = checkpoint_save(s, io->checkpoint, st);
            if (rc)
                return rc;
        }
        if (!s->finished && io->stop && *io->stop) {
            *stopped = 1;
            return TK_OK;
        }
    }
    return TK_OK;
}

StatusCode train_run(TrainState *s, const Keypoints *k, const TrainIo *io, int *stopped,
                     Status *st)
{
    *stopped = 0;
    const TrainConfig *c = &s->cfg;
    if (k->n_frames != s->n_frames || k->n_features != s->model.cfg.features)
        return status_fail(st, TK_EINVAL,
                           "train: the data has %d frames of %d features, the run was started "
                           "on %d frames of %d",
                           k->n_frames, k->n_features, s->n_frames, s->model.cfg.features);
    if (k->n_frames < c->seq_len)
        return status_fail(st, TK_EINVAL, "%d frames, fewer than one window of %d",
                           k->n_frames, c->seq_len);

    /* Scaled copy of the frames; the caller's stay as read. */
    Keypoints scaled;
    StatusCode rc = keypoints_scaled_copy(k, &s->scale, &scaled, st);
    if (rc)
        return rc;

    int a, b, *train_starts = NULL, *val_starts = NULL, *order = NULL;
    float *batch_x = NULL;
    Arena arena = {0};
    split_70_10_20(k->n_frames, &a, &b);
    rc = windows_make(&scaled, 0, a, c->seq_len, c->stride, &train_starts, &s->n_train, st);
    if (!rc)
        rc = windows_make(&scaled, a, b, c->seq_len, c->stride, &val_starts, &s->n_val, st);
    if (!rc && s->n_train == 0)
        rc = status_fail(st, TK_EINVAL,
                         "no window of %d frames fits in the training block (the first %d of "
                         "%d frames)",
                         c->seq_len, a, k->n_frames);
    SeqAEWork w;
    if (!rc) {
        Arena measure;
        arena_init_measure(&measure);
        seqae_work_plan(&s->model, &w, &measure, c->batch, 1, st);
        rc = arena_init(&arena, measure.peak, st);
    }
    if (!rc)
        rc = seqae_work_plan(&s->model, &w, &arena, c->batch, 1, st);
    if (!rc) {
        order = malloc(sizeof(int) * (size_t)s->n_train);
        batch_x = malloc(sizeof(float) * (size_t)c->batch * c->seq_len * k->n_features);
        if (!order || !batch_x)
            rc = status_fail(st, TK_ENOMEM, "train: cannot allocate the batch buffers");
    }
    if (!rc)
        rc = run_epochs(s, &scaled, train_starts, val_starts, &w, order, batch_x, io, stopped,
                        st);
    if (!rc && s->finished)
        memcpy(s->model.params, s->best_params, s->model.n_params * sizeof(float));
    free(scaled.x);
    free(train_starts);
    free(val_starts);
    free(order);
    free(batch_x);
    arena_free(&arena);
    return rc;
}
