/* classify.h — supervised skeleton-sequence classifiers (HARNets' LSTM "B"): training with
 * early stopping on validation accuracy, the model file (kind "lstm_classifier") that holds
 * everything prediction needs, and prediction of one sequence (app/classify.c). */
#ifndef TAKT_CLASSIFY_H
#define TAKT_CLASSIFY_H

#include <signal.h>

#include "app.h"
#include "../io/io.h"
#include "../nn/nn.h"

#define CLF_BONES_MAX 64 /* joint pairs of ClfBody.bones and ClfAugment.mirror */

/* Random changes to every training sequence each time a batch takes it (never to validation
 * or prediction): a rotation by U(-rotate_deg, rotate_deg) degrees about the vertical (y) axis
 * through the centre joint, a scale by U(1 - scale, 1 + scale), and a temporal crop that keeps
 * a random run of at least (1 - crop) of the frames, which the fit to T steps then stretches
 * (a change of speed). 0 = off. With n_mirror > 0, half the time the body is also mirrored:
 * x negated (a reflection in the plane x = 0, turning a right-handed performer into a
 * left-handed one) and the joints of every pair mirror[k] (left and right) swapped. */
typedef struct {
    float rotate_deg, scale, crop;
    int n_mirror;
    int mirror[CLF_BONES_MAX][2];
} ClfAugment;

/* Test-time views: the class probabilities of a sequence are averaged over the sequence as
 * it is, turned by -rotate_deg and +rotate_deg about the vertical axis through the centre
 * joint (when rotate_deg > 0), and its first and last (1 - crop) of the frames (when
 * crop > 0): 1, 3 or 5 views, each through every member. All zeros = the sequence only. */
typedef struct {
    float rotate_deg, crop;
} ClfTta;

/* Features that do not depend on where the body faces or how long its limbs are (joint
 * positions only); all zeros = none of them. view (1: on), view_from, view_to: each sequence
 * is turned about the vertical (y) axis so that the mean direction from joint view_from to
 * joint view_to over its frames, seen from above, points along +x (e.g. left hip -> right
 * hip: the body faces the camera).
 * bones: the unit vector from joint bones[k][0] to bones[k][1] of every listed pair appended
 * to each frame (directions of body parts: the relative orientations that the Lie-group
 * features of Vemulapalli et al., CVPR 2014, describe, without limb lengths). distances: the
 * distance between every pair of joints appended (after body scaling). positions_off: the
 * joint coordinates themselves left out (bones or distances only). */
typedef struct {
    int view, view_from, view_to;
    int n_bones;
    int bones[CLF_BONES_MAX][2];
    int distances, positions_off;
} ClfBody;

#define CLF_ENSEMBLE_MAX 32
#define CLF_MIX_BATCH_MAX 4096 /* the largest batch --batch takes */

typedef struct {
    int layers, hidden, batch, time_steps, epochs;
    int patience;  /* epochs without a better validation score before stopping; 0 = never */
    float lr, clip, weight_decay;
    SeqFit fit;
    float dropout; /* after every LSTM layer, in training (LstmClassifier.dropout) */
    float ema;     /* > 0: the weights scored, kept and saved are their exponential moving
                    * average over the optimiser steps, avg = ema avg + (1 - ema) w after each
                    * step, started at the initial weights (Polyak averaging; cf. Izmailov et
                    * al., UAI 2018); 0 = the weights themselves */
    float label_smoothing; /* training targets (1 - eps) one-hot + eps / classes
                            * (LstmClassifier.label_smoothing); 0 = plain cross-entropy */
    float mixup;   /* > 0: every training batch is blended with a permutation of itself by
                    * one lambda ~ Beta(mixup, mixup), and the loss is blended alike (Zhang et
                    * al., mixup, ICLR 2018); in (0, 1], batch <= CLF_MIX_BATCH_MAX; 0 = off */
    int pool_mean; /* 1: fc reads the mean over the steps (LstmClassifier.pool_mean) */
    int pool_pyramid; /* 1: fc reads the final states and a temporal pyramid of means
                       * (LstmClassifierConfig.pyramid) */
    int bidirectional; /* 1: both directions (lstm_classifier_init_dirs) */
    int center;    /* joint whose position is subtracted from every joint per frame; -1 = none */
    int torso;     /* joint whose mean distance to the centre joint over the sequence divides
                    * every coordinate (body-size normalisation); -1 = none */
    int velocity;  /* 1: every feature's change since the previous frame appended; 2: and
                    * then the change of that change (acceleration) */
    ClfBody body;  /* view normalisation and body-part features (positions only) */
    int ensemble;  /* models trained from seeds seed .. seed + ensemble - 1, probabilities
                    * averaged; 0 or 1 = one model */
    int inner_folds; /* >= 2: the epoch of each member is chosen on training subjects only.
                      * The training sequences' subjects, sorted, are dealt round robin into
                      * this many folds; member k trains on the others and keeps the epoch
                      * that does best on fold k mod inner_folds. The is_val sequences are
                      * then only reported, never used to choose. 0 or 1 = off */
    int refit;       /* 1 (needs inner_folds): once the inner folds have chosen every member's
                      * epoch, each member is trained again, from the same seed, on all the
                      * training subjects for the median of those epochs and its last epoch
                      * kept; the is_val sequences are still only reported */
    ClfAugment augment;
    ClfTta tta;    /* views averaged when reporting and predicting (ClfModel.tta) */
    const char *pose_model; /* the pose model that made the features of a video ("lite", "full",
                             * "heavy"), recorded so that predict uses the same; NULL: not video */
    uint64_t seed;
} ClfConfig;

