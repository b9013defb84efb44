/* classify.c — the skeleton-sequence classifier behind `takt classify`: per-frame features
 * (centred, body-scaled, velocities, accelerations; from video through the pose pipeline),
 * HARNets' LSTM trained with Adam on mini-batches of whole sequences fitted to T steps (with
 * dropout, label smoothing, weight averaging and randomly rotated, scaled and cropped training
 * sequences against overfitting), the epoch kept by validation accuracy (early stopping) or,
 * with inner folds, by held-out training subjects only (then optionally retrained on all of
 * them for that many epochs), the model file with its normalisation and class names, and
 * prediction of one sequence (averaged over ensemble members and test-time views). */
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
    for (int k = 0; k < m->members; k++)
        lstm_classifier_free(&m->net[k]);
    seqnorm_free(&m->norm);
    if (m->class_names)
        for (int c = 0; c < m->net[0].cfg.classes; c++)
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

void clf_acceleration_frames(float *x, int n_frames, int F)
{
    /* From the last frame down: row r's 3F values start at or after its 2F, and the change is
     * written past them before memmove shifts them; row r - 1 is still as it came. */
    for (int r = n_frames - 1; r >= 0; r--) {
        const float *in = x + (size_t)r * 2 * F;
        float *out = x + (size_t)r * 3 * F;
        for (int j = F - 1; j >= 0; j--)
            out[2 * F + j] = r ? in[F + j] - x[(size_t)(r - 1) * 2 * F + F + j] : 0.0f;
        memmove(out, in, sizeof(float) * 2 * (size_t)F);
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

StatusCode clf_view_normalise(float *x, size_t rows, int F, int from, int to, Status *st)
{
    if (F % 3 || from < 0 || to < 0 || from >= F / 3 || to >= F / 3 || from == to)
        return status_fail(st, TK_EINVAL, "cannot face joints %d -> %d along x: %d features are "
                                          "not that many x, y, z triples", from, to, F);
    double dx = 0, dz = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *a = x + r * F + 3 * (size_t)from, *b = x + r * F + 3 * (size_t)to;
        dx += (double)b[0] - a[0];
        dz += (double)b[2] - a[2];
    }
    /* Turning by atan2(dz, dx) maps (dx, dz) to (|d|, 0); a direction that vanishes seen
     * from above (nobody in view, or the joints above each other) leaves the frames as they
     * are. */
    if (dx * dx + dz * dz > 1e-12)
        rotate_scale_frames(x, rows, F, (float)atan2(dz, dx), 1.0f);
    return TK_OK;
}

int clf_body_values(const ClfBody *b, int F)
{
    const int joints = F / 3;
    return (b->positions_off ? 0 : F) + 3 * b->n_bones +
           (b->distances ? joints * (joints - 1) / 2 : 0);
}

static int body_extras(const ClfBody *b)
{
    return b->n_bones > 0 || b->distances || b->positions_off;
}

int clf_feature_count(const ClfModel *m, int F)
{
    const int per_frame = body_extras(&m->body) ? clf_body_values(&m->body, F) : F;
    return (1 + m->velocity) * per_frame;
}

StatusCode clf_check_body(const ClfBody *b, int F, Status *st)
{
    const int joints = F / 3;
    if ((b->view || body_extras(b)) && F % 3)
        return status_fail(st, TK_EINVAL, "view normalisation, bones and distances need x, y, z "
                                          "triples, not %d features", F);
    if (b->view && (b->view_from < 0 || b->view_from >= joints || b->view_to < 0 ||
                              b->view_to >= joints || b->view_from == b->view_to))
        return status_fail(st, TK_EINVAL, "--view %d,%d: joints of %d", b->view_from,
                           b->view_to, joints);
    for (int k = 0; k < b->n_bones; k++)
        if (b->bones[k][0] < 0 || b->bones[k][1] < 0 || b->bones[k][0] >= joints ||
            b->bones[k][1] >= joints || b->bones[k][0] == b->bones[k][1])
            return status_fail(st, TK_EINVAL, "bone %d (%d-%d): joints of %d", k + 1,
                               b->bones[k][0], b->bones[k][1], joints);
    if (b->positions_off && !b->n_bones && !b->distances)
        return status_fail(st, TK_EINVAL, "leaving the positions out needs bones or distances");
    return TK_OK;
}

StatusCode clf_parse_joint_pairs(const char *list, const char *what, int pairs[][2], int *n,
                                 Status *st)
{
    *n = 0;
    const char *p = list;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        char *end;
        const long from = strtol(p, &end, 10);
        const long to = end != p && *end == '-' ? strtol(end + 1, &end, 10) : -1;
        if (end == p || from < 0 || to < 0 || from > 1 << 20 || to > 1 << 20 ||
            (*end && *end != ' ' && *end != ','))
            return status_fail(st, TK_EINVAL, "%s: '%s' is not a list of joint pairs A-B", what,
                               list);
        if (*n == CLF_BONES_MAX)
            return status_fail(st, TK_EINVAL, "%s: more than %d pairs", what, CLF_BONES_MAX);
        pairs[*n][0] = (int)from;
        pairs[*n][1] = (int)to;
        ++*n;
        p = end;
    }
    return *n ? TK_OK : status_fail(st, TK_EINVAL, "%s: no pair in '%s'", what, list);
}

/* One frame's body values from its joint positions raw[F] into out[clf_body_values]. */
static void body_frame(const ClfBody *b, const float *raw, int F, float *out)
{
    if (!b->positions_off) {
        memcpy(out, raw, sizeof(float) * (size_t)F);
        out += F;
    }
    for (int k = 0; k < b->n_bones; k++, out += 3) {
        const float *p = raw + 3 * b->bones[k][0], *q = raw + 3 * b->bones[k][1];
        const float d[3] = {q[0] - p[0], q[1] - p[1], q[2] - p[2]};
        const float len = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        const float inv = len > 1e-6f ? 1.0f / len : 0.0f; /* joints on top of each other: 0 */
        for (int c = 0; c < 3; c++)
            out[c] = d[c] * inv;
    }
    if (b->distances)
        for (int i = 0; i < F / 3; i++)
            for (int j = i + 1; j < F / 3; j++) {
                const float *p = raw + 3 * i, *q = raw + 3 * j;
                const float d[3] = {q[0] - p[0], q[1] - p[1], q[2] - p[2]};
                *out++ = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            }
}

/* x [n_frames x F] becomes [n_frames x clf_body_values] in place; row [F] is scratch. Rows
 * are rewritten in the order in which no row overwrites one not yet read. */
static void body_frames(const ClfBody *b, float *x, int n_frames, int F, float *row)
{
    const int Fb = clf_body_values(b, F);
    for (int i = 0; i < n_frames; i++) {
        const int r = Fb > F ? n_frames - 1 - i : i;
        memcpy(row, x + (size_t)r * F, sizeof(float) * (size_t)F);
        body_frame(b, row, F, x + (size_t)r * Fb);
    }
}

/* Centre, face the camera, (augment,) body-scale, body-part values, velocities: the order
 * training and prediction share. x has room for clf_feature_count values per frame; row [F]
 * is scratch. */
