/* classify.c — the skeleton-sequence classifier behind `takt classify`: per-frame features
 * (centred, body-scaled, velocities; from video through the pose pipeline), HARNets' LSTM
 * trained with Adam on mini-batches of whole sequences fitted to T steps (with dropout and
 * randomly rotated, scaled and cropped training sequences against overfitting), the epoch kept
 * by validation accuracy (early stopping), the model file with its normalisation and class
 * names, and prediction of one sequence. */
#include "classify.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Validation and prediction batches: larger than training ones, the forward pass is cheap. */
#define CLF_EVAL_BATCH 32

ClfConfig clf_default_config(void)
{
    /* HARNets: LSTM(100) on the first 200 frames, 300 epochs, batch 4/8/16 (its grid). */
    return (ClfConfig){.layers = 1, .hidden = 100, .batch = 8, .time_steps = 200, .epochs = 300,
                       .patience = 40, .lr = 1e-3f, .clip = 5.0f, .fit = SEQ_FIT_RESAMPLE,
                       .center = -1, .torso = -1, .seed = 0};
}

void clf_free(ClfModel *m)
{
    lstm_classifier_free(&m->net);
    seqnorm_free(&m->norm);
    if (m->class_names)
        for (int c = 0; c < m->net.cfg.classes; c++)
            free(m->class_names[c]);
    free(m->class_names);
    memset(m, 0, sizeof *m);
}

void clf_history_free(ClfHistory *h)
{
    free(h->train_loss);
    free(h->val_index);
    memset(h, 0, sizeof *h);
}

StatusCode clf_keep_xy(SeqSet *s, Status *st)
{
    const int F = s->n_features;
    if (F % 3)
        return status_fail(st, TK_EINVAL, "--xy needs x, y, z triples, not %d features", F);
    for (int i = 0; i < s->n; i++) {
        Sequence *q = &s->seqs[i];
        for (size_t r = 0; r < (size_t)q->n_frames; r++)
            for (int j = 0; j < F / 3; j++) {
                q->x[r * (F / 3 * 2) + 2 * j] = q->x[r * F + 3 * j];
                q->x[r * (F / 3 * 2) + 2 * j + 1] = q->x[r * F + 3 * j + 1];
            }
    }
    s->n_features = F / 3 * 2;
    return TK_OK;
}

StatusCode clf_center_frames(float *x, size_t rows, int F, int dims, int joint, Status *st)
{
    if (dims < 1 || F % dims || joint < 0 || joint >= F / dims)
        return status_fail(st, TK_EINVAL, "cannot centre on joint %d of %d features in groups "
                                          "of %d", joint, F, dims);
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * F, ref[3];
        memcpy(ref, row + (size_t)joint * dims, sizeof(float) * (size_t)dims);
        for (int j = 0; j < F; j++)
            row[j] -= ref[j % dims];
    }
    return TK_OK;
}

void clf_velocity_frames(float *x, int n_frames, int F)
{
    /* In place from the last frame down, so each row still reads its raw predecessor. */
    for (int r = n_frames - 1; r >= 0; r--) {
        const float *raw = x + (size_t)r * F;
        float *out = x + (size_t)r * 2 * F;
        for (int j = F - 1; j >= 0; j--) {
            const float v = raw[j], prev = r ? x[(size_t)(r - 1) * F + j] : raw[j];
            out[F + j] = v - prev;
            out[j] = v;
        }
    }
}

StatusCode clf_torso_scale_frames(float *x, size_t rows, int F, int dims, int a, int b,
                                  Status *st)
{
    if (dims < 1 || F % dims || a < 0 || b < 0 || a >= F / dims || b >= F / dims || a == b)
        return status_fail(st, TK_EINVAL, "cannot scale by the distance of joints %d and %d of "
                                          "%d features in groups of %d", a, b, F, dims);
    double sum = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *pa = x + r * F + (size_t)a * dims, *pb = x + r * F + (size_t)b * dims;
        double d2 = 0;
        for (int k = 0; k < dims; k++)
            d2 += ((double)pa[k] - pb[k]) * ((double)pa[k] - pb[k]);
        sum += sqrt(d2);
    }
    const double mean = rows ? sum / (double)rows : 0;
    if (mean >= 1e-6)
        vec_scale(x, (float)(1.0 / mean), rows * (size_t)F);
    return TK_OK;
}

/* Rotation by angle_rad about the vertical (y) axis, then scaling, of every x, y, z triple. */
static void rotate_scale_frames(float *x, size_t rows, int F, float angle_rad, float scale)
{
    const float c = cosf(angle_rad) * scale, s = sinf(angle_rad) * scale;
    for (size_t i = 0; i + 2 < rows * (size_t)F; i += 3) {
        const float px = x[i], pz = x[i + 2];
        x[i] = c * px + s * pz;
        x[i + 1] *= scale;
        x[i + 2] = -s * px + c * pz;
    }
}

