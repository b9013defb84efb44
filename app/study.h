/* study.h — the stages of `takt study`: keypoints -> latent windows -> clusters -> a label per
 * frame -> segments -> time study, evaluation and report. Each stage lives in its own
 * app/study_*.c; app/study.c strings them together and app/cmd_study.c parses the options. */
#ifndef TAKT_STUDY_H
#define TAKT_STUDY_H

#include "app.h"
#include "../nn/nn.h"

#include <stdio.h>

#define STUDY_MAX_K 32
#define STUDY_MAX_CYCLE 8

typedef enum { STUDY_KMEANS, STUDY_DBSCAN, STUDY_MEANSHIFT, STUDY_HIERARCHICAL } StudyMethod;
/* What the windows hold before the min-max scaling: the coordinates as read, or body-centred
 * (study_frames_body_normalise). */
typedef enum { STUDY_NORMALISE_BODY, STUDY_NORMALISE_MINMAX } StudyNormalise;

typedef struct {
    const char *input, *outdir;
    const char *names_path;  /* cluster id -> name, one per line (NULL: "action k") */
    const char *labels_path; /* per-frame truth (NULL: the input's label column if any) */
    const char *ae_path;     /* a trained SeqAE to reuse (NULL: train one) */
    StudyMethod method;
    StudyNormalise normalise; /* the same for the autoencoder and the baselines */
    int normalise_given;      /* --normalise was given: with --ae it must match the model */
    int k;                   /* clusters; 0 = the elbow's choice */
    int epochs;              /* 0 = study_train_epochs decides */
    int stride;              /* frames between window starts; 0 = automatic */
    int train_windows;       /* training windows cap: longer inputs train on a sample */
    int xy;                  /* x, y only of 3-D keypoints */
    int augment;             /* also train on speed copies (study_augment_speeds) */
    int decoder_input;       /* SeqAEDecoderInput of the autoencoder trained (not with --ae) */
    int fixed_decoder;       /* its decoder GRU kept at the initial weights */
    int refine_idec;         /* fine-tune the trained autoencoder with IDEC (study_refine_idec) */
    double idec_gamma;       /* its clustering loss weight; 0 with refine_idec = IDEC's 0.1 */
    int idec_steps;          /* its optimiser steps at most; 0 = idec_default_config's */
    int threads;             /* 0 = OpenMP's default */
    int quiet;               /* no summary table on stdout (tests) */
    double fps;              /* 0 = from the input (time_s column) or 30 */
    double min_duration;     /* seconds; shorter segments join a neighbour */
    uint64_t seed;
} StudyOptions;

/* Rows [start, end) of the input, one action (-1 = absent: nobody in view). */
typedef struct {
    int start, end;
    int label;
    double confidence; /* mean share of the window votes its frames' label got */
} StudySegment;

/* The input's frames (app/study_frames.c): one streaming pass copies the coordinates to an
 * unlinked scratch file ($TMPDIR, else /tmp) and keeps the per-frame bookkeeping in meta
 * (meta.x = NULL); the stages read back the rows they need, so memory does not grow with the
 * recording beyond a few bytes per frame. */
typedef struct {
    Keypoints meta;
    int fd;
} StudyFrames;

StatusCode study_frames_open(StudyFrames *f, const char *path, int xy, Status *st);
void study_frames_close(StudyFrames *f);
/* Rows [first, first + count) of the scratch file replaced by rows [count x features]
 * (body normalisation rewrites the frames in place). */
StatusCode study_frames_write_rows(StudyFrames *f, int first, int count, const float *rows,
                                   Status *st);
/* Rows [first, first + count) into out [count x features], scaled by scale (NULL: as read). */
StatusCode study_frames_rows(const StudyFrames *f, int first, int count, const MinMax *scale,
                             float *out, Status *st);
/* The window of len frames at first, scaled, into out [len x features]; past the end of its
 * sequence it repeats the sequence's last frame (window_frames). */
StatusCode study_frames_window(const StudyFrames *f, int first, int len, const MinMax *scale,
                               float *out, Status *st);
/* Every frame in memory (k is the caller's to free). */
StatusCode study_frames_load(const StudyFrames *f, Keypoints *k, Status *st);
/* Min-max scaling fitted on rows [begin, end), read in chunks. */
StatusCode study_frames_minmax(const StudyFrames *f, int begin, int end, MinMax *s, Status *st);
/* Body-centred coordinates (app/study_features.c), rewritten in place in the scratch file in
 * two streaming passes: every present frame's detected joints (a joint whose coordinates are
 * all 0 is undetected and stays so) minus their centroid, divided by the median, over the
 * frame's sequence, of the frames' RMS joint distance from their centroid. dims: coordinates
 * per joint (2 or 3). */