static StatusCode frame_features(const ClfModel *m, float *x, int n_frames, int F,
                                 const float *angle_scale, float *row, Status *st)
{
    const int dims = m->xy ? 2 : 3;
    StatusCode rc = TK_OK;
    if (m->center >= 0)
        rc = clf_center_frames(x, (size_t)n_frames, F, dims, m->center, st);
    if (!rc && m->body.view)
        rc = clf_view_normalise(x, (size_t)n_frames, F, m->body.view_from, m->body.view_to, st);
    if (!rc && angle_scale)
        rotate_scale_frames(x, (size_t)n_frames, F, angle_scale[0], angle_scale[1]);
    if (!rc && m->torso >= 0)
        rc = clf_torso_scale_frames(x, (size_t)n_frames, F, dims, m->center, m->torso, st);
    int Fb = F;
    if (!rc && body_extras(&m->body)) {
        body_frames(&m->body, x, n_frames, F, row);
        Fb = clf_body_values(&m->body, F);
    }
    if (!rc && m->velocity)
        clf_velocity_frames(x, n_frames, Fb);
    if (!rc && m->velocity > 1)
        clf_acceleration_frames(x, n_frames, Fb);
    return rc;
}

StatusCode clf_frame_features(const ClfModel *m, float *x, int n_frames, int F, Status *st)
{
    float *row = malloc(sizeof(float) * (size_t)F);
    if (!row)
        return status_fail(st, TK_ENOMEM, "cannot allocate a frame of %d values", F);
    const StatusCode rc = frame_features(m, x, n_frames, F, NULL, row, st);
    free(row);
    return rc;
}

/* ---------------------------------------------------------------- test-time views */

static int tta_views(const ClfTta *t)
{
    return 1 + 2 * (t->rotate_deg > 0) + 2 * (t->crop > 0);
}

StatusCode clf_check_tta(const ClfModel *m, const ClfTta *tta, Status *st)
{
    if (!(tta->rotate_deg >= 0 && tta->rotate_deg <= 180 && tta->crop >= 0 && tta->crop < 1))
        return status_fail(st, TK_EINVAL, "test-time views out of range (rotate %g, crop %g)",
                           (double)tta->rotate_deg, (double)tta->crop);
    const int positions = !strcmp(m->features, "csv") || !strcmp(m->features, "keypoints") ||
                          !strcmp(m->features, "bvh_positions");
    if (tta->rotate_deg > 0 && (!positions || m->center < 0 || m->xy || m->frame_values % 3))
        return status_fail(st, TK_EINVAL, "turned test-time views need 3-D joint positions and "
                                          "a centre joint, not %s features%s", m->features,
                           m->center < 0 ? " without one" : "");
    return TK_OK;
}

/* View v of a sequence of n frames (the order of ClfTta: as it is, turned one way and the
 * other, its first and its last part): frames [*first, *first + *len), turned by *angle
 * radians. */
static void tta_view(const ClfTta *t, int v, int n, int *first, int *len, float *angle)
{
    *first = 0;
    *len = n;
    *angle = 0.0f;
    if (v == 0)
        return;
    if (t->rotate_deg > 0) {
        if (v <= 2) {
            *angle = (v == 1 ? -1.0f : 1.0f) * t->rotate_deg * 3.14159265358979f / 180.0f;
            return;
        }
        v -= 2;
    }
    /* A part shorter than 2 frames would not show any motion: the whole sequence then. */
    const int keep = (int)lroundf((1.0f - t->crop) * (float)n);
    if (keep >= 2 && keep < n) {
        *len = keep;
        *first = v == 2 ? n - keep : 0;
    }
}

/* The network's input out [T x Fm] for view v of raw frames x [n_frames x F]: cut, per-frame
 * features (turned), fitted to T steps, normalised. scratch holds n_frames x max(F, Fm)
 * values, row F. */
static StatusCode view_input(const ClfModel *m, int v, const float *x, int n_frames, int F,
                             float *scratch, float *row, float *out, Status *st)
{
    int first, n;
    float angle;
    tta_view(&m->tta, v, n_frames, &first, &n, &angle);
    memcpy(scratch, x + (size_t)first * F, sizeof(float) * (size_t)n * F);
    const float angle_scale[2] = {angle, 1.0f};
    const StatusCode rc =
        frame_features(m, scratch, n, F, angle != 0.0f ? angle_scale : NULL, row, st);
    const int Fm = m->net[0].cfg.features, T = m->time_steps;
    if (m->fit == SEQ_FIT_CROP)
        seq_crop(scratch, n, Fm, T, out);
    else
        seq_resample(scratch, n, Fm, T, out);
    seqnorm_apply(&m->norm, out, (size_t)T);
    return rc;
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

/* Mean loss and accuracy of net over sequences idx[0..n); pred[n] (may be NULL); probs
 * [n x C] (may be NULL) gets weight times the class probabilities added. */
static void evaluate(LstmClassifier *net, LstmClassifierWork *w, const Prepared *p,
                     const int *idx, int n, float *bx, int *by, float *loss, float *acc,
                     int *pred, float *probs, float weight)
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
        if (probs)
            vec_axpy(probs + (size_t)i * p->C, weight, w->probs, (size_t)B * p->C);
    }
    *loss = n ? (float)(sum / n) : NAN;
    *acc = n ? (float)correct / (float)n : NAN;
}

/* Accuracy over idx[0..n) of the class probabilities probs [sequences x C]; pred[n] (may be
 * NULL) gets the predictions. */
static float accuracy_of(const float *probs, const Prepared *p, const int *idx, int n,
                         int *pred)
{
    int correct = 0;
    for (int i = 0; i < n; i++) {
        const int k = argmax(probs + (size_t)idx[i] * p->C, p->C);
        correct += k == p->labels[idx[i]];
        if (pred)
            pred[i] = k;
    }
    return n ? (float)correct / (float)n : NAN;
}

/* Better: higher validation accuracy, then lower validation loss; without sequences that
 * choose (n_select), lower training loss. */