/* Centre, (augment,) body-scale, velocities: the order training and prediction share. */
static StatusCode frame_features(const ClfModel *m, float *x, int n_frames, int F,
                                 const float *angle_scale, Status *st)
{
    const int dims = m->xy ? 2 : 3;
    StatusCode rc = TK_OK;
    if (m->center >= 0)
        rc = clf_center_frames(x, (size_t)n_frames, F, dims, m->center, st);
    if (!rc && angle_scale)
        rotate_scale_frames(x, (size_t)n_frames, F, angle_scale[0], angle_scale[1]);
    if (!rc && m->torso >= 0)
        rc = clf_torso_scale_frames(x, (size_t)n_frames, F, dims, m->center, m->torso, st);
    if (!rc && m->velocity)
        clf_velocity_frames(x, n_frames, F);
    return rc;
}

StatusCode clf_frame_features(const ClfModel *m, float *x, int n_frames, int F, Status *st)
{
    return frame_features(m, x, n_frames, F, NULL, st);
}

/* ---------------------------------------------------------------- video */

/* One frame's features of the given kind into out (zeros without a person). */
static StatusCode video_frame_features(PoseSource *ps, const PoseFrameResult *pose,
                                       const char *kind, int xy, int F, float *out, Status *st)
{
    memset(out, 0, sizeof(float) * (size_t)F);
    if (!pose->found)
        return TK_OK;
    if (!strcmp(kind, "backbone")) {
        Tensor map;
        StatusCode rc = posenet_head_input(pose_source_landmark_net(ps), "Identity", &map, st);
        if (rc)
            return rc;
        const size_t positions = (size_t)map.shape[1] * map.shape[2];
        for (size_t p = 0; p < positions; p++)
            vec_axpy(out, 1.0f / (float)positions, map.data + p * F, (size_t)F);
        return TK_OK;
    }
    const int per = !strcmp(kind, "landmarks") ? 4 : xy ? 2 : 3;
    for (int j = 0; j < POSE_LANDMARKS; j++) {
        const PoseLandmark *l = &pose->lm.landmarks[j];
        const float v[4] = {l->x, l->y, l->z, l->visibility};
        memcpy(out + j * per, v, sizeof(float) * (size_t)per);
    }
    return TK_OK;
}

