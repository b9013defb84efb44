/* mtm.h — what the `takt mtm` files share: the MTM-2 classifier (KNN, linear SVM or MLP after
 * min-max scaling, saved as one .tkw), the seed's evaluation protocol, and the event stream
 * (motion elements with TMU, ergonomic risks and evidence). */
#ifndef TAKT_MTM_H
#define TAKT_MTM_H

#include <stdio.h>

#include "../cluster/cluster.h"
#include "../nn/nn.h"
#include "app.h"

#define MTM_TMU_SECONDS 0.036 /* 1 TMU = 1e-5 hour */

typedef enum { MTM_KNN = 0, MTM_SVM = 1, MTM_MLP = 2 } MtmKind;

const char *mtm_kind_name(MtmKind kind);
int mtm_kind_parse(const char *name); /* -1 when unknown */

/* The seed's MLP: one hidden layer of 50 ReLU units trained as scikit-learn's
 * MLPClassifier(hidden_layer_sizes=(50,), early_stopping=True, max_iter=1000): Adam lr 1e-3,
 * batches of min(200, n), L2 alpha 1e-4 on the weights, Glorot-uniform start, 10 % of the rows
 * (stratified) held out, stop once the held-out accuracy has not beaten its best by tol 1e-4
 * for more than 10 epochs, keep the best epoch's parameters (mtm_mlp.c). */
typedef struct {
    int hidden, max_iter, n_iter_no_change;
    double validation_fraction, tol, alpha, lr;
    uint64_t seed;
} MtmMlpParams;

MtmMlpParams mtm_mlp_params_default(void);
/* m is initialised here (mlp_init); *epochs gets the epochs run (may be NULL). */
StatusCode mtm_mlp_fit(Mlp *m, const float *x, const int *y, int n, int d, int n_classes,
                       const MtmMlpParams *p, int *epochs, Status *st);
/* proba (nq x classes, may be NULL) and pred (nq, may be NULL). */
StatusCode mtm_mlp_predict(const Mlp *m, const float *q, int nq, int *pred, float *proba,
                           Status *st);

/* A fitted classifier with everything needed to use it on new data. */
typedef struct {
    MtmKind kind;
    int d, n_classes;
    char **feature_names; /* d, owned */
    char **class_names;   /* n_classes, owned */
    Scaler scaler;        /* min-max to [0, 1], fitted on the training rows */
    KnnClassifier knn;    /* MTM_KNN (k = 1, uniform) */
    float *train_x;       /* MTM_KNN: n_train x d scaled rows (what the file keeps), owned */
    int *train_y, n_train;
    LinearSvm svm;        /* MTM_SVM */
    Mlp mlp;              /* MTM_MLP */
} MtmModel;

/* Fits on n x d raw features with labels 0..n_classes-1; names are copied (may be NULL: then
 * "f0".. and "0"..). */
StatusCode mtm_model_fit(MtmModel *m, MtmKind kind, const float *x, const int *y, int n, int d,
                         int n_classes, const char *const *feature_names,
                         const char *const *class_names, uint64_t seed, Status *st);
/* Raw (unscaled) queries; scratch: nq x d floats of the caller's. pred: nq; proba (may be
 * NULL): nq x n_classes. */
StatusCode mtm_model_predict(const MtmModel *m, const float *q, int nq, float *scratch,
                             int *pred, float *proba, Status *st);
/* One .tkw, metadata kind "mtm_classifier", classifier, features, classes, min-max constants. */
StatusCode mtm_model_save(const MtmModel *m, const char *path, Status *st);
StatusCode mtm_model_load(MtmModel *m, const char *path, Status *st);
void mtm_model_free(MtmModel *m);

/* ---------------------------------------------------------------- protocol (mtm_protocol.c) */

typedef struct {
    MtmKind kind;
    double test_accuracy, cv_mean, cv_sd, fit_s, infer_us_per_sample;
} MtmCompareRow;

/* The seed's protocol for one classifier: stratified 80/20 split, 10-fold stratified CV on the
 * 80 %, refit on the 80 %, test on the 20 % (infer_us_per_sample: one batched predict of the
 * test rows, scaling included). */
StatusCode mtm_compare(MtmKind kind, const float *x, const int *y, int n, int d, int n_classes,
                       uint64_t seed, MtmCompareRow *row, Status *st);

typedef struct {
    double sigma;
    double mean[4], sd[4]; /* accuracy, weighted precision, recall, F1 */
} MtmNoiseRow;

/* The seed's table 2 for one classifier: for sigma = 0, 0.05, .., 0.5 (11 rows) and `runs`
 * runs each, Gaussian noise of that sigma added to the min-max scaled features, min-max
 * re-fitted after the noise, stratified 80/20 split, fit, weighted metrics on the test rows. */
StatusCode mtm_noise(MtmKind kind, const float *x, const int *y, int n, int d, int n_classes,
                     int runs, uint64_t seed, MtmNoiseRow *rows, Status *st);

/* ---------------------------------------------------------------- events (mtm_events.c) */

/* Ergonomic thresholds (degrees, shares of an element, seconds). */
typedef struct {
    double wrist_extension;      /* 165: a wrist angle beyond this is extended */
    double elbow_lo, elbow_hi;   /* 150..180: neutral elbow */
    double shoulder_lo, shoulder_hi; /* 0..20: neutral shoulder */
    double asymmetry;            /* 10: |left - right shoulder| beyond this */
    double hold_share;           /* 0.6: a risk needs this share of the element's frames */
    double neutral_check_s;      /* 5: the start-of-shift neutral-posture check */
    int min_frames;              /* 3: elements shorter than this are merged into a neighbour */
} MtmErgo;