static int is_better(const ClfHistory *h, int n_select, int e, int best)
{
    if (best < 0)
        return 1;
    if (n_select == 0)
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

static StatusCode save_params(const ClfModel *m, int members, const float *last,
                              const char *path, Status *st);

/* The per-frame features of every sequence of s (same labels, subjects and ids) in out, whose
 * frames it owns; class names are not copied (free with free_feature_set). */
static StatusCode feature_set(const ClfModel *m, const SeqSet *s, SeqSet *out, Status *st)
{
    *out = *s;
    out->class_names = NULL;
    out->n_features = clf_feature_count(m, s->n_features);
    out->seqs = calloc((size_t)(s->n ? s->n : 1), sizeof(Sequence));
    float *frame = malloc(sizeof(float) * (size_t)s->n_features);
    if (!out->seqs || !frame) {
        free(frame);
        return status_fail(st, TK_ENOMEM, "classify: cannot allocate %d sequences", s->n);
    }
    StatusCode rc = TK_OK;
    for (int i = 0; i < s->n && !rc; i++) {
        const Sequence *q = &s->seqs[i];
        Sequence *o = &out->seqs[i];
        *o = *q;
        o->source = NULL;
        /* Room for the raw frames too: features alone may take fewer values. */
        const int widest = out->n_features > s->n_features ? out->n_features : s->n_features;
        o->x = malloc(sizeof(float) * (size_t)(q->n_frames ? q->n_frames : 1) * widest);
        if (!o->x) {
            rc = status_fail(st, TK_ENOMEM, "classify: cannot allocate sequence %d", q->seq_id);
            break;
        }
        memcpy(o->x, q->x, sizeof(float) * (size_t)q->n_frames * s->n_features);
        rc = frame_features(m, o->x, q->n_frames, s->n_features, NULL, frame, st);
    }
    free(frame);
    return rc;
}

static void free_feature_set(SeqSet *f)
{
    for (int i = 0; f->seqs && i < f->n; i++)
        free(f->seqs[i].x);
    free(f->seqs);
    memset(f, 0, sizeof *f);
}

void clf_mirror_frames(const ClfAugment *a, float *x, int n, int F)
{
    for (int i = 0; i < n; i++) {
        float *f = x + (size_t)i * F;
        for (int j = 0; j < F; j += 3)
            f[j] = -f[j];
        for (int k = 0; k < a->n_mirror; k++) {
            float *p = f + 3 * a->mirror[k][0], *q = f + 3 * a->mirror[k][1];
            for (int c = 0; c < 3; c++) {
                const float t = p[c];
                p[c] = q[c];
                q[c] = t;
            }
        }
    }
}

/* Training batch idx[0..B) made afresh from the raw frames with ClfAugment's random changes:
 * bx [B, T, F]; scratch holds the longest sequence's raw frames or all their features,
 * whichever are more, frame one raw frame. */
static void augmented_batch(const ClfModel *m, const ClfAugment *a, const SeqSet *s,
                            const int *idx, int B, Rng *rng, float *scratch, float *frame,
                            float *bx, int *by)
{
    const int Fr = s->n_features, F = m->net[0].cfg.features, T = m->time_steps;
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
        /* Drawn only when mirroring, so that runs without it keep their random stream. */
        if (a->n_mirror > 0 && rng_uniform(rng) < 0.5f)
            clf_mirror_frames(a, scratch, n, Fr);
        /* Checked on the unchanged frames before training: cannot fail here. */
        frame_features(m, scratch, n, Fr, angle_scale, frame, &(Status){0});
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
    return a->rotate_deg > 0 || a->scale > 0 || a->crop > 0 || a->n_mirror > 0;
}

/* What training one member of the ensemble needs besides its model, planned once by
 * clf_train. */
typedef struct {
    const ClfConfig *cfg;
    const SeqSet *s; /* raw frames, for augmented batches */
    const unsigned char *is_val;
    Prepared p;      /* every sequence fitted and normalised, unaugmented */
    int n_train, n_val;
    int *train_idx;  /* [n_train], the member's part shuffled every epoch */
    int *fold;       /* [n] with inner folds: the fold of a training sequence, -1 validation */
    int *select_idx; /* [n] with inner folds: the member's held-out training sequences */
    LstmClassifierWork w;
    float *bx, *adam_mv, *best, *scratch, *frame;
    float *ema, *live; /* [n_params] each, only with cfg->ema: the average and, while it is
                        * being scored, the weights training goes on from */
    float *x_view;   /* [n, T, F] one test-time view of every sequence (only with views) */
    int *by;
    float *bx_mix;   /* [batch, T, F] only with mixup: the mixed batch; by_mix [batch] the
                      * labels of the sequences mixed in */
    int *by_mix;
} Trainer;

/* probs [n x C]: every sequence's class probabilities averaged over m's members and
 * test-time views (view 0, the sequence as it is, is t->p); all [n] is scratch. */
static void predict_all(ClfModel *m, Trainer *t, int *all, float *probs)
{
    const int V = tta_views(&m->tta), n = t->s->n, Fr = t->s->n_features;
    const size_t row = (size_t)t->p.T * t->p.F;
    memset(probs, 0, sizeof(float) * (size_t)n * t->p.C);
    for (int i = 0; i < n; i++)
        all[i] = i;
    float unused;
    for (int v = 0; v < V; v++) {
        Prepared view = t->p;
        if (v) {
            /* The features were checked on the unchanged frames before training: cannot
             * fail here. */
            for (int i = 0; i < n; i++)
                view_input(m, v, t->s->seqs[i].x, t->s->seqs[i].n_frames, Fr, t->scratch,
                           t->frame, t->x_view + (size_t)i * row, &(Status){0});
            view.x = t->x_view;
        }
        for (int k = 0; k < m->members; k++)
            evaluate(&m->net[k], &t->w, &view, all, n, t->bx, t->by, &unused, &unused, NULL,
                     probs, 1.0f / (float)(m->members * V));
    }
}

static int compare_int(const void *a, const void *b)
{
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* fold[i] of every training sequence (is_val[i] == 0): the rank of its subject among the
 * training subjects, sorted, modulo K (whole subjects per fold, so that a member never
 * chooses its epoch on a subject it learnt from); -1 for validation sequences. */
static StatusCode subject_folds(const SeqSet *s, const unsigned char *is_val, int K, int *fold,
                                Status *st)
{
    int *subjects = malloc(sizeof(int) * (size_t)(s->n ? s->n : 1));
    if (!subjects)
        return status_fail(st, TK_ENOMEM, "classify: cannot allocate the inner folds");
    int n = 0;
    StatusCode rc = TK_OK;
    for (int i = 0; i < s->n && !rc; i++) {
        if (is_val && is_val[i])
            continue;
        if (s->seqs[i].subject < 0)
            rc = status_fail(st, TK_EINVAL, "classify: inner folds need subjects; training "
                             "sequence %d has none", s->seqs[i].seq_id);
        subjects[n++] = s->seqs[i].subject;
    }
    qsort(subjects, (size_t)n, sizeof(int), compare_int);
    int distinct = 0;
    for (int i = 0; i < n; i++)
        if (!i || subjects[i] != subjects[i - 1])
            subjects[distinct++] = subjects[i];
    if (!rc && distinct < K)
        rc = status_fail(st, TK_EINVAL, "classify: %d inner folds need as many training "
                         "subjects, there are %d", K, distinct);
    for (int i = 0; i < s->n && !rc; i++) {
        fold[i] = -1;
        if (is_val && is_val[i])
            continue;
        const int *at = bsearch(&s->seqs[i].subject, subjects, (size_t)distinct, sizeof(int),
                                compare_int);
        fold[i] = (int)(at - subjects) % K;
    }
    free(subjects);
    return rc;
}

/* Trains m->net[k] (initialised, not yet drawn) from seed cfg->seed + k; the epoch kept is in
 * m->net[k] on return, h holds its curves. With one member this is the whole run, and member
 * k of an ensemble is the model a single run with seed cfg->seed + k makes. refit_epochs > 0:
 * the member learns from every training sequence for exactly that many epochs and keeps the
 * last (ClfConfig.refit); nothing is scored on the way. */
/* A draw from Beta(a, a), 0 < a <= 1: Johnk's method (Devroye, Non-Uniform Random Variate
 * Generation, 1986, IX.3.5). */
static float beta_symmetric(Rng *rng, float a)
{
    for (;;) {
        const double x = pow(rng_uniform_double(rng), 1.0 / a);
        const double y = pow(rng_uniform_double(rng), 1.0 / a);
        if (x + y <= 1.0 && x + y > 0.0)
            return (float)(x / (x + y));
    }
}

/* Mixup: every sequence of batch bx [B, T x F] blended with another of the batch (a random
 * permutation) by one lambda ~ Beta(alpha, alpha) into t->bx_mix, their labels into
 * t->by_mix. Returns lambda. */
static float mix_batch(Trainer *t, int B, size_t row, float alpha, Rng *rng)
{
    const float lambda = beta_symmetric(rng, alpha);
    int perm[CLF_MIX_BATCH_MAX];
    for (int b = 0; b < B; b++)
        perm[b] = b;
    rng_shuffle_int(rng, perm, (size_t)B);
    for (int b = 0; b < B; b++) {
        float *out = t->bx_mix + (size_t)b * row;
        const float *x = t->bx + (size_t)b * row, *y = t->bx + (size_t)perm[b] * row;
        for (size_t i = 0; i < row; i++)
            out[i] = lambda * x[i] + (1.0f - lambda) * y[i];
        t->by_mix[b] = t->by[perm[b]];
    }
    return lambda;
}

static StatusCode train_member(ClfModel *m, int k, Trainer *t, const ClfIo *io, ClfHistory *h,
                               int refit_epochs, int *stopped, Status *st)
{
    const ClfConfig *cfg = t->cfg;
    const ClfAugment *aug = &cfg->augment;
    LstmClassifier *net = &m->net[k];
    const int T = t->p.T, C = t->p.C, K = cfg->inner_folds;
    /* The member learns from n_train sequences and keeps the epoch that does best on
     * select[0 .. n_select): the validation sequences, or its held-out fold. */
    int n_train = 0, n_select = refit_epochs ? 0 : t->n_val;
    const int *select = h->val_index;
    const int *fold = refit_epochs ? NULL : t->fold;
    if (fold) {
        n_select = 0;
        select = t->select_idx;
        for (int i = 0; i < t->s->n; i++)
            if (fold[i] == k % K)
                t->select_idx[n_select++] = i;
    }
    for (int i = 0; i < t->s->n; i++)
        if (!(t->is_val && t->is_val[i]) && !(fold && fold[i] == k % K))
            t->train_idx[n_train++] = i;
    /* One stream each for initialisation and order, dropout masks and augmentation, so that
     * switching one on leaves the others' draws as they were. */
    const uint64_t seed = cfg->seed + (uint64_t)k;
    Rng rng, aug_rng, mix_rng;
    rng_seed(&rng, seed, 0);
    rng_seed(&t->w.rng, seed, 1);
    rng_seed(&aug_rng, seed, 2);
    rng_seed(&mix_rng, seed, 3);
    lstm_classifier_init_params(net, &rng);
    if (t->ema)
        memcpy(t->ema, net->params, sizeof(float) * net->n_params);
    memset(t->adam_mv, 0, sizeof(float) * 2 * net->n_params);
    Adam adam;
    adam_init(&adam, cfg->lr, t->adam_mv, t->adam_mv + net->n_params, net->n_params);
    adam.weight_decay = cfg->weight_decay;
    h->member = k;
    int best_e = -1, bad = 0;
    const int epochs = refit_epochs ? refit_epochs : cfg->epochs;
    for (int e = 0; e < epochs && !*stopped; e++) {
        rng_shuffle_int(&rng, t->train_idx, (size_t)n_train);
        double loss_sum = 0;
        int correct = 0, seen = 0;
        for (int i = 0; i < n_train; i += cfg->batch) {
            if (io && io->stop && *io->stop) {
                *stopped = 1;
                break;
            }
            const int B = n_train - i < cfg->batch ? n_train - i : cfg->batch;
            if (augmenting(aug))
                augmented_batch(m, aug, t->s, t->train_idx + i, B, &aug_rng, t->scratch,
                                t->frame, t->bx, t->by);
            else
                gather(&t->p, t->train_idx + i, B, t->bx, t->by);
            memset(net->grads, 0, sizeof(float) * net->n_params);
            if (cfg->mixup > 0) {
                const float lambda = mix_batch(t, B, (size_t)T * t->p.F, cfg->mixup, &mix_rng);
                loss_sum += (double)lstm_classifier_step_mixed(net, &t->w, t->bx_mix, t->by,
                                                               t->by_mix, lambda, T, B) * B;
            } else {
                loss_sum += (double)lstm_classifier_step(net, &t->w, t->bx, t->by, T, B, 1) * B;
            }
            for (int b = 0; b < B; b++)
                correct += argmax(t->w.logits + (size_t)b * C, C) == t->by[b];
            seen += B;
            if (cfg->clip > 0)
                clip_grad_norm(net->grads, net->n_params, cfg->clip);
            adam_step(&adam, net->params, net->grads);
            if (t->ema) {
                vec_scale(t->ema, cfg->ema, net->n_params);
                vec_axpy(t->ema, 1.0f - cfg->ema, net->params, net->n_params);
            }
        }
        if (*stopped)
            break;
        /* Running figures over the epoch's batches, as Keras reports them. */
        h->train_loss[e] = (float)(loss_sum / seen);
        h->train_acc[e] = (float)correct / (float)seen;
        if (t->ema) { /* the average is what is scored, kept and saved */
            memcpy(t->live, net->params, sizeof(float) * net->n_params);
            memcpy(net->params, t->ema, sizeof(float) * net->n_params);
        }
        evaluate(net, &t->w, &t->p, select, n_select, t->bx, t->by, &h->val_loss[e],
                 &h->val_acc[e], NULL, NULL, 0);
        h->epochs = e + 1;
        if (refit_epochs) {
            best_e = e; /* the last epoch is kept: net->params */
        } else if (is_better(h, n_select, e, best_e)) {
            best_e = e;
            bad = 0;
            memcpy(t->best, net->params, sizeof(float) * net->n_params);
        } else {
            bad++;
        }
        h->best_epoch = best_e + 1;
        if (!refit_epochs)
            m->inner_epochs[k] = h->best_epoch;
        if (io && io->checkpoint) {
            /* The members so far with this one's kept epoch, so that an interrupted run loses
             * at most this epoch. */
            m->epochs = h->epochs;
            m->best_epoch = h->best_epoch;
            m->train_accuracy = h->train_acc[best_e];
            m->val_accuracy = h->val_acc[best_e];
            StatusCode rc = save_params(m, k + 1, refit_epochs ? net->params : t->best,
                                        io->checkpoint, st);
            if (rc)
                return rc;
        }
        if (io && io->callback)
            io->callback(io->user, h, epochs);
        if (t->ema)
            memcpy(net->params, t->live, sizeof(float) * net->n_params);
        if (cfg->patience > 0 && n_select > 0 && bad >= cfg->patience)
            break;
    }
    if (best_e >= 0 && !refit_epochs)
        memcpy(net->params, t->best, sizeof(float) * net->n_params);
    else if (best_e >= 0 && t->ema)
        memcpy(net->params, t->ema, sizeof(float) * net->n_params);
    return TK_OK;
}

/* The refit's epoch count: the median of the members' inner-fold epochs (the mean of the
 * middle two, rounded up, for an even count). One member's epoch is chosen on one held-out
 * fold and swings widely between members (31 to 180 on MSR Action3D), so the median rather
 * than each member's own. Epochs, not optimiser steps: an epoch over all K folds holds
 * K / (K - 1) times the batches, and with more (augmented) data overfitting comes later, so
 * the same number of passes, i.e. K / (K - 1) more steps (Goodfellow et al., Deep Learning,
 * 2016, sec. 7.8, leave the choice between the two open). */
static int median_epochs(const int *epochs, int n)
{
    int sorted[CLF_ENSEMBLE_MAX];
    memcpy(sorted, epochs, sizeof(int) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(int), compare_int);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2] + 1) / 2;
}