StatusCode clf_video_features(const char *path, const char *kind, int xy,
                              const PoseSourceOptions *opts, float **x, int **frame,
                              int *n_frames, int *F, int *bad_frames, Status *st)
{
    *x = NULL;
    *frame = NULL;
    *n_frames = *bad_frames = 0;
    if (strcmp(kind, "keypoints") && strcmp(kind, "landmarks") && strcmp(kind, "backbone"))
        return status_fail(st, TK_EINVAL, "%s: %s features do not come from video", path, kind);
    PoseSource *ps;
    StatusCode rc = pose_source_open(&ps, path, opts, st);
    if (rc)
        return rc;
    if (!strcmp(kind, "backbone")) {
        Tensor map;
        rc = posenet_head_input(pose_source_landmark_net(ps), "Identity", &map, st);
        *F = rc ? 0 : map.shape[3];
    } else {
        *F = POSE_LANDMARKS * (!strcmp(kind, "landmarks") ? 4 : xy ? 2 : 3);
    }
    int cap = 0;
    for (;;) {
        PoseSourceFrame f;
        VideoRead what = VIDEO_END;
        if (rc || (rc = pose_source_next(ps, &f, &what, st)) != TK_OK || what == VIDEO_END)
            break;
        if (what == VIDEO_BAD_FRAME) {
            (*bad_frames)++;
            continue;
        }
        if (*n_frames == cap) {
            cap = cap ? 2 * cap : 256;
            float *nx = realloc(*x, sizeof(float) * (size_t)cap * *F);
            int *nf = nx ? realloc(*frame, sizeof(int) * (size_t)cap) : NULL;
            if (nx)
                *x = nx;
            if (nf)
                *frame = nf;
            if (!nx || !nf) {
                rc = status_fail(st, TK_ENOMEM, "%s: cannot hold %d frames of features", path,
                                 cap);
                break;
            }
        }
        (*frame)[*n_frames] = (int)f.index;
        rc = video_frame_features(ps, &f.pose, kind, xy, *F,
                                  *x + (size_t)*n_frames * *F, st);
        (*n_frames)++;
    }
    pose_source_close(ps);
    if (!rc && *n_frames == 0)
        rc = status_fail(st, TK_EFORMAT, "%s: no frames", path);
    if (rc) {
        free(*x);
        free(*frame);
        *x = NULL;
        *frame = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- training */

typedef struct {
    int T, F, C;
    const float *x;    /* [n, T, F] every sequence, fitted and normalised once */
    const int *labels; /* [n] */
} Prepared;

static void gather(const Prepared *p, const int *idx, int n, float *bx, int *by)
{
    const size_t row = (size_t)p->T * p->F;
    for (int b = 0; b < n; b++) {
        memcpy(bx + b * row, p->x + (size_t)idx[b] * row, row * sizeof(float));
        by[b] = p->labels[idx[b]];
    }
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Mean loss and accuracy of the model over sequences idx[0..n); pred[n] (may be NULL). */
static void evaluate(LstmClassifier *net, LstmClassifierWork *w, const Prepared *p,
                     const int *idx, int n, float *bx, int *by, float *loss, float *acc,
                     int *pred)
{
    double sum = 0;
    int correct = 0;
    for (int i = 0; i < n; i += CLF_EVAL_BATCH) {
        const int B = n - i < CLF_EVAL_BATCH ? n - i : CLF_EVAL_BATCH;
        gather(p, idx + i, B, bx, by);
        sum += (double)lstm_classifier_step(net, w, bx, by, p->T, B, 0) * B;
        for (int b = 0; b < B; b++) {
            const int k = argmax(w->logits + (size_t)b * p->C, p->C);
            correct += k == by[b];
            if (pred)
                pred[i + b] = k;
        }
    }
    *loss = n ? (float)(sum / n) : NAN;
    *acc = n ? (float)correct / (float)n : NAN;
}

/* Better: higher validation accuracy, then lower validation loss; without validation
 * sequences, lower training loss. */
static int is_better(const ClfHistory *h, int e, int best)
{
    if (best < 0)
        return 1;
    if (h->n_val == 0)
        return h->train_loss[e] < h->train_loss[best];
    if (h->val_acc[e] != h->val_acc[best])
        return h->val_acc[e] > h->val_acc[best];
    return h->val_loss[e] < h->val_loss[best];
}

static StatusCode history_alloc(ClfHistory *h, int epochs, int n_train, int n_val, Status *st)
{
    memset(h, 0, sizeof *h);
    h->train_loss = malloc(sizeof(float) * 4 * (size_t)epochs);
    h->val_index = malloc(sizeof(int) * 2 * (size_t)(n_val ? n_val : 1));
    if (!h->train_loss || !h->val_index) {
        clf_history_free(h);
        return status_fail(st, TK_ENOMEM, "classify: cannot allocate the training history");
    }
    h->train_acc = h->train_loss + epochs;
    h->val_loss = h->train_acc + epochs;
    h->val_acc = h->val_loss + epochs;
    h->val_pred = h->val_index + n_val;
    h->n_train = n_train;
    h->n_val = n_val;
    return TK_OK;
}

static StatusCode save_params(const ClfModel *m, const float *params, const char *path,
                              Status *st);

/* The per-frame features of every sequence of s (same labels, subjects and ids) in out, whose
 * frames it owns; class names are not copied (free with free_feature_set). */
static StatusCode feature_set(const ClfModel *m, const SeqSet *s, SeqSet *out, Status *st)
{
    *out = *s;
    out->class_names = NULL;
    out->n_features = m->velocity ? 2 * s->n_features : s->n_features;
    out->seqs = calloc((size_t)(s->n ? s->n : 1), sizeof(Sequence));
    if (!out->seqs)
        return status_fail(st, TK_ENOMEM, "classify: cannot allocate %d sequences", s->n);
    StatusCode rc = TK_OK;
    for (int i = 0; i < s->n && !rc; i++) {
        const Sequence *q = &s->seqs[i];
        Sequence *o = &out->seqs[i];
        *o = *q;
        o->source = NULL;
        o->x = malloc(sizeof(float) * (size_t)(q->n_frames ? q->n_frames : 1) * out->n_features);
        if (!o->x)
            return status_fail(st, TK_ENOMEM, "classify: cannot allocate sequence %d",
                               q->seq_id);
        memcpy(o->x, q->x, sizeof(float) * (size_t)q->n_frames * s->n_features);
        rc = frame_features(m, o->x, q->n_frames, s->n_features, NULL, st);
    }
    return rc;
}

static void free_feature_set(SeqSet *f)
{
    for (int i = 0; f->seqs && i < f->n; i++)
        free(f->seqs[i].x);
    free(f->seqs);
    memset(f, 0, sizeof *f);
}

/* Training batch idx[0..B) made afresh from the raw frames with ClfAugment's random changes:
 * bx [B, T, F]; scratch holds the longest sequence's frames with velocities. */
static void augmented_batch(const ClfModel *m, const ClfAugment *a, const SeqSet *s,
                            const int *idx, int B, Rng *rng, float *scratch, float *bx, int *by)
{
    const int Fr = s->n_features, F = m->net.cfg.features, T = m->time_steps;
    const float pi = 3.14159265358979f;
    for (int b = 0; b < B; b++) {
        const Sequence *q = &s->seqs[idx[b]];
        int n = q->n_frames, first = 0;
        const int cut = n > 2 ? (int)(rng_uniform(rng) * a->crop * (float)n) : 0;
        if (cut > 0 && n - cut >= 2) {
            first = (int)rng_below(rng, (uint64_t)cut + 1);
            n -= cut;
        }
        const float angle_scale[2] = {(2.0f * rng_uniform(rng) - 1.0f) * a->rotate_deg * pi / 180,
                                      1.0f + (2.0f * rng_uniform(rng) - 1.0f) * a->scale};
        memcpy(scratch, q->x + (size_t)first * Fr, sizeof(float) * (size_t)n * Fr);
        /* Checked on the unchanged frames before training: cannot fail here. */
        frame_features(m, scratch, n, Fr, angle_scale, &(Status){0});
        float *row = bx + (size_t)b * T * F;
        if (m->fit == SEQ_FIT_CROP)
            seq_crop(scratch, n, F, T, row);
        else
            seq_resample(scratch, n, F, T, row);
        seqnorm_apply(&m->norm, row, (size_t)T);
        by[b] = q->label;
    }
}

static int augmenting(const ClfAugment *a)
{
    return a->rotate_deg > 0 || a->scale > 0 || a->crop > 0;
}

StatusCode clf_train(ClfModel *m, const ClfConfig *cfg, const SeqSet *s,
                     const unsigned char *is_val, const char *features, int xy, const ClfIo *io,
                     ClfHistory *h, int *stopped, Status *st)
{
    memset(m, 0, sizeof *m);
    *stopped = 0;
    const ClfAugment *aug = &cfg->augment;
    if (cfg->batch < 1 || cfg->time_steps < 1 || cfg->epochs < 1 || cfg->layers < 1 ||
        cfg->layers > RNN_MAX_LAYERS || cfg->hidden < 1)
        return status_fail(st, TK_EINVAL,
                           "classify: bad settings (layers %d, hidden %d, batch %d, time steps "
                           "%d, epochs %d)",
                           cfg->layers, cfg->hidden, cfg->batch, cfg->time_steps, cfg->epochs);
    if (!(cfg->dropout >= 0 && cfg->dropout < 1))
        return status_fail(st, TK_EINVAL, "classify: dropout %g is not in [0, 1)",
                           (double)cfg->dropout);
    if (!(aug->rotate_deg >= 0 && aug->rotate_deg <= 180 && aug->scale >= 0 && aug->scale < 1 &&
          aug->crop >= 0 && aug->crop < 1))
        return status_fail(st, TK_EINVAL, "classify: augmentation out of range (rotate %g, "
                                          "scale %g, crop %g)", (double)aug->rotate_deg,
                           (double)aug->scale, (double)aug->crop);
    const int positions = !strcmp(features, "csv") || !strcmp(features, "keypoints") ||
                          !strcmp(features, "bvh_positions");
    if ((cfg->center >= 0 || aug->rotate_deg > 0 || aug->scale > 0) && !positions)
        return status_fail(st, TK_EINVAL, "classify: centring, rotating and scaling need joint "
                                          "positions, not %s features", features);
    if ((cfg->torso >= 0 || aug->rotate_deg > 0) && (cfg->center < 0 || xy))
        return status_fail(st, TK_EINVAL, "classify: body scaling and rotation need a centre "
                                          "joint and 3-D positions");
    int n_val = 0, max_frames = 1;
    for (int i = 0; i < s->n; i++) {
        n_val += is_val && is_val[i];
        max_frames = s->seqs[i].n_frames > max_frames ? s->seqs[i].n_frames : max_frames;
    }
    const int n_train = s->n - n_val;
    if (n_train < 1)
        return status_fail(st, TK_EINVAL, "classify: no training sequences (all %d validate)",
                           s->n);
    if (s->n_classes < 2)
        return status_fail(st, TK_EINVAL, "classify: %d class; at least 2 are needed",
                           s->n_classes);
    StatusCode rc = history_alloc(h, cfg->epochs, n_train, n_val, st);
    if (rc)
        return rc;

    const int T = cfg->time_steps, C = s->n_classes;
    const int F = cfg->velocity ? 2 * s->n_features : s->n_features;
    const size_t row = (size_t)T * F;
    LstmClassifierConfig ncfg = {F, cfg->hidden, cfg->layers, C};
    snprintf(m->features, sizeof m->features, "%s", features);
    m->time_steps = T;
    m->fit = cfg->fit;
    m->xy = xy;
    m->center = cfg->center;
    m->torso = cfg->torso;
    m->velocity = cfg->velocity;
    m->seed = cfg->seed;
    m->trained_with = *cfg;
    SeqSet feat = {0};
    rc = lstm_classifier_init(&m->net, &ncfg, st);
    m->net.dropout = cfg->dropout;
    m->net.pool_mean = cfg->pool_mean;
    snprintf(m->pose_model, sizeof m->pose_model, "%s", cfg->pose_model ? cfg->pose_model : "");
    if (!rc)
        rc = feature_set(m, s, &feat, st);
    if (!rc)
        rc = seqnorm_fit(&m->norm, &feat, is_val, SEQ_NORM_ZSCORE, st);
    m->class_names = calloc((size_t)C, sizeof(char *));
    if (!rc && !m->class_names)
        rc = status_fail(st, TK_ENOMEM, "classify: cannot allocate class names");
    for (int c = 0; c < C && !rc; c++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "class %d", c);
        m->class_names[c] = strdup(s->class_names && s->class_names[c] ? s->class_names[c]
                                                                       : fallback);
        if (!m->class_names[c])
            rc = status_fail(st, TK_ENOMEM, "classify: cannot allocate class names");
    }

    /* Everything the loop touches is allocated here, once. */
    const int eval_b = cfg->batch > CLF_EVAL_BATCH ? cfg->batch : CLF_EVAL_BATCH;
    float *x_all = NULL, *bx = NULL, *adam_mv = NULL, *best = NULL, *scratch = NULL;
    int *labels = NULL, *order = NULL, *by = NULL, *train_idx = NULL;
    Arena arena = {0};
    LstmClassifierWork w;
    if (!rc) {
        x_all = malloc(sizeof(float) * row * (size_t)s->n);
        bx = malloc(sizeof(float) * row * (size_t)eval_b);
        adam_mv = calloc(2 * m->net.n_params, sizeof(float));
        best = malloc(sizeof(float) * m->net.n_params);
        labels = malloc(sizeof(int) * (size_t)s->n);
        order = malloc(sizeof(int) * (size_t)s->n);
        by = malloc(sizeof(int) * (size_t)eval_b);
        scratch = malloc(sizeof(float) * (size_t)max_frames * F);
        if (!x_all || !bx || !adam_mv || !best || !labels || !order || !by || !scratch)
            rc = status_fail(st, TK_ENOMEM, "classify: cannot allocate %d sequences of %d x %d",
                             s->n, T, F);
    }
    if (!rc) {
        Arena measure;
        arena_init_measure(&measure);
        lstm_classifier_work_plan(&m->net, &w, &measure, T, eval_b, st);
        rc = arena_init(&arena, measure.peak, st);
    }
    if (!rc)
        rc = lstm_classifier_work_plan(&m->net, &w, &arena, T, eval_b, st);
    if (rc)
        goto done;

    for (int i = 0; i < s->n; i++) {
        order[i] = i;
        labels[i] = s->seqs[i].label;
    }
    seqset_batch(&feat, order, s->n, T, cfg->fit, &m->norm, x_all);
    const Prepared p = {T, F, C, x_all, labels};
    train_idx = order; /* training indices first, then validation ones in h->val_index */
    int nt = 0, nv = 0;
    for (int i = 0; i < s->n; i++) {
        if (is_val && is_val[i])
            h->val_index[nv++] = i;
        else
            train_idx[nt++] = i;
    }

    /* One stream each for initialisation and order, dropout masks and augmentation, so that
     * switching one on leaves the others' draws as they were. */
    Rng rng, aug_rng;
    rng_seed(&rng, cfg->seed, 0);
    rng_seed(&w.rng, cfg->seed, 1);
    rng_seed(&aug_rng, cfg->seed, 2);
    lstm_classifier_init_params(&m->net, &rng);
    Adam adam;
    adam_init(&adam, cfg->lr, adam_mv, adam_mv + m->net.n_params, m->net.n_params);
    adam.weight_decay = cfg->weight_decay;
    int best_e = -1, bad = 0;
    for (int e = 0; e < cfg->epochs && !*stopped; e++) {
        rng_shuffle_int(&rng, train_idx, (size_t)n_train);
        double loss_sum = 0;
        int correct = 0, seen = 0;
        for (int i = 0; i < n_train; i += cfg->batch) {
            if (io && io->stop && *io->stop) {
                *stopped = 1;
                break;
            }
            const int B = n_train - i < cfg->batch ? n_train - i : cfg->batch;
            if (augmenting(aug))
                augmented_batch(m, aug, s, train_idx + i, B, &aug_rng, scratch, bx, by);
            else
                gather(&p, train_idx + i, B, bx, by);
            memset(m->net.grads, 0, sizeof(float) * m->net.n_params);
            loss_sum += (double)lstm_classifier_step(&m->net, &w, bx, by, T, B, 1) * B;
            for (int b = 0; b < B; b++)
                correct += argmax(w.logits + (size_t)b * C, C) == by[b];
            seen += B;
            if (cfg->clip > 0)
                clip_grad_norm(m->net.grads, m->net.n_params, cfg->clip);
            adam_step(&adam, m->net.params, m->net.grads);
        }
        if (*stopped)
            break;
        /* Running figures over the epoch's batches, as Keras reports them. */
        h->train_loss[e] = (float)(loss_sum / seen);
        h->train_acc[e] = (float)correct / (float)seen;
        evaluate(&m->net, &w, &p, h->val_index, n_val, bx, by, &h->val_loss[e], &h->val_acc[e],
                 NULL);
        h->epochs = e + 1;
        if (is_better(h, e, best_e)) {
            best_e = e;
            bad = 0;
            memcpy(best, m->net.params, sizeof(float) * m->net.n_params);
        } else {
            bad++;
        }
        h->best_epoch = best_e + 1;
        if (io && io->checkpoint) {
            /* The kept model so far, so that an interrupted run loses at most this epoch. */
            m->epochs = h->epochs;
            m->best_epoch = h->best_epoch;
            m->train_accuracy = h->train_acc[best_e];
            m->val_accuracy = h->val_acc[best_e];
            if ((rc = save_params(m, best, io->checkpoint, st)) != TK_OK)
                goto done;
        }
        if (io && io->callback)
            io->callback(io->user, h, cfg->epochs);
        if (cfg->patience > 0 && n_val > 0 && bad >= cfg->patience)
            break;
    }
    if (best_e >= 0)
        memcpy(m->net.params, best, sizeof(float) * m->net.n_params);
    evaluate(&m->net, &w, &p, train_idx, n_train, bx, by, &(float){0}, &h->train_accuracy,
             NULL);
    evaluate(&m->net, &w, &p, h->val_index, n_val, bx, by, &(float){0}, &h->val_accuracy,
             h->val_pred);
    m->epochs = h->epochs;
    m->best_epoch = h->best_epoch;
    m->train_accuracy = h->train_accuracy;
    m->val_accuracy = h->val_accuracy;

done:
    arena_free(&arena);
    free_feature_set(&feat);
    free(x_all);
    free(bx);
    free(adam_mv);
    free(best);
    free(scratch);
    free(labels);
    free(order);
    free(by);
    if (rc) {
        clf_free(m);
        clf_history_free(h);
    }
    return rc;
}

/* ---------------------------------------------------------------- model file */

static const char *fit_name(SeqFit f)
{
    return f == SEQ_FIT_CROP ? "crop" : "resample";
}

static StatusCode meta_int(TkwWriter *w, const char *key, long long v, Status *st)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    return tkw_writer_meta(w, key, text, st);
}

/* The tensors in PyTorch state_dict names (lstm.weight_ih_l0, ..., fc.weight, fc.bias), taken
 * from params laid out as m->net.params, then the normalisation. */
static StatusCode save_params(const ClfModel *m, const float *params, const char *path,
                              Status *st)
{
    const LstmClassifierConfig *c = &m->net.cfg;
    const int G = 4 * c->hidden;
    TkwWriter *w;
    StatusCode rc = tkw_writer_new(&w, st);
    if (rc)
        return rc;
    char text[64];
    rc = tkw_writer_meta(w, "kind", "lstm_classifier", st);
    if (!rc) rc = tkw_writer_meta(w, "features", m->features, st);
    if (!rc) rc = meta_int(w, "n_features", c->features, st);
    if (!rc) rc = meta_int(w, "hidden", c->hidden, st);
    if (!rc) rc = meta_int(w, "layers", c->layers, st);
    if (!rc) rc = meta_int(w, "classes", c->classes, st);
    if (!rc) rc = meta_int(w, "time_steps", m->time_steps, st);
    if (!rc) rc = tkw_writer_meta(w, "fit", fit_name(m->fit), st);
    if (!rc) rc = tkw_writer_meta(w, "norm", "zscore", st);
    if (!rc) rc = tkw_writer_meta(w, "pool", m->net.pool_mean ? "mean" : "last", st);
    if (!rc) rc = meta_int(w, "xy", m->xy, st);
    if (!rc) rc = meta_int(w, "center", m->center, st);
    if (!rc) rc = meta_int(w, "torso", m->torso, st);
    if (!rc) rc = meta_int(w, "velocity", m->velocity, st);
    if (!rc) rc = meta_int(w, "epochs", m->epochs, st);
    if (!rc) rc = meta_int(w, "best_epoch", m->best_epoch, st);
    if (!rc && m->pose_model[0]) rc = tkw_writer_meta(w, "pose_model", m->pose_model, st);
    if (!rc) rc = meta_int(w, "seed", (long long)m->seed, st);
    snprintf(text, sizeof text, "%.6f", m->train_accuracy);
    if (!rc) rc = tkw_writer_meta(w, "train_accuracy", text, st);
    snprintf(text, sizeof text, "%.6f", m->val_accuracy);
    if (!rc) rc = tkw_writer_meta(w, "val_accuracy", text, st);
    const ClfConfig *tw = &m->trained_with;
    if (tw->batch > 0) {
        if (!rc) rc = meta_int(w, "train.batch", tw->batch, st);
        if (!rc) rc = meta_int(w, "train.max_epochs", tw->epochs, st);
        if (!rc) rc = meta_int(w, "train.patience", tw->patience, st);
        snprintf(text, sizeof text, "%g %g %g", tw->lr, tw->clip, tw->weight_decay);
        if (!rc) rc = tkw_writer_meta(w, "train.lr_clip_weight_decay", text, st);
        snprintf(text, sizeof text, "%g", tw->dropout);
        if (!rc) rc = tkw_writer_meta(w, "train.dropout", text, st);
        snprintf(text, sizeof text, "%g %g %g", tw->augment.rotate_deg, tw->augment.scale,
                 tw->augment.crop);
        if (!rc) rc = tkw_writer_meta(w, "train.augment_rotate_scale_crop", text, st);
    }
    for (int k = 0; k < c->classes && !rc; k++) {
        char key[32];
        snprintf(key, sizeof key, "class.%d", k);
        rc = tkw_writer_meta(w, key, m->class_names[k], st);
    }
    for (int l = 0; l < c->layers && !rc; l++) {
        const RnnWeights *rw = &m->net.lstm.w[l][0];
        const int in = l ? c->hidden : c->features;
        const struct {
            const char *name;
            const float *p;
            int rows, cols;
        } t[4] = {{"weight_ih", rw->w_ih, G, in}, {"weight_hh", rw->w_hh, G, c->hidden},
                  {"bias_ih", rw->b_ih, G, 0}, {"bias_hh", rw->b_hh, G, 0}};
        for (int k = 0; k < 4 && !rc; k++) {
            char name[TKW_NAME_MAX];
            snprintf(name, sizeof name, "lstm.%s_l%d", t[k].name, l);
            const int shape[2] = {t[k].rows, t[k].cols};
            rc = tkw_writer_tensor(w, name, DTYPE_F32, t[k].cols ? 2 : 1, shape,
                                   params + (t[k].p - m->net.params), st);
        }
    }
    const int fc_w[2] = {c->classes, c->hidden}, fc_b[1] = {c->classes}, nf[1] = {c->features};
    if (!rc) rc = tkw_writer_tensor(w, "fc.weight", DTYPE_F32, 2, fc_w,
                                    params + (m->net.fc.w - m->net.params), st);
    if (!rc) rc = tkw_writer_tensor(w, "fc.bias", DTYPE_F32, 1, fc_b,
                                    params + (m->net.fc.b - m->net.params), st);
    if (!rc) rc = tkw_writer_tensor(w, "norm.shift", DTYPE_F32, 1, nf, m->norm.shift, st);
    if (!rc) rc = tkw_writer_tensor(w, "norm.scale", DTYPE_F32, 1, nf, m->norm.scale, st);
    if (!rc)
        rc = tkw_writer_save(w, path, st);
    tkw_writer_free(w);
    return rc;
}

StatusCode clf_save(const ClfModel *m, const char *path, Status *st)
{
    return save_params(m, m->net.params, path, st);
}

static StatusCode read_int(const TkwFile *f, const char *key, long lo, long hi, int *out,
                           Status *st)
{
    const char *v = tkw_meta(f, key);
    char *end;
    const long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end || x < lo || x > hi)
        return status_fail(st, TK_EFORMAT, "%s: metadata '%s': %s", f->path, key,
                           v ? "not a whole number in range" : "missing");
    *out = (int)x;
    return TK_OK;
}