ClfConfig clf_default_config(void); /* 1 layer, 100 hidden, batch 8, T 200, 300 epochs */

/* How per-frame features were made, so that predict builds the same ones:
 * "csv" (the coordinate columns of a labelled CSV), "keypoints" (x, y, z of a `takt pose` CSV
 * or of the pose of a video), "landmarks" (x, y, z, visibility, from either), "backbone" (the
 * landmark model's pooled backbone features, from a video), or "bvh_positions",
 * "bvh_channels", "bvh_rotations", "bvh_positions_rotations". */
#define CLF_FEATURES_MAX 32

typedef struct {
    LstmClassifier net[CLF_ENSEMBLE_MAX]; /* net[0 .. members): same shapes, own weights */
    int members;
    SeqNorm norm;
    int time_steps;
    SeqFit fit;
    int xy;                          /* 1: x, y of x, y, z triples kept */
    int center, torso, velocity;     /* see ClfConfig */
    ClfBody body;                    /* see ClfConfig */
    ClfTta tta;                      /* see ClfTta; predict may change it */
    int frame_values;                /* raw values per frame it takes (before features) */
    char features[CLF_FEATURES_MAX];
    char pose_model[8];              /* ClfConfig.pose_model; "" when not from video */
    char **class_names;              /* net[0].cfg.classes, owned */
    int epochs, best_epoch;          /* provenance, written to the file */
    int inner_epochs[CLF_ENSEMBLE_MAX]; /* with refit: each member's epoch chosen by its inner
                                         * fold (provenance, written, not read back) */
    float train_accuracy, val_accuracy;
    uint64_t seed;
    ClfConfig trained_with;          /* written as provenance; not read back */
} ClfModel;

/* Per-epoch figures of a training run (arrays of cfg.epochs; the first `epochs` are set); of
 * an ensemble, the curves are those of the member being trained (the last, once done) and the
 * accuracies and predictions at the end those of the whole ensemble. */
typedef struct {
    int member, members;      /* 0-based member being trained, of members */
    int epochs, best_epoch;   /* epochs run; 1-based epoch whose parameters were kept */
    /* val_loss, val_acc: of the sequences that choose the epoch, the validation sequences or,
     * with inner folds (inner_folds >= 2), the member's held-out training subjects. */
    float *train_loss, *train_acc, *val_loss, *val_acc;
    int inner_folds;
    int n_train, n_val;
    int *val_index, *val_pred; /* n_val: sequence index and the kept model's prediction */
    float train_accuracy, val_accuracy; /* of the kept model, evaluated after training */
    /* With refit: the epoch each member's inner fold chose, the epochs every member was then
     * trained for on all training subjects (their median), and the reported accuracy of the
     * inner-fold members before they were replaced (the same run without refit). */
    int inner_epochs[CLF_ENSEMBLE_MAX];
    int refit_epochs;
    float inner_val_accuracy;
} ClfHistory;

typedef void (*ClfEpochCallback)(void *user, const ClfHistory *h, int epochs_total);

typedef struct {
    const char *checkpoint;             /* the kept model is written here after every epoch */
    const volatile sig_atomic_t *stop;  /* set by a signal handler: stop after this batch */
    ClfEpochCallback callback;
    void *user;
} ClfIo;

/* Trains a fresh model on the sequences with is_val[i] == 0 and selects the epoch by the
 * accuracy on the others (lower validation loss breaks ties; without validation sequences the
 * training loss decides), or with cfg->inner_folds on held-out training subjects (see
 * ClfConfig). s holds raw frames (x, y[, z] of every joint when cfg centres,
 * scales or augments: xy says which); the per-frame features are made here as
 * clf_frame_features makes them. features names how s was made (see above). On return m
 * holds the kept parameters and h the curves; *stopped = 1 when io->stop ended the run
 * early. */
StatusCode clf_train(ClfModel *m, const ClfConfig *cfg, const SeqSet *s,
                     const unsigned char *is_val, const char *features, int xy, const ClfIo *io,
                     ClfHistory *h, int *stopped, Status *st);