StatusCode clf_train(ClfModel *m, const ClfConfig *cfg, const SeqSet *s,
                     const unsigned char *is_val, const char *features, int xy, const ClfIo *io,
                     ClfHistory *h, int *stopped, Status *st)
{
    memset(m, 0, sizeof *m);
    *stopped = 0;
    const ClfAugment *aug = &cfg->augment;
    const int members = cfg->ensemble > 1 ? cfg->ensemble : 1;
    if (cfg->batch < 1 || cfg->time_steps < 1 || cfg->epochs < 1 || cfg->layers < 1 ||
        cfg->layers > RNN_MAX_LAYERS || cfg->hidden < 1 || members > CLF_ENSEMBLE_MAX)
        return status_fail(st, TK_EINVAL,
                           "classify: bad settings (layers %d, hidden %d, batch %d, time steps "
                           "%d, epochs %d, ensemble %d of at most %d)",
                           cfg->layers, cfg->hidden, cfg->batch, cfg->time_steps, cfg->epochs,
                           members, CLF_ENSEMBLE_MAX);
    if (!(cfg->dropout >= 0 && cfg->dropout < 1))
        return status_fail(st, TK_EINVAL, "classify: dropout %g is not in [0, 1)",
                           (double)cfg->dropout);
    if (!(cfg->ema >= 0 && cfg->ema < 1))
        return status_fail(st, TK_EINVAL, "classify: EMA decay %g is not in [0, 1)",
                           (double)cfg->ema);
    if (!(cfg->mixup >= 0 && cfg->mixup <= 1) || (cfg->mixup > 0 && cfg->batch < 2) ||
        (cfg->mixup > 0 && cfg->batch > CLF_MIX_BATCH_MAX))
        return status_fail(st, TK_EINVAL, "classify: mixup %g needs alpha in (0, 1] and a batch "
                                          "of 2 to %d, not %d", (double)cfg->mixup,
                           CLF_MIX_BATCH_MAX, cfg->batch);
    if (!(cfg->label_smoothing >= 0 && cfg->label_smoothing < 1))
        return status_fail(st, TK_EINVAL, "classify: label smoothing %g is not in [0, 1)",
                           (double)cfg->label_smoothing);
    if (!(aug->rotate_deg >= 0 && aug->rotate_deg <= 180 && aug->scale >= 0 && aug->scale < 1 &&
          aug->crop >= 0 && aug->crop < 1))
        return status_fail(st, TK_EINVAL, "classify: augmentation out of range (rotate %g, "
                                          "scale %g, crop %g)", (double)aug->rotate_deg,
                           (double)aug->scale, (double)aug->crop);
    const ClfBody *body = &cfg->body;
    const int positions = !strcmp(features, "csv") || !strcmp(features, "keypoints") ||
                          !strcmp(features, "bvh_positions");
    if ((cfg->center >= 0 || aug->rotate_deg > 0 || aug->scale > 0 || aug->n_mirror > 0 ||
         body->view || body_extras(body)) && !positions)
        return status_fail(st, TK_EINVAL, "classify: centring, rotating, scaling, mirroring, "
                                          "facing and body-part features need joint positions, "
                                          "not %s features", features);
    if (aug->n_mirror > 0 && (xy || s->n_features % 3))
        return status_fail(st, TK_EINVAL, "classify: mirroring needs 3-D positions (x, y, z "
                                          "triples), not %d values%s", s->n_features,
                           xy ? " kept as x, y" : "");
    for (int k = 0; k < aug->n_mirror; k++) {
        const int a = aug->mirror[k][0], b = aug->mirror[k][1];
        int repeated = 0; /* a joint swapped twice would undo or chain the swaps */
        for (int j = 0; j < k; j++)
            repeated |= aug->mirror[j][0] == a || aug->mirror[j][1] == a ||
                        aug->mirror[j][0] == b || aug->mirror[j][1] == b;
        if (a < 0 || b < 0 || a >= s->n_features / 3 || b >= s->n_features / 3 || a == b ||
            repeated)
            return status_fail(st, TK_EINVAL, "classify: mirror pair %d (%d-%d): two different "
                                              "joints of %d, each in one pair only", k + 1, a,
                               b, s->n_features / 3);
    }
    if ((cfg->torso >= 0 || aug->rotate_deg > 0 || body->view) &&
        (cfg->center < 0 || xy))
        return status_fail(st, TK_EINVAL, "classify: body scaling, rotation and facing need a "
                                          "centre joint and 3-D positions");
    if (body_extras(body) && xy)
        return status_fail(st, TK_EINVAL, "classify: bones and distances need 3-D positions");
    StatusCode rc = clf_check_body(body, s->n_features, st);
    if (rc)
        return rc;
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
    const int K = cfg->inner_folds > 1 ? cfg->inner_folds : 0;
    if (cfg->refit && !K)
        return status_fail(st, TK_EINVAL, "classify: refitting needs inner folds to choose "
                                          "the epochs");
    int *fold = K ? malloc(sizeof(int) * (size_t)s->n) : NULL;
    if (K && !fold)
        return status_fail(st, TK_ENOMEM, "classify: cannot allocate the inner folds");
    if (K && (rc = subject_folds(s, is_val, K, fold, st)) != TK_OK) {
        free(fold);
        return rc;
    }
    if ((rc = history_alloc(h, cfg->epochs, n_train, n_val, st)) != TK_OK) {
        free(fold);
        return rc;
    }
    h->members = members;
    h->inner_folds = K;

    snprintf(m->features, sizeof m->features, "%s", features);
    m->time_steps = cfg->time_steps;
    m->fit = cfg->fit;
    m->xy = xy;
    m->center = cfg->center;
    m->torso = cfg->torso;
    m->velocity = cfg->velocity;
    m->body = *body;
    m->tta = cfg->tta;
    m->frame_values = s->n_features;
    m->seed = cfg->seed;
    m->trained_with = *cfg;
    const int T = cfg->time_steps, C = s->n_classes, F = clf_feature_count(m, s->n_features);
    const size_t row = (size_t)T * F;
    LstmClassifierConfig ncfg = {F, cfg->hidden, cfg->layers, C, cfg->pool_pyramid != 0};
    SeqSet feat = {0};
    rc = clf_check_tta(m, &cfg->tta, st);
    for (int k = 0; k < members && !rc; k++) {
        rc = lstm_classifier_init_dirs(&m->net[k], &ncfg, cfg->bidirectional, st);
        m->net[k].dropout = cfg->dropout;
        m->net[k].label_smoothing = cfg->label_smoothing;
        m->net[k].pool_mean = cfg->pool_mean;
        m->members = k + 1;
    }
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
    const size_t n_params = m->net[0].n_params;
    const int widest = F > s->n_features ? F : s->n_features; /* raw frames may be wider */
    Trainer t = {.cfg = cfg, .s = s, .is_val = is_val, .n_train = n_train, .n_val = n_val,
                 .fold = fold};
    float *x_all = NULL, *probs = NULL;
    int *labels = NULL;
    Arena arena = {0};
    if (!rc) {
        x_all = malloc(sizeof(float) * row * (size_t)s->n);
        probs = malloc(sizeof(float) * (size_t)s->n * C);
        t.bx = malloc(sizeof(float) * row * (size_t)eval_b);
        t.adam_mv = malloc(sizeof(float) * 2 * n_params);
        t.best = malloc(sizeof(float) * n_params);
        labels = malloc(sizeof(int) * (size_t)s->n);
        t.train_idx = malloc(sizeof(int) * (size_t)s->n);
        t.by = malloc(sizeof(int) * (size_t)eval_b);
        t.scratch = malloc(sizeof(float) * (size_t)max_frames * widest);
        t.frame = malloc(sizeof(float) * (size_t)s->n_features);
        t.select_idx = K ? malloc(sizeof(int) * (size_t)s->n) : NULL;
        t.ema = cfg->ema > 0 ? malloc(sizeof(float) * 2 * n_params) : NULL;
        t.live = t.ema ? t.ema + n_params : NULL;
        const int views = tta_views(&cfg->tta) > 1;
        t.x_view = views ? malloc(sizeof(float) * row * (size_t)s->n) : NULL;
        t.bx_mix = cfg->mixup > 0 ? malloc(sizeof(float) * row * (size_t)cfg->batch) : NULL;
        t.by_mix = cfg->mixup > 0 ? malloc(sizeof(int) * (size_t)cfg->batch) : NULL;
        if (!x_all || !probs || !t.bx || !t.adam_mv || !t.best || !labels || !t.train_idx ||
            !t.by || !t.scratch || !t.frame || (K && !t.select_idx) || (views && !t.x_view) ||
            (cfg->ema > 0 && !t.ema) || (cfg->mixup > 0 && (!t.bx_mix || !t.by_mix)))
            rc = status_fail(st, TK_ENOMEM, "classify: cannot allocate %d sequences of %d x %d",
                             s->n, T, F);
    }
    if (!rc) {
        /* The members have the same shapes: one plan serves them all. */
        Arena measure;
        arena_init_measure(&measure);
        lstm_classifier_work_plan(&m->net[0], &t.w, &measure, T, eval_b, st);
        rc = arena_init(&arena, measure.peak, st);
    }
    if (!rc)
        rc = lstm_classifier_work_plan(&m->net[0], &t.w, &arena, T, eval_b, st);
    if (rc)
        goto done;

    for (int i = 0; i < s->n; i++) {
        t.train_idx[i] = i;
        labels[i] = s->seqs[i].label;
    }
    seqset_batch(&feat, t.train_idx, s->n, T, cfg->fit, &m->norm, x_all);
    t.p = (Prepared){T, F, C, x_all, labels};
    for (int i = 0, nv = 0; i < s->n; i++)
        if (is_val && is_val[i])
            h->val_index[nv++] = i;
    for (int k = 0; k < members && !*stopped && !rc; k++) {
        rc = train_member(m, k, &t, io, h, 0, stopped, st);
        h->inner_epochs[k] = m->inner_epochs[k];
    }
    if (!rc && !*stopped && cfg->refit) {
        predict_all(m, &t, t.train_idx, probs);
        h->inner_val_accuracy = accuracy_of(probs, &t.p, h->val_index, n_val, NULL);
        h->refit_epochs = median_epochs(h->inner_epochs, members);
        for (int k = 0; k < members && !*stopped && !rc; k++)
            rc = train_member(m, k, &t, io, h, h->refit_epochs, stopped, st);
    }
    if (rc || *stopped)
        goto done;
    predict_all(m, &t, t.train_idx, probs);
    for (int i = 0, nt = 0; i < s->n; i++)
        if (!(is_val && is_val[i]))
            t.train_idx[nt++] = i;
    h->train_accuracy = accuracy_of(probs, &t.p, t.train_idx, n_train, NULL);
    h->val_accuracy = accuracy_of(probs, &t.p, h->val_index, n_val, h->val_pred);
    m->epochs = h->epochs;
    m->best_epoch = h->best_epoch;
    m->train_accuracy = h->train_accuracy;
    m->val_accuracy = h->val_accuracy;

done:
    arena_free(&arena);
    free_feature_set(&feat);
    free(x_all);
    free(probs);
    free(t.bx);
    free(t.adam_mv);
    free(t.best);
    free(t.scratch);
    free(t.frame);
    free(labels);
    free(t.train_idx);
    free(t.by);
    free(t.select_idx);
    free(t.x_view);
    free(t.bx_mix);
    free(t.by_mix);
    free(t.ema);
    free(fold);
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

/* The tensors of member k: PyTorch's state_dict names (lstm.weight_ih_l0, ..., fc.weight,
 * fc.bias), prefixed "member<k>." after the first. */
static void tensor_name(char *name, int k, const char *what)
{
    if (k)
        snprintf(name, TKW_NAME_MAX, "member%d.%s", k, what);
    else
        snprintf(name, TKW_NAME_MAX, "%s", what);
}

/* Member k's tensors, taken from params laid out as m->net[k].params. */
static StatusCode write_member(TkwWriter *w, const ClfModel *m, int k, const float *params,
                               Status *st)
{
    const LstmClassifier *net = &m->net[k];
    const LstmClassifierConfig *c = &net->cfg;
    const int G = 4 * c->hidden, dirs = net->lstm.dirs;
    StatusCode rc = TK_OK;
    char name[TKW_NAME_MAX], what[32];
    for (int l = 0; l < c->layers * dirs && !rc; l++) {
        const RnnWeights *rw = &net->lstm.w[l / dirs][l % dirs];
        const int in = l / dirs ? dirs * c->hidden : c->features;
        const struct {
            const char *name;
            const float *p;
            int rows, cols;
        } t[4] = {{"weight_ih", rw->w_ih, G, in}, {"weight_hh", rw->w_hh, G, c->hidden},
                  {"bias_ih", rw->b_ih, G, 0}, {"bias_hh", rw->b_hh, G, 0}};
        for (int i = 0; i < 4 && !rc; i++) {
            snprintf(what, sizeof what, "lstm.%s_l%d%s", t[i].name, l / dirs,
                     l % dirs ? "_reverse" : "");
            tensor_name(name, k, what);
            const int shape[2] = {t[i].rows, t[i].cols};
            rc = tkw_writer_tensor(w, name, DTYPE_F32, t[i].cols ? 2 : 1, shape,
                                   params + (t[i].p - net->params), st);
        }
    }
    const int fc_w[2] = {c->classes, net->fc.in}, fc_b[1] = {c->classes};
    tensor_name(name, k, "fc.weight");
    if (!rc) rc = tkw_writer_tensor(w, name, DTYPE_F32, 2, fc_w,
                                    params + (net->fc.w - net->params), st);
    tensor_name(name, k, "fc.bias");
    if (!rc) rc = tkw_writer_tensor(w, name, DTYPE_F32, 1, fc_b,
                                    params + (net->fc.b - net->params), st);
    return rc;
}

/* "A-B A-B ..." of pairs[0 .. n) into text[size] (what clf_parse_joint_pairs reads). */
static void format_joint_pairs(char *text, size_t size, const int pairs[][2], int n)
{
    size_t used = 0;
    text[0] = '\0';
    for (int k = 0; k < n && used < size; k++)
        used += (size_t)snprintf(text + used, size - used, "%s%d-%d", k ? " " : "", pairs[k][0],
                                 pairs[k][1]);
}

/* ClfBody as metadata: "view" = "A B", "bones" = "A-B A-B ...", "distances", "positions";
 * absent keys (files from before) mean off, off, 0, 1. */
static StatusCode write_body(TkwWriter *w, const ClfBody *b, Status *st)
{
    char text[CLF_BONES_MAX * 24 + 1];
    StatusCode rc = TK_OK;
    if (b->view) {
        snprintf(text, sizeof text, "%d %d", b->view_from, b->view_to);
        rc = tkw_writer_meta(w, "view", text, st);
    }
    if (!rc && b->n_bones) {
        format_joint_pairs(text, sizeof text, b->bones, b->n_bones);
        rc = tkw_writer_meta(w, "bones", text, st);
    }
    if (!rc) rc = meta_int(w, "distances", b->distances, st);
    if (!rc) rc = meta_int(w, "positions", !b->positions_off, st);
    return rc;
}

/* The model file: metadata, the first `members` members' tensors (the last one's from `last`
 * when not NULL: the epoch kept so far while it trains), then the normalisation. */
static StatusCode save_params(const ClfModel *m, int members, const float *last,
                              const char *path, Status *st)
{
    const LstmClassifierConfig *c = &m->net[0].cfg;
    TkwWriter *w;
    StatusCode rc = tkw_writer_new(&w, st);
    if (rc)
        return rc;
    char text[64];
    rc = tkw_writer_meta(w, "kind", "lstm_classifier", st);
    if (!rc) rc = tkw_writer_meta(w, "features", m->features, st);
    if (!rc) rc = meta_int(w, "n_features", c->features, st);
    if (!rc) rc = meta_int(w, "frame_values", m->frame_values, st);
    if (!rc) rc = meta_int(w, "hidden", c->hidden, st);
    if (!rc) rc = meta_int(w, "layers", c->layers, st);
    if (!rc) rc = meta_int(w, "classes", c->classes, st);
    if (!rc) rc = meta_int(w, "members", members, st);
    if (!rc) rc = meta_int(w, "bidirectional", m->net[0].bidirectional, st);
    if (!rc) rc = meta_int(w, "time_steps", m->time_steps, st);
    if (!rc) rc = tkw_writer_meta(w, "fit", fit_name(m->fit), st);
    if (!rc) rc = tkw_writer_meta(w, "norm", "zscore", st);
    if (!rc) rc = tkw_writer_meta(w, "pool", c->pyramid ? "pyramid"
                                             : m->net[0].pool_mean ? "mean" : "last", st);
    if (!rc) rc = meta_int(w, "xy", m->xy, st);
    if (!rc) rc = meta_int(w, "center", m->center, st);
    if (!rc) rc = meta_int(w, "torso", m->torso, st);
    if (!rc) rc = meta_int(w, "velocity", m->velocity, st);
    if (!rc) rc = write_body(w, &m->body, st);
    snprintf(text, sizeof text, "%g %g", m->tta.rotate_deg, m->tta.crop);
    if (!rc) rc = tkw_writer_meta(w, "tta_rotate_crop", text, st);
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
        snprintf(text, sizeof text, "%g", tw->label_smoothing);
        if (!rc) rc = tkw_writer_meta(w, "train.label_smoothing", text, st);
        snprintf(text, sizeof text, "%g", tw->ema);
        if (!rc) rc = tkw_writer_meta(w, "train.ema", text, st);
        snprintf(text, sizeof text, "%g", tw->mixup);
        if (!rc && tw->mixup > 0) rc = tkw_writer_meta(w, "train.mixup", text, st);
        snprintf(text, sizeof text, "%g %g %g", tw->augment.rotate_deg, tw->augment.scale,
                 tw->augment.crop);
        if (!rc) rc = tkw_writer_meta(w, "train.augment_rotate_scale_crop", text, st);
        if (!rc && tw->augment.n_mirror > 0) {
            char list[CLF_BONES_MAX * 24 + 1];
            format_joint_pairs(list, sizeof list, tw->augment.mirror, tw->augment.n_mirror);
            rc = tkw_writer_meta(w, "train.augment_mirror", list, st);
        }
        if (!rc) rc = meta_int(w, "train.inner_folds", tw->inner_folds > 1 ? tw->inner_folds : 0,
                               st);
        if (!rc) rc = meta_int(w, "train.refit", tw->refit, st);
        if (!rc && tw->refit) {
            char list[CLF_ENSEMBLE_MAX * 12] = "";
            for (int k = 0, used = 0; k < members; k++)
                used += snprintf(list + used, sizeof list - (size_t)used, "%s%d", k ? " " : "",
                                 m->inner_epochs[k]);
            rc = tkw_writer_meta(w, "train.inner_epochs", list, st);
        }
    }
    for (int k = 0; k < c->classes && !rc; k++) {
        char key[32];
        snprintf(key, sizeof key, "class.%d", k);
        rc = tkw_writer_meta(w, key, m->class_names[k], st);
    }
    for (int k = 0; k < members && !rc; k++)
        rc = write_member(w, m, k, last && k == members - 1 ? last : m->net[k].params, st);
    const int nf[1] = {c->features};
    if (!rc) rc = tkw_writer_tensor(w, "norm.shift", DTYPE_F32, 1, nf, m->norm.shift, st);
    if (!rc) rc = tkw_writer_tensor(w, "norm.scale", DTYPE_F32, 1, nf, m->norm.scale, st);
    if (!rc)
        rc = tkw_writer_save(w, path, st);
    tkw_writer_free(w);
    return rc;
}

