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

typedef struct {
    const char *input, *outdir;
    const char *names_path;  /* cluster id -> name, one per line (NULL: "action k") */
    const char *labels_path; /* per-frame truth (NULL: the input's label column if any) */
    const char *ae_path;     /* a trained SeqAE to reuse (NULL: train one) */
    StudyMethod method;
    int k;                   /* clusters; 0 = the elbow's choice */
    int epochs;
    int stride;              /* frames between window starts; 0 = automatic */
    int xy;                  /* x, y only of 3-D keypoints */
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

/* Every window [starts[i], starts[i] + len) votes win_label[i] (< 0 = no vote) for its frames;
 * a frame takes the label with most votes (lowest on a tie), confidence = that share; absent
 * frames get -1; present frames no window covers take the nearest voted frame's label with
 * confidence 0. votes: caller's scratch of n_frames * k ints. */
void study_vote_frames(const int *starts, int n_windows, int len, const int *win_label, int k,
                       const unsigned char *present, int n_frames, int *votes, int *frame_label,
                       float *confidence);

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
/* The pattern of 2..STUDY_MAX_CYCLE actions whose back-to-back repetitions cover the most
 * segments (absent segments break a repetition). */
void study_find_cycle(const StudySegment *segs, int n_segs, double dt, StudyCycle *c);

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
StatusCode study_baseline(const Keypoints *k, const int *starts, int n_windows, int len,
                          int n_clusters, int pca_components, int min_frames, uint64_t seed,
                          int *frame_label, Status *st);

/* Per action, rows of skeletons from the windows nearest its centre in latent space (the
 * scaling undone, so figures keep the input's proportions), as one PNG. dims: coordinates per
 * joint (2 or 3; x, y are drawn). */
StatusCode study_strips(const char *path, const Keypoints *scaled, const MinMax *scale,
                        int dims, const float *z, int d, const int *starts, int n_windows,
                        int len, const int *win_label, int k, const char *const *names,
                        Status *st);

/* Everything the report says: filled by study_run, written by study_report.c. */
typedef struct {
    const StudyOptions *opt;
    char input_sha256[65], labels_sha256[65], ae_sha256[65];
    const char *method_name;
    int n_frames, n_features, dims, n_windows, window_len, stride, k, k_from_elbow;
    double fps, dt;
    int epochs_run;           /* 0 with --ae */
    double best_loss;         /* validation (or training) reconstruction MSE, NAN with --ae */
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
