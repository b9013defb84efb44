/* pose_source.c — the frame-by-frame pose pipeline that `takt pose`, `takt mtm run` and other
 * verbs share: finding the .tkw models, loading the detector and landmark networks, opening the
 * frame source and running the tracker, so that each caller sees one PoseFrameResult per frame
 * as the frames arrive. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct PoseSource {
    VideoSource *video;
    PoseNet *detector, *landmark;
    PoseTracker *tracker;
    Image frame;
    char model[8];
};

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

#define WEIGHTS_DIR_MAX 1024

static int has_detector(const char *dir)
{
    char probe[WEIGHTS_DIR_MAX + 32];
    snprintf(probe, sizeof probe, "%.1000s/pose_detection.tkw", dir);
    return file_exists(probe);
}

/* The folder holding pose_detection.tkw: given, $TAKT_WEIGHTS, ./weights, then weights/ one or
 * two levels above the binary (build/takt, build/clang/takt). */
static StatusCode find_weights(const char *given, char dir[WEIGHTS_DIR_MAX], Status *st)
{
    if (given) {
        snprintf(dir, WEIGHTS_DIR_MAX, "%.1000s", given);
        return has_detector(dir)
                   ? TK_OK
                   : status_fail(st, TK_EIO, "%s: no pose_detection.tkw in this folder", given);
    }
    const char *env = getenv("TAKT_WEIGHTS");
    if (env) {
        snprintf(dir, WEIGHTS_DIR_MAX, "%.1000s", env);
        if (has_detector(dir))
            return TK_OK;
    }
    snprintf(dir, WEIGHTS_DIR_MAX, "weights");
    if (has_detector(dir))
        return TK_OK;
    char exe[WEIGHTS_DIR_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        static const char *const up[] = {"..", "../.."};
        for (int i = 0; i < 2; i++) {
            snprintf(dir, WEIGHTS_DIR_MAX, "%.900s/%s/weights", exe, up[i]);
            if (has_detector(dir))
                return TK_OK;
        }
    }
    return status_fail(st, TK_EIO,
                       "weights/pose_detection.tkw: not found (give --weights DIR or set "
                       "TAKT_WEIGHTS; `make weights` builds the models)");
}

static StatusCode load_models(PoseSource *ps, const char *weights, Status *st)
{
    char dir[WEIGHTS_DIR_MAX], path[WEIGHTS_DIR_MAX + 64];
    StatusCode rc = find_weights(weights, dir, st);
    if (rc != TK_OK)
        return rc;
    snprintf(path, sizeof path, "%s/pose_detection.tkw", dir);
    if ((rc = posenet_load(&ps->detector, path, st)) != TK_OK)
        return rc;
    snprintf(path, sizeof path, "%s/pose_landmark_%s.tkw", dir, ps->model);
    if (!file_exists(path))
        return status_fail(st, TK_EIO, "%s: not found%s", path,
                           strcmp(ps->model, "heavy") ? ""
                                                      : " (the heavy model is made by `make weights`)");
    /* The segmentation mask (Identity_2) is not used: its decoder is not run. */
    static const char *const skip[] = {"Identity_2", NULL};
    return posenet_load_ex(&ps->landmark, path, skip, st);
}

static int parse_size(const char *text, int *w, int *h)
{
    char *end;
    long a = strtol(text, &end, 10);
    if (end == text || (*end != 'x' && *end != 'X'))
        return 0;
    const char *rest = end + 1;
    long b = strtol(rest, &end, 10);
    if (end == rest || *end || a <= 0 || b <= 0 || a > IMAGE_MAX_SIDE || b > IMAGE_MAX_SIDE)
        return 0;
    *w = (int)a;
    *h = (int)b;
    return 1;
}