StatusCode clf_save(const ClfModel *m, const char *path, Status *st)
{
    return save_params(m, m->members, NULL, path, st);
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

/* Member k's tensors (see write_member) into net, initialised with the file's shapes. */
static StatusCode read_member(const TkwFile *f, LstmClassifier *net, int k, Status *st)
{
    const LstmClassifierConfig *c = &net->cfg;
    const size_t G = 4 * (size_t)c->hidden;
    const int dirs = net->lstm.dirs;
    char name[TKW_NAME_MAX], what[32];
    StatusCode rc = TK_OK;
    for (int l = 0; l < c->layers * dirs && !rc; l++) {
        const RnnWeights *rw = &net->lstm.w[l / dirs][l % dirs];
        const size_t in = l / dirs ? (size_t)dirs * c->hidden : (size_t)c->features;
        const struct {
            const char *name;
            float *p;
            size_t n;
        } t[4] = {{"weight_ih", rw->w_ih, G * in}, {"weight_hh", rw->w_hh, G * c->hidden},
                  {"bias_ih", rw->b_ih, G}, {"bias_hh", rw->b_hh, G}};
        for (int i = 0; i < 4 && !rc; i++) {
            snprintf(what, sizeof what, "lstm.%s_l%d%s", t[i].name, l / dirs,
                     l % dirs ? "_reverse" : "");
            tensor_name(name, k, what);
            rc = tkw_read_f32(f, name, t[i].p, t[i].n, st);
        }
    }
    tensor_name(name, k, "fc.weight");
    if (!rc) rc = tkw_read_f32(f, name, net->fc.w, (size_t)c->classes * net->fc.in, st);
    tensor_name(name, k, "fc.bias");
    if (!rc) rc = tkw_read_f32(f, name, net->fc.b, (size_t)c->classes, st);
    return rc;
}

/* The metadata write_body writes. */
static StatusCode read_body(const TkwFile *f, ClfBody *b, Status *st)
{
    memset(b, 0, sizeof *b);
    const char *view = tkw_meta(f, "view"), *bones = tkw_meta(f, "bones");
    b->view = view != NULL;
    if (view && sscanf(view, "%d %d", &b->view_from, &b->view_to) != 2)
        return status_fail(st, TK_EFORMAT, "%s: metadata 'view' is not two joints", f->path);
    if (bones && clf_parse_joint_pairs(bones, "bones", b->bones, &b->n_bones, st))
        return app_status_prefix(st, f->path);
    StatusCode rc = TK_OK;
    if (tkw_meta(f, "distances"))
        rc = read_int(f, "distances", 0, 1, &b->distances, st);
    int positions = 1;
    if (!rc && tkw_meta(f, "positions"))
        rc = read_int(f, "positions", 0, 1, &positions, st);
    b->positions_off = !positions;
    return rc;
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
    else if (pool && strcmp(pool, "last") && strcmp(pool, "mean") && strcmp(pool, "pyramid"))
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'pool' must be last, mean or pyramid",
                         path);
    c.pyramid = pool && !strcmp(pool, "pyramid");
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
    if (!rc) rc = read_int(&f, "velocity", 0, 2, &m->velocity, st);
    if (!rc && c.features % (1 + m->velocity))
        rc = status_fail(st, TK_EFORMAT, "%s: velocity %d with %d features, not a multiple of "
                         "%d", path, m->velocity, c.features, 1 + m->velocity);
    /* Keys absent in files from before ensembles and body-part features. */
    m->members = 1;
    int bidirectional = 0;
    if (!rc && tkw_meta(&f, "bidirectional"))
        rc = read_int(&f, "bidirectional", 0, 1, &bidirectional, st);
    if (!rc && tkw_meta(&f, "members"))
        rc = read_int(&f, "members", 1, CLF_ENSEMBLE_MAX, &m->members, st);
    if (!rc)
        rc = read_body(&f, &m->body, st);
    m->frame_values = c.features / (1 + m->velocity);
    if (!rc && tkw_meta(&f, "frame_values"))
        rc = read_int(&f, "frame_values", 1, 1 << 20, &m->frame_values, st);
    if (!rc && (rc = clf_check_body(&m->body, m->frame_values, st)) != TK_OK)
        app_status_prefix(st, path);
    /* Absent in files from before test-time views: none. */
    const char *tta = tkw_meta(&f, "tta_rotate_crop");
    if (!rc && tta && sscanf(tta, "%f %f", &m->tta.rotate_deg, &m->tta.crop) != 2)
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'tta_rotate_crop' is not two numbers",
                         path);
    if (!rc && clf_feature_count(m, m->frame_values) != c.features)
        rc = status_fail(st, TK_EFORMAT, "%s: metadata 'n_features' %d does not follow from "
                         "'frame_values' %d and the features asked for", path, c.features,
                         m->frame_values);
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
        if ((rc = clf_check_tta(m, &m->tta, st)) != TK_OK)
            app_status_prefix(st, path);
        for (int k = 0; k < m->members && !rc; k++) {
            rc = lstm_classifier_init_dirs(&m->net[k], &c, bidirectional, st);
            m->net[k].pool_mean = pool && !strcmp(pool, "mean");
        }
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
    for (int k = 0; k < (rc ? 0 : m->members); k++)
        rc = read_member(&f, &m->net[k], k, st);
    if (!rc) rc = tkw_read_f32(&f, "norm.shift", m->norm.shift, (size_t)c.features, st);
    if (!rc) rc = tkw_read_f32(&f, "norm.scale", m->norm.scale, (size_t)c.features, st);
    tkw_close(&f);
    if (rc) {
        if (m->class_names)
            for (int k = 0; k < c.classes; k++)
                free(m->class_names[k]);
        free(m->class_names);
        m->class_names = NULL;
        for (int k = 0; k < m->members; k++)
            lstm_classifier_free(&m->net[k]);
        seqnorm_free(&m->norm);
    }
    return rc;
}