StatusCode clf_load(ClfModel *m, const char *path, Status *st)
{
    memset(m, 0, sizeof *m);
    TkwFile f;
    StatusCode rc = tkw_open(&f, path, st);
    if (rc)
        return rc;
    const char *kind = tkw_meta(&f, "kind"), *feat = tkw_meta(&f, "features");
    const char *fit = tkw_meta(&f, "fit"), *norm = tkw_meta(&f, "norm");
    const char *pool = tkw_meta(&f, "pool"); /* absent in files from before pooling: last */
    LstmClassifierConfig c;
    if (!kind || strcmp(kind, "lstm_classifier"))
        rc = status_fail(st, TK_EFORMAT, "%s: not an lstm_classifier model (kind '%s')", path,
                         kind ? kind : "none");
    else if (!feat || strlen(feat) >= CLF_FEATURES_MAX)
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'features' missing or too long", path);
    else if (!fit || (strcmp(fit, "resample") && strcmp(fit, "crop")))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'fit' must be resample or crop", path);
    else if (!norm || strcmp(norm, "zscore"))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'norm' must be zscore", path);
    else if (pool && strcmp(pool, "last") && strcmp(pool, "mean"))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'pool' must be last or mean", path);
    if (!rc) rc = read_int(&f, "n_features", 1, 1 << 20, &c.features, st);
    if (!rc) rc = read_int(&f, "hidden", 1, 1 << 16, &c.hidden, st);
    if (!rc) rc = read_int(&f, "layers", 1, RNN_MAX_LAYERS, &c.layers, st);
    if (!rc) rc = read_int(&f, "classes", 2, 1 << 16, &c.classes, st);
    if (!rc) rc = read_int(&f, "time_steps", 1, 1 << 20, &m->time_steps, st);
    if (!rc) rc = read_int(&f, "xy", 0, 1, &m->xy, st);
    if (!rc) rc = read_int(&f, "center", -1, 1 << 20, &m->center, st);
    /* Files written before body scaling have no "torso": none. */
    m->torso = -1;
    if (!rc && tkw_meta(&f, "torso"))
        rc = read_int(&f, "torso", -1, 1 << 20, &m->torso, st);
    if (!rc && m->torso >= 0 && m->center < 0)
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'torso' without a 'center'", path);
    if (!rc) rc = read_int(&f, "velocity", 0, 1, &m->velocity, st);
    if (!rc && m->velocity && c.features % 2)
        rc = status_fail(st, TK_EFORMAT, "%s: velocity with an odd feature count", path);
    if (!rc) rc = read_int(&f, "epochs", 0, 1 << 30, &m->epochs, st);
    if (!rc) rc = read_int(&f, "best_epoch", 0, 1 << 30, &m->best_epoch, st);
    const char *pose_model = tkw_meta(&f, "pose_model"); /* only for features from video */
    if (!rc && pose_model && strcmp(pose_model, "lite") && strcmp(pose_model, "full") &&
        strcmp(pose_model, "heavy"))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'pose_model' must be lite, full or heavy",
                         path);
    if (!rc && pose_model)
        snprintf(m->pose_model, sizeof m->pose_model, "%s", pose_model);
    if (!rc) {
        snprintf(m->features, sizeof m->features, "%s", feat);
        m->fit = strcmp(fit, "crop") ? SEQ_FIT_RESAMPLE : SEQ_FIT_CROP;
        const char *ta = tkw_meta(&f, "train_accuracy"), *va = tkw_meta(&f, "val_accuracy");
        m->train_accuracy = ta ? strtof(ta, NULL) : NAN;
        m->val_accuracy = va ? strtof(va, NULL) : NAN;
        rc = lstm_classifier_init(&m->net, &c, st);
        m->net.pool_mean = pool && !strcmp(pool, "mean");
    }
    if (!rc) {
        m->class_names = calloc((size_t)c.classes, sizeof(char *));
        m->norm.kind = SEQ_NORM_ZSCORE;
        m->norm.n = c.features;
        m->norm.shift = malloc(sizeof(float) * (size_t)c.features);
        m->norm.scale = malloc(sizeof(float) * (size_t)c.features);
        if (!m->class_names || !m->norm.shift || !m->norm.scale)
            rc = status_fail(st, TK_ENOMEM, "%s: cannot allocate the model", path);
    }
    for (int k = 0; k < (rc ? 0 : c.classes); k++) {
        char key[32];
        snprintf(key, sizeof key, "class.%d", k);
        const char *name = tkw_meta(&f, key);
        if (!name)
            rc = status_fail(st, TK_EFORMAT, "%s: metadata '%s' missing", path, key);
        else if (!(m->class_names[k] = strdup(name)))
            rc = status_fail(st, TK_ENOMEM, "%s: cannot allocate class names", path);
    }
    const int G = 4 * c.hidden;
    for (int l = 0; l < (rc ? 0 : c.layers); l++) {
        const RnnWeights *rw = &m->net.lstm.w[l][0];
        const size_t in = l ? (size_t)c.hidden : (size_t)c.features;
        const struct {
            const char *name;
            float *p;
            size_t n;
        } t[4] = {{"weight_ih", rw->w_ih, G * in}, {"weight_hh", rw->w_hh, (size_t)G * c.hidden},
                  {"bias_ih", rw->b_ih, G}, {"bias_hh", rw->b_hh, G}};
        for (int k = 0; k < 4 && !rc; k++) {
            char name[TKW_NAME_MAX];
            snprintf(name, sizeof name, "lstm.%s_l%d", t[k].name, l);
            rc = tkw_read_f32(&f, name, t[k].p, t[k].n, st);
        }
    }
    if (!rc) rc = tkw_read_f32(&f, "fc.weight", m->net.fc.w, (size_t)c.classes * c.hidden, st);
    if (!rc) rc = tkw_read_f32(&f, "fc.bias", m->net.fc.b, (size_t)c.classes, st);
    if (!rc) rc = tkw_read_f32(&f, "norm.shift", m->norm.shift, (size_t)c.features, st);
    if (!rc) rc = tkw_read_f32(&f, "norm.scale", m->norm.scale, (size_t)c.features, st);
    tkw_close(&f);
    if (rc) {
        if (m->class_names)
            for (int k = 0; k < c.classes; k++)
                free(m->class_names[k]);
        free(m->class_names);
        m->class_names = NULL;
        lstm_classifier_free(&m->net);
        seqnorm_free(&m->norm);
    }
    return rc;
}