void clf_history_free(ClfHistory *h);
void clf_free(ClfModel *m);

StatusCode clf_save(const ClfModel *m, const char *path, Status *st);

/* Moves every member of b (loaded from b_name) into a and frees b: an ensemble trained in
 * parts, e.g. `--seed 0 --ensemble 10` and `--seed 10 --ensemble 10` on the same sequences.
 * Refused, leaving both as they were, unless features, network shape, class names and the
 * normalisation (bit for bit) agree and the members fit in CLF_ENSEMBLE_MAX. a's stored
 * accuracies become NaN: they were of a part. */
StatusCode clf_merge(ClfModel *a, ClfModel *b, const char *b_name, Status *st);

/* Refuses files of another kind and inconsistent metadata, naming the file and the key. */
StatusCode clf_load(ClfModel *m, const char *path, Status *st);

/* Class probabilities probs[classes] of one sequence x [n_frames x F] (F must be the model's;
 * it is fitted to the model's time steps and normalised here), averaged over the members and
 * the test-time views of m->tta. */
StatusCode clf_predict(ClfModel *m, const float *x, int n_frames, int F, float *probs,
                       Status *st);

/* Subtracts joint `joint`'s coordinates from every joint of each of rows frames of x
 * (F / dims joints of dims coordinates). */
StatusCode clf_center_frames(float *x, size_t rows, int F, int dims, int joint, Status *st);

/* Divides every coordinate of rows frames of x by the mean distance between joints a and b
 * over those frames (left as they are when that is below 1e-6: nobody in view). */
StatusCode clf_torso_scale_frames(float *x, size_t rows, int F, int dims, int a, int b,
                                  Status *st);

/* x [n_frames x F], with room for n_frames x 2F, becomes each frame's features followed by
 * their change since the previous frame (0 for the first). */
void clf_velocity_frames(float *x, int n_frames, int F);

/* x [n_frames x 2F] (clf_velocity_frames' output), with room for n_frames x 3F, gets the
 * velocities' change since the previous frame (0 for the first) appended to each frame. */
void clf_acceleration_frames(float *x, int n_frames, int F);

/* The per-frame features the model takes from raw frames x [n_frames x F] (room for
 * n_frames x clf_feature_count(m, F)): centred, turned to face the camera, body-scaled,
 * body-part values and velocities appended, as the model says. */
StatusCode clf_frame_features(const ClfModel *m, float *x, int n_frames, int F, Status *st);

/* Per-frame features the model makes from F raw values per frame. */
int clf_feature_count(const ClfModel *m, int F);

/* Values per frame that b makes from F joint coordinates (before velocities). */
int clf_body_values(const ClfBody *b, int F);

/* Refuses test-time views the model's features cannot take (turning needs 3-D joint
 * positions and a centre joint; crop in [0, 1), rotate in [0, 180]). */
StatusCode clf_check_tta(const ClfModel *m, const ClfTta *tta, Status *st);

/* The mirror image of n frames x [n x F] (x, y, z triples) in place, as training sees it
 * (ClfAugment.mirror): x negated and the joints of every pair swapped. */
void clf_mirror_frames(const ClfAugment *a, float *x, int n, int F);

/* Refuses a ClfBody that does not fit F raw values per frame (x, y, z of F / 3 joints). */
StatusCode clf_check_body(const ClfBody *b, int F, Status *st);

/* Parses "A-B A-B ..." (spaces or commas between pairs) into pairs[0 .. *n), at most
 * CLF_BONES_MAX; what names the list in messages ("bones", "mirror"). */
StatusCode clf_parse_joint_pairs(const char *list, const char *what, int pairs[][2], int *n,
                                 Status *st);

/* Turns rows frames of x (F / 3 joints of x, y, z, y vertical) about the vertical axis
 * through the origin so that the mean direction from joint `from` to joint `to`, seen from
 * above, points along +x (ClfBody.view_from). */
StatusCode clf_view_normalise(float *x, size_t rows, int F, int from, int to, Status *st);

/* Per-frame features of a video (any input `takt pose` takes) through the pose pipeline:
 * kind "keypoints" = x, y, z (x, y with xy) of the 33 landmarks, "landmarks" = x, y, z,
 * visibility of each, "backbone" = the landmark model's last backbone map (the input of its
 * landmark head) averaged over its positions, 288 values for the full model. Frames without a
 * person are zeros; unreadable frames are left out (*bad_frames counts them). *x
 * [*n_frames x *F] and *frame (the input's frame numbers) are malloc'ed. */
StatusCode clf_video_features(const char *path, const char *kind, int xy,
                              const PoseSourceOptions *opts, float **x, int **frame,
                              int *n_frames, int *F, int *bad_frames, Status *st);

/* Keeps x, y of every x, y, z triple of s's features in place (F must be a multiple of 3). */
StatusCode clf_keep_xy(SeqSet *s, Status *st);

#endif