StatusCode clf_merge(ClfModel *a, ClfModel *b, const char *b_name, Status *st)
{
    const LstmClassifier *na = &a->net[0], *nb = &b->net[0];
    const char *differs =
        strcmp(a->features, b->features) || a->frame_values != b->frame_values ? "features"
        : memcmp(&na->cfg, &nb->cfg, sizeof na->cfg) || na->bidirectional != nb->bidirectional ||
                na->pool_mean != nb->pool_mean
            ? "network shape"
        : a->time_steps != b->time_steps || a->fit != b->fit ? "time steps"
        : a->xy != b->xy || a->center != b->center || a->torso != b->torso ||
                a->velocity != b->velocity || memcmp(&a->body, &b->body, sizeof a->body)
            ? "per-frame features"
        : a->tta.rotate_deg != b->tta.rotate_deg || a->tta.crop != b->tta.crop
            ? "test-time views"
        : strcmp(a->pose_model, b->pose_model) ? "pose model"
        : NULL;
    for (int c = 0; !differs && c < na->cfg.classes; c++)
        if (strcmp(a->class_names[c], b->class_names[c]))
            differs = "class names";
    /* Bitwise: the normalisation fitted on other training data means other members. */
    if (!differs && (memcmp(a->norm.shift, b->norm.shift, sizeof(float) * a->norm.n) ||
                     memcmp(a->norm.scale, b->norm.scale, sizeof(float) * a->norm.n)))
        differs = "normalisation (trained on other sequences?)";
    if (differs)
        return status_fail(st, TK_EINVAL, "%s: different %s from the first model", b_name,
                           differs);
    if (a->members + b->members > CLF_ENSEMBLE_MAX)
        return status_fail(st, TK_EINVAL, "%s: %d + %d members, more than %d", b_name,
                           a->members, b->members, CLF_ENSEMBLE_MAX);
    for (int k = 0; k < b->members; k++)
        a->net[a->members + k] = b->net[k];
    a->members += b->members;
    b->members = 0; /* its members are a's now */
    clf_free(b);
    /* What was measured of each part says nothing of the whole. */
    a->train_accuracy = a->val_accuracy = NAN;
    return TK_OK;
}