/* ---------------------------------------------------------------- prediction */

StatusCode clf_predict(ClfModel *m, const float *x, int n_frames, int F, float *probs,
                       Status *st)
{
    const LstmClassifierConfig *c = &m->net.cfg;
    const int raw_f = m->velocity ? c->features / 2 : c->features, Fm = c->features;
    if (F != raw_f)
        return status_fail(st, TK_EINVAL, "%d features per frame, the model takes %d", F, raw_f);
    if (n_frames < 1)
        return status_fail(st, TK_EINVAL, "no frames");
    const int T = m->time_steps;
    /* The same steps as training: per-frame features of the raw frames, then fit to T. */
    float *frames = malloc(sizeof(float) * (size_t)n_frames * Fm);
    float *seq = malloc(sizeof(float) * (size_t)T * Fm);
    if (!frames || !seq) {
        free(frames);
        free(seq);
        return status_fail(st, TK_ENOMEM, "cannot allocate %d x %d", n_frames, Fm);
    }
    memcpy(frames, x, sizeof(float) * (size_t)n_frames * F);
    StatusCode rc = frame_features(m, frames, n_frames, F, NULL, st);
    if (m->fit == SEQ_FIT_CROP)
        seq_crop(frames, n_frames, Fm, T, seq);
    else
        seq_resample(frames, n_frames, Fm, T, seq);
    free(frames);
    seqnorm_apply(&m->norm, seq, (size_t)T);
    Arena measure, arena = {0};
    LstmClassifierWork w;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&m->net, &w, &measure, T, 1, st);
    if (!rc)
        rc = arena_init(&arena, measure.peak, st);
    if (!rc)
        rc = lstm_classifier_work_plan(&m->net, &w, &arena, T, 1, st);
    if (!rc) {
        lstm_classifier_step(&m->net, &w, seq, NULL, T, 1, 0);
        double mx = w.logits[0], sum = 0;
        for (int k = 1; k < c->classes; k++)
            mx = w.logits[k] > mx ? w.logits[k] : mx;
        for (int k = 0; k < c->classes; k++)
            sum += exp(w.logits[k] - mx);
        for (int k = 0; k < c->classes; k++)
            probs[k] = (float)(exp(w.logits[k] - mx) / sum);
    }
    arena_free(&arena);
    free(seq);
    return rc;
}