StatusCode study_frames_body_normalise(StudyFrames *f, int dims, Status *st);

/* The training sample of a long input: train_blocks blocks of block_len consecutive frames
 * drawn from the first 70 % of the frames and val_blocks from the next 10 %, laid out as a
 * Keypoints whose own 70/10/20 split falls on the block edges (its last 20 % empty frames). */
typedef struct {
    int cap;                     /* training windows asked for at most */
    int sampled;                 /* 0: the input is no larger than the sample, trained whole */
    int block_len, train_blocks, val_blocks, frames;
    int windows_per_block;       /* at the training stride */
} StudySample;

void study_sample_plan(int n_frames, int cap, int len, int stride, StudySample *plan);
/* Draws the blocks (seeded) and reads them; sample is the caller's to free. */
StatusCode study_frames_sample(const StudyFrames *f, const StudySample *plan, uint64_t seed,
                               Keypoints *sample, Status *st);

/* The training frames with copies at other speeds (app/study_augment.c): every sequence (one
 * of 480 frames or more in pieces of 240, which get negative ids) followed by itself resampled
 * to 0.75x and 1.33x its speed, each under an id of its own. out is the caller's to free. */
StatusCode study_augment_speeds(const Keypoints *in, Keypoints *out, Status *st);

/* --refine idec (app/study_idec.c): k-means (cfg->k, cfg->seed) on the latent vectors of the
 * windows of data's rows [0, end) at stride (data unscaled, scaled here with scale) gives the
 * centres, then idec_fit fine-tunes m and them; centers [k x latent] get the refined centres,
 * *n_windows the windows refined on. */
StatusCode study_refine_idec(SeqAE *m, const Keypoints *data, int end, int stride,
                             const MinMax *scale, const IdecConfig *cfg, float *centers,
                             int *n_windows, IdecResult *res, Status *st);

/* Training epochs when the user gives none (app/study_budget.c): enough for about 3,000
 * optimiser steps over the windows of data's training block (its first 70 %) at cfg's stride
 * and batch; early stopping may end training sooner. */
StatusCode study_train_epochs(const Keypoints *data, const TrainConfig *cfg, int *epochs,
                              Status *st);

/* Every window [starts[i], starts[i] + len) votes win_label[i] (< 0 = no vote) for its frames
 * of its own sequence (fr->seq: a padded window of a short sequence votes for no other); a
 * frame takes the label with most votes (lowest on a tie), confidence = that share; absent
 * frames (fr->present) get -1; present frames no window covers take the nearest voted frame's
 * label with confidence 0. starts ascending; votes: caller's scratch of k ints; fr->x unused. */
void study_vote_frames(const int *starts, int n_windows, int len, const int *win_label, int k,
                       const Keypoints *fr, int *votes, int *frame_label, float *confidence);

/* Runs of equal frame labels, then every run shorter than min_frames (absent ones included)
 * joins the segment before it (the one after for the first), and frame_label is rewritten to
 * match. *segs is malloc'ed. */
StatusCode study_segments(int *frame_label, const float *confidence, int n_frames,
                          int min_frames, StudySegment **segs, int *n_segs, Status *st);

typedef struct {
    int occurrences;
    double total, mean, median, min, max, stdev, share; /* seconds; share of the input */
} StudyActionStats;

typedef struct {
    int length;                       /* actions in the cycle, 0 when none repeats */
    int pattern[STUDY_MAX_CYCLE];
    int count;                        /* occurrences */
    double mean, median, min, max, stdev; /* cycle time: first action start to last end */
} StudyCycle;

/* stats[k]; *absent = seconds nobody was in view. dt = seconds per frame. */
void study_action_stats(const StudySegment *segs, int n_segs, int k, double dt, int n_frames,
                        StudyActionStats *stats, double *absent);
/* The pattern of 2..STUDY_MAX_CYCLE actions whose repetitions cover the most segments (absent
 * segments break a repetition; see study_cycle_pattern). */
void study_find_cycle(const StudySegment *segs, int n_segs, double dt, StudyCycle *c);
/* The same search on any label sequence (negative labels break a repetition; `takt mtm` runs
 * it on motion elements): the pattern (STUDY_MAX_CYCLE entries) whose non-overlapping
 * repetitions, scanning left to right and stepping over stray labels between them, cover the
 * most labels; a pattern whose end repeats its start ("0 1 2 0") is never chosen, since it
 * cannot follow itself. Returns its length, 0 when nothing repeats.
 * starts (n entries, may be NULL) gets the index where each repetition begins, *count their
 * number. */
int study_cycle_pattern(const int *labels, int n, int *pattern, int *starts, int *count);