MtmErgo mtm_ergo_default(void);
/* key = value lines ('#' comments); unknown keys and bad numbers are errors naming the line. */
StatusCode mtm_ergo_load(MtmErgo *e, const char *path, Status *st);

/* The risks of one motion element (thresholds in MtmErgo): a wrist angle below
 * wrist_extension (180 is a straight wrist), an elbow or shoulder angle outside its neutral
 * range, left/right shoulder angles differing by more than asymmetry. */
enum { MTM_RISK_L_WRIST, MTM_RISK_R_WRIST, MTM_RISK_L_ELBOW, MTM_RISK_R_ELBOW,
       MTM_RISK_L_SHOULDER, MTM_RISK_R_SHOULDER, MTM_RISK_ASYMMETRY, MTM_RISK_COUNT };

const char *mtm_risk_name(int risk); /* "l_wrist_extension", ..., "shoulder_asymmetry" */

/* One motion element as the summary keeps it. */
typedef struct {
    int code;                       /* class id; -1: a gap (frames the model could not use) */
    double t_start, t_end;          /* seconds; an element ends where the next frame begins */
    double held_s[MTM_RISK_COUNT];  /* seconds each flagged risk was held (0 when not flagged) */
} MtmElement;

/* The streaming event builder: frames go in one at a time, and each motion element (a run of
 * one code; runs shorter than min_frames join the element before them, or the one after at the
 * start or after a gap) is written as one JSON line, flushed, as soon as it can no longer
 * change — at most min_frames frames after it ends. */
typedef struct MtmEvents MtmEvents;

StatusCode mtm_events_new(MtmEvents **ev, const MtmModel *m, const MtmErgo *e, FILE *out,
                          Status *st);
/* One frame: its number, time (not decreasing), the POSE_ANGLES joint angles (NAN where
 * invalid), its class (-1: no valid features) and nearest training row (-1: none). */
StatusCode mtm_events_push(MtmEvents *ev, int frame, double time_s, const float *angles,
                           int pred, int neighbour, Status *st);
/* Writes what is still open; the last frame lasts as long as the interval before it. */
StatusCode mtm_events_finish(MtmEvents *ev, Status *st);
/* The elements written so far, gaps included, in time order. */
const MtmElement *mtm_events_elements(const MtmEvents *ev, int *n);
/* After finish: per-code counts and TMU, exposure seconds per risk, per work cycle (see
 * mtm_cycles; cycle_start = a class id or -1) with the mean per cycle, and the start-of-shift
 * neutral-posture check, as text. */
StatusCode mtm_events_summary(const MtmEvents *ev, int cycle_start, FILE *out, Status *st);
void mtm_events_free(MtmEvents *ev);

/* ---------------------------------------------------------------- cycles (mtm_cycles.c) */

typedef struct {
    int first, last;                /* element indices, inclusive */
    double t_start, t_end;          /* seconds */
    double tmu;                     /* the elements' TMU (gaps not counted) */
    double held_s[MTM_RISK_COUNT];  /* seconds held per flagged risk */
} MtmCycle;

/* Work cycles of an element sequence. start_code >= 0: a cycle begins at each element of that
 * class and runs up to the next one (the stretch after the last is not a whole cycle and is
 * left out); -1: the repetitions of the element pattern that repeats back to back over the
 * most elements (study_cycle_pattern; gaps break a repetition). *cycles is malloc'ed (NULL
 * when there are none). */
StatusCode mtm_cycles(const MtmElement *el, int n, int start_code, MtmCycle **cycles,
                      int *n_cycles, Status *st);

/* ---------------------------------------------------------------- data (mtm_data.c) */

/* An MTM-2 code: letters and digits starting with a letter (R30A, G1A, PA15) or a whole
 * number (a class id). */
int mtm_code_valid(const char *code);

/* A features CSV: a `label` column (codes or integers) and numeric feature columns. */
typedef struct {
    Features f;
    int *y;                    /* n class ids, 0..n_classes-1 in sorted label order */
    char **class_names;        /* n_classes (pointers into f's table; free the array only) */
    int n_classes;
    const char **feature_names; /* d (pointers into f's table) */
} MtmTable;

StatusCode mtm_table_load(MtmTable *t, const char *path, Status *st);
void mtm_table_free(MtmTable *t);

/* The angle features (POSE_ANGLE_FEATURES per frame, NAN where invalid) of every frame of a
 * keypoints CSV; frames with pose = 0 are all invalid. */
typedef struct {
    int n;
    int *frame;
    double *time_s;
    float *feat;
} MtmAngleFrames;

StatusCode mtm_keypoints_angles(const char *path, float min_visibility, MtmAngleFrames *a,
                                Status *st);
void mtm_angle_frames_free(MtmAngleFrames *a);
/* v as the keypoints CSV of `takt pose` holds it: printed with 6 decimals, read back as a
 * float (app/cmd_pose.c writes, io/csv.c reads), so that frames straight from the pose
 * pipeline give the same features as its CSV does. */
float mtm_as_in_csv(double v);
/* The POSE_ANGLE_FEATURES features of one frame of the pose pipeline (NAN where invalid, all
 * NAN without a person), from its landmarks rounded as in the CSV. */
void mtm_pose_features(const PoseFrameResult *r, float min_visibility, float *feat);
/* map[j] = the angle feature behind model feature j; an error naming the model's first
 * feature that is not a joint-angle feature (a model trained on other features). */
StatusCode mtm_feature_map(const MtmModel *m, const char *model_path, int *map, Status *st);

#endif
