/* app — the `takt` command line: verbs, their options, and everything that prints or exits.
 * Each verb is a function taking argc/argv after the verb and returning the exit code:
 * 0 ok, 1 runtime error, 2 usage error. Errors go to stderr as "takt: <file>: <what>". */
#ifndef TAKT_APP_H
#define TAKT_APP_H

#include <signal.h>

#include "../core/core.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Prints "takt: <msg>" to stderr and returns EXIT_RUNTIME (or EXIT_USAGE for TK_EINVAL from
 * argument checking, decided by the caller). */
int app_fail(const Status *st);
int app_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help. */
int app_wants_help(int argc, char **argv);

/* Progress of a long stage: on a terminal a bar redrawn at most 10 times a second with rate
 * and ETA; otherwise (CI, pipes) one line when the stage starts and one when it ends, so logs
 * stay short. Writes to stderr. */
typedef struct {
    char label[64];
    double total;      /* units of work, 0 when unknown */
    const char *unit;  /* "frames", "epochs", ... */
    double start, last_draw;
    int tty;
} Progress;

void progress_start(Progress *p, const char *label, double total, const char *unit);
/* done = units finished so far; note = short extra text (loss, fps), may be NULL. */
void progress_update(Progress *p, double done, const char *note);
void progress_end(Progress *p, const char *note);

/* Makes SIGINT/SIGTERM set the returned flag instead of killing the process, so that a long
 * job can finish its step and write a checkpoint; a second signal takes the default action. */
const volatile sig_atomic_t *app_stop_on_signals(void);

int cmd_version(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_tsne(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_pose(int argc, char **argv);
int cmd_mtm(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_study(int argc, char **argv);

/* ---------------------------------------------------------------- option values (args.c)
 * Each returns EXIT_OK, or prints a usage error naming the option and returns EXIT_USAGE. */

/* The value after option argv[*i] (advancing *i), or NULL after a usage error. */
const char *app_option_value(const char *verb, int argc, char **argv, int *i);
int app_parse_int(const char *verb, const char *opt, const char *text, long lo, long hi,
                  int *out);
int app_parse_double(const char *verb, const char *opt, const char *text, double *out);
int app_parse_seed(const char *verb, const char *text, uint64_t *out);
/* Puts "file: " before st's message (numerics do not know file names); returns st->code. */
StatusCode app_status_prefix(Status *st, const char *file);

/* ---------------------------------------------------------------- feature tables (features.c) */

#include "../io/io.h"

/* A numeric CSV as n x d features: every column but label, seq_id, frame and time_s (when
 * present) and those in ignore ("a,b", may be NULL; each must exist), which are read as
 * text. */
typedef struct {
    CsvTable table;
    float *x;       /* n x d, owned */
    int n, d;
    int *columns;   /* d: the table column of each feature */
    int label_col;  /* the text column "label", or -1 */
} Features;

StatusCode features_load(Features *f, const char *path, const char *ignore, Status *st);
void features_free(Features *f);
/* ids[i] = index of strings[i] among the distinct labels, sorted (numerically when all are
 * integers); *names: the distinct labels (pointers into strings; free the array only). */
StatusCode labels_to_ids(char **strings, int n, int *ids, char ***names, int *n_names,
                         Status *st);

/* t-SNE of x (n x d) into embedding (n x 2, caller's), with progress (n_iter 0 = the
 * default 1000); and its scatter PNG coloured by labels (NULL = one colour) with legend names
 * (may be NULL): the steps `takt tsne` and `takt cluster --plot` share. */
StatusCode app_tsne(const float *x, int n, int d, double perplexity, int exact, int n_iter,
                    uint64_t seed, float *embedding, double *kl, Status *st);
StatusCode app_tsne_plot(const char *png, const char *title, const float *embedding, int n,
                         const int *labels, const char *const *names, int n_names, Status *st);

/* ---------------------------------------------------------------- pose overlay (pose_overlay.c) */

#include "../pose/pose.h"

/* frame with r's skeleton, landmarks and ROI drawn, as a PNG at path; canvas is scratch. */
StatusCode pose_overlay_write(const char *path, const Image *frame, const PoseFrameResult *r,
                              Image *canvas, Status *st);

/* ---------------------------------------------------------------- pose source (pose_source.c)
 *
 * Every input `takt pose` accepts (image, folder or glob of images, Y4M file or stdin, raw
 * RGB24) through BlazePose frame by frame, as the frames arrive. Sequences with a frame rate
 * are tracked (the detector runs only when the person was lost) and smoothed. */

typedef struct {
    const char *model;   /* "lite", "full" (also NULL) or "heavy" */
    const char *weights; /* folder of the .tkw models; NULL: $TAKT_WEIGHTS, ./weights, or
                            weights/ beside the takt binary's build folder */
    VideoOptions video;  /* raw frame size, frame rate of raw input or of an image sequence */
    int no_smooth;       /* 1: no landmark smoothing on video */
} PoseSourceOptions;

typedef struct {
    const Image *image;   /* the decoded frame; valid until the next pose_source_next */
    long index;           /* 0-based frame number in the input (bad frames count) */
    double time_s;        /* index / fps; 0 without a frame rate */
    PoseFrameResult pose;
} PoseSourceFrame;

/* Parses argv[*i] when it is one of the source's options (model_opt, e.g. "--model", then
 * --weights DIR, --size WxH, --fps F, --no-smooth; *matched = 1, *i advanced past a value):
 * EXIT_OK, or EXIT_USAGE after printing the usage error. */
int pose_source_option(const char *verb, const char *model_opt, int argc, char **argv, int *i,
                       PoseSourceOptions *o, int *matched);

typedef struct PoseSource PoseSource;

StatusCode pose_source_open(PoseSource **ps, const char *input, const PoseSourceOptions *opts,
                            Status *st);
/* The next frame and its pose (*what = VIDEO_FRAME), the end (VIDEO_END), or a frame that
 * could not be read (VIDEO_BAD_FRAME, reason in st->msg, TK_OK returned: the caller warns and
 * goes on). f is filled for VIDEO_FRAME only. */
StatusCode pose_source_next(PoseSource *ps, PoseSourceFrame *f, VideoRead *what, Status *st);
/* The frame source (fps, frame count, bad frames, current file name). */
const VideoSource *pose_source_video(const PoseSource *ps);
/* The landmark network, for callers that want intermediate tensors: they hold the activations
 * of the last frame it ran on (every frame with pose.found runs it). */
PoseNet *pose_source_landmark_net(PoseSource *ps);
const char *pose_source_model(const PoseSource *ps);
void pose_source_close(PoseSource *ps);

#endif