int pose_source_option(const char *verb, const char *model_opt, int argc, char **argv, int *i,
                       PoseSourceOptions *o, int *matched)
{
    const char *opt = argv[*i], *v = NULL;
    *matched = 1;
    if (!strcmp(opt, "--no-smooth")) {
        o->no_smooth = 1;
        return EXIT_OK;
    }
    if (strcmp(opt, model_opt) && strcmp(opt, "--weights") && strcmp(opt, "--size") &&
        strcmp(opt, "--fps")) {
        *matched = 0;
        return EXIT_OK;
    }
    if (!(v = app_option_value(verb, argc, argv, i)))
        return EXIT_USAGE;
    if (!strcmp(opt, model_opt)) {
        if (strcmp(v, "lite") && strcmp(v, "full") && strcmp(v, "heavy"))
            return app_usage_error(verb, "%s '%s': expected lite, full or heavy", opt, v);
        o->model = v;
    } else if (!strcmp(opt, "--weights")) {
        o->weights = v;
    } else if (!strcmp(opt, "--size")) {
        if (!parse_size(v, &o->video.raw_width, &o->video.raw_height))
            return app_usage_error(verb, "--size '%s': expected WxH, e.g. 1280x720", v);
    } else {
        const int rc = app_parse_double(verb, "--fps", v, &o->video.fps);
        if (rc != EXIT_OK)
            return rc;
        if (!(o->video.fps > 0 && o->video.fps <= 1000))
            return app_usage_error(verb, "--fps '%s': expected a rate above 0 and up to 1000", v);
    }
    return EXIT_OK;
}

StatusCode pose_source_open(PoseSource **out, const char *input, const PoseSourceOptions *opts,
                            Status *st)
{
    *out = NULL;
    const char *model = opts->model ? opts->model : "full";
    if (strcmp(model, "lite") && strcmp(model, "full") && strcmp(model, "heavy"))
        return status_fail(st, TK_EINVAL, "model '%s': expected lite, full or heavy", model);
    PoseSource *ps = calloc(1, sizeof *ps);
    if (!ps)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", input);
    snprintf(ps->model, sizeof ps->model, "%s", model);
    StatusCode rc = video_open(&ps->video, input, &opts->video, st);
    if (rc == TK_OK)
        rc = load_models(ps, opts->weights, st);
    if (rc == TK_OK) {
        /* Only a sequence with a frame rate is a video: tracking and smoothing need time. */
        const VideoKind kind = video_kind(ps->video);
        const int video = kind == VIDEO_Y4M || kind == VIDEO_RAW ||
                          (kind == VIDEO_IMAGES && video_fps(ps->video) > 0);
        const PoseTrackerOptions track = {video, video && !opts->no_smooth};
        rc = pose_tracker_new(&ps->tracker, ps->detector, ps->landmark, &track, st);
    }
    if (rc != TK_OK) {
        pose_source_close(ps);
        return rc;
    }
    *out = ps;
    return TK_OK;
}

StatusCode pose_source_next(PoseSource *ps, PoseSourceFrame *f, VideoRead *what, Status *st)
{
    StatusCode rc = video_read(ps->video, &ps->frame, what, st);
    if (rc != TK_OK || *what != VIDEO_FRAME)
        return rc;
    const double fps = video_fps(ps->video);
    f->image = &ps->frame;
    f->index = video_frame_index(ps->video);
    f->time_s = fps > 0 ? (double)f->index / fps : 0.0;
    if ((rc = pose_tracker_process(ps->tracker, &ps->frame, f->time_s, &f->pose, st)) != TK_OK)
        app_status_prefix(st, video_frame_name(ps->video));
    return rc;
}

const VideoSource *pose_source_video(const PoseSource *ps) { return ps->video; }

PoseNet *pose_source_landmark_net(PoseSource *ps) { return ps->landmark; }

const char *pose_source_model(const PoseSource *ps) { return ps->model; }

void pose_source_close(PoseSource *ps)
{
    if (!ps)
        return;
    pose_tracker_free(ps->tracker);
    posenet_free(ps->detector);
    posenet_free(ps->landmark);
    video_close(ps->video);
    image_free(&ps->frame);
    free(ps);
}