/* ---------------------------------------------------------------- prediction */

StatusCode clf_predict(ClfModel *m, const float *x, int n_frames, int F, float *probs,
                       Status *st)
{
    const LstmClassifierConfig *c = &m->net[0].cfg;
    const int Fm = c->features;
    if (F != m->frame_values)
        return status_fail(st, TK_EINVAL, "%d features per frame, the model takes %d", F,
                           m->frame_values);
    if (n_frames < 1)
        return status_fail(st, TK_EINVAL, "no frames");
    const int T = m->time_steps, widest = Fm > F ? Fm : F;
    /* The same steps as training: per-frame features of the raw frames, then fit to T. */
    float *frames = malloc(sizeof(float) * (size_t)n_frames * widest);
    float *seq = malloc(sizeof(float) * (size_t)T * Fm);
    float *row = malloc(sizeof(float) * (size_t)F);
    Arena measure, arena = {0};
    LstmClassifierWork w;
    arena_init_measure(&measure);
    lstm_classifier_work_plan(&m->net[0], &w, &measure, T, 1, st);
    StatusCode rc = frames && seq && row ? arena_init(&arena, measure.peak, st)
                                         : status_fail(st, TK_ENOMEM, "cannot allocate %d x %d",
                                                       n_frames, widest);
    if (!rc)
        rc = lstm_classifier_work_plan(&m->net[0], &w, &arena, T, 1, st);
    /* The answer is the mean probabilities over the members and the test-time views. */
    const int V = tta_views(&m->tta);
    for (int k = 0; k < c->classes && !rc; k++)
        probs[k] = 0.0f;
    for (int v = 0; v < V && !rc; v++) {
        rc = view_input(m, v, x, n_frames, F, frames, row, seq, st);
        for (int k = 0; k < m->members && !rc; k++) {
            lstm_classifier_step(&m->net[k], &w, seq, NULL, T, 1, 0);
            double mx = w.logits[0], sum = 0;
            for (int j = 1; j < c->classes; j++)
                mx = w.logits[j] > mx ? w.logits[j] : mx;
            for (int j = 0; j < c->classes; j++)
                sum += exp(w.logits[j] - mx);
            for (int j = 0; j < c->classes; j++)
                probs[j] += (float)(exp(w.logits[j] - mx) / sum / (m->members * V));
        }
    }
    arena_free(&arena);
    free(frames);
    free(seq);
    free(row);
    return rc;
}