/* Per-frame truth of the input rows: from a CSV with a label column and frame (and optionally
 * seq_id) columns, one row per input row in the same order (checked). ids[n_frames] are
 * indices into *names (sorted); absent with no truth is impossible: every row has one. */
StatusCode study_read_truth(const char *path, const Keypoints *k, int *ids, char ***names,
                            int *n_names, Status *st);
void study_free_names(char **names, int n);

typedef struct {
    double accuracy, ari, nmi;
    int n_classes, k;
    double *precision, *recall, *f1; /* n_classes each, owned */
    long *support;
    int *cluster_to_class;           /* k: the Hungarian match, -1 = none */
    long *confusion;                 /* n_classes x (k + 1): last column = absent */
} StudyScores;

/* pred: -1 = absent; clusters 0..k-1. */
StatusCode study_score(const int *truth, int n_classes, const int *pred, int k, int n,
                       StudyScores *s, Status *st);
void study_scores_free(StudyScores *s);

/* The seed's protocol for an unseen recording: k-means on the windows of the first 80 % of the
 * frames, the last 20 % assigned to the nearest centre and matched with the first part's
 * Hungarian mapping; an operation (a run of one true label) counts as recognised when most of
 * its frames carry its label. */
typedef struct {
    int operations, recognised;
    double frame_accuracy;
} StudyHoldout;

StatusCode study_holdout(const float *z, int n_windows, int d, const int *starts, int len,
                         const Keypoints *k, const int *truth, int n_classes, int n_clusters,
                         int min_frames, uint64_t seed, StudyHoldout *h, Status *st);

/* K-means (same k) on the raw scaled windows (frames flattened), or on their PCA with
 * n_components: the baselines. frame_label[n_frames] gets the voted, segmented labels. */
StatusCode study_baseline(const StudyFrames *frames, const MinMax *scale, const int *starts,
                          int n_windows, int len, int n_clusters, int pca_components,
                          int min_frames, uint64_t seed, int *frame_label, Status *st);

/* Per action, rows of skeletons from the windows nearest its centre in latent space (the
 * scaling undone, so figures keep the input's proportions), as one PNG. dims: coordinates per
 * joint (2 or 3; x, y are drawn). */
StatusCode study_strips(const char *path, const StudyFrames *frames, const MinMax *scale,
                        int dims, const float *z, int d, const int *starts, int n_windows,
                        int len, const int *win_label, int k, const char *const *names,
                        Status *st);

/* Everything the report says: filled by study_run, written by study_report.c. */
typedef struct {
    const StudyOptions *opt;
    char input_sha256[65], labels_sha256[65], ae_sha256[65], names_sha256[65];
    const char *method_name;
    int n_frames, n_features, dims, n_windows, window_len, stride, k, k_from_elbow;
    double fps, dt;
    StudyNormalise normalise; /* o->normalise, or the model's with --ae */
    int epochs;               /* training epochs planned: --epochs or the automatic budget */
    int epochs_run;           /* 0 with --ae */
    StudySample sample;       /* what training read (sampled = 0: every frame) */
    int train_windows;        /* training windows per epoch */
    int augmented;            /* training saw speed copies: --augment, input trained whole */
    int decoder_input;        /* SeqAEDecoderInput: o->decoder_input, or the model's with --ae */
    int fixed_decoder;        /* the same for o->fixed_decoder */
    double best_loss;         /* validation (or training) reconstruction MSE, NAN with --ae */
    int refined;              /* --refine idec ran: labels are argmax Q of its centres */
    IdecConfig idec;
    IdecResult idec_result;
    int idec_windows;         /* windows it was refined on */
    int elbow_kmax;
    double elbow_inertia[STUDY_MAX_K];
    char **names;             /* k action names */
    StudySegment *segs;
    int n_segs;
    StudyActionStats *stats;  /* k */
    double absent;
    StudyCycle cycle;
    int evaluated;
    char **class_names;
    int n_classes;
    StudyScores scores, raw_scores, pca_scores;
    StudyScores refine_kmeans_scores; /* refined: k-means on the refined latents instead */
    StudyScores unrefined_scores;     /* refined: the study's k-means before refinement */
    StudyHoldout holdout;
    int pca_components;
} StudyResult;

StatusCode study_write_report(const char *path, const StudyResult *r, Status *st);
StatusCode study_write_segments(const char *path, const StudyResult *r, Status *st);
void study_print_summary(FILE *out, const StudyResult *r);

/* The whole study of o->input into o->outdir; every output file is written atomically, and
 * none before the input has been read and checked. */
StatusCode study_run(const StudyOptions *o, Status *st);

#endif
