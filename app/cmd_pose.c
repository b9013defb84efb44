/* cmd_pose.c — `takt pose`: video or images in, MediaPipe's 33 keypoints per frame out as CSV. */
#include "app.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const VERB = "pose";

static void print_help(void)
{
    printf("usage: takt pose INPUT -o KEYPOINTS.csv [options]\n\n"
           "MediaPipe BlazePose (detector + 33 landmarks) on every frame of INPUT:\n"
           "  an image (PNG/JPEG), a folder of images or a quoted glob ('frames/*.png'),\n"
           "  a Y4M video (ffmpeg -i in.mp4 -f yuv4mpegpipe - | takt pose - -o k.csv),\n"
           "  raw RGB24 frames on stdin or in a file (with --size and --fps).\n\n"
           "CSV columns: frame,time_s,pose,x0,y0,z0,v0,...,x32,y32,z32,v32 (x, y normalised to the\n"
           "image, z in x's scale relative to the hips, v = visibility); every coordinate 0 and\n"
           "pose 0 when nobody is found. Unreadable frames are reported, skipped and counted.\n\n"
           "Video (Y4M, raw, images with --fps) is tracked: the detector runs only when the\n"
           "previous frame lost the person, and landmarks are smoothed (One-Euro, as MediaPipe).\n"
           "Single images and folders without --fps are processed one by one, unsmoothed.\n\n"
           "options:\n"
           "  -o FILE            the keypoints CSV (required)\n"
           "  --model M          lite, full (default) or heavy (heavy needs `make weights`)\n"
           "  --weights DIR      where the .tkw models are (default: $TAKT_WEIGHTS, ./weights,\n"
           "                     or weights/ beside the takt binary's build folder)\n"
           "  --overlay DIR      also write DIR/frame_NNNNNN.png with the skeleton drawn\n"
           "  --size WxH         raw RGB24 input of this frame size\n"
           "  --fps F            frame rate of raw input or of an image sequence\n"
           "  --no-smooth        no landmark smoothing on video\n"
           "  --threads N        threads (default: all, or OMP_NUM_THREADS)\n"
           "  --json             print the summary as one JSON object on stdout\n");
}

typedef struct {
    const char *input, *output, *model, *weights, *overlay;
    VideoOptions video;
    int smooth, threads, json;
} PoseArgs;

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

static int parse_args(int argc, char **argv, PoseArgs *a)
{
    memset(a, 0, sizeof *a);
    a->model = "full";
    a->smooth = 1;
    a->threads = 0;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        if (!strcmp(o, "-o") || !strcmp(o, "--model") || !strcmp(o, "--weights") ||
            !strcmp(o, "--overlay") || !strcmp(o, "--size") || !strcmp(o, "--fps") ||
            !strcmp(o, "--threads")) {
            if (!(v = app_option_value(VERB, argc, argv, &i)))
                return EXIT_USAGE;
        }
        if (!strcmp(o, "-o")) {
            a->output = v;
        } else if (!strcmp(o, "--model")) {
            if (strcmp(v, "lite") && strcmp(v, "full") && strcmp(v, "heavy"))
                return app_usage_error(VERB, "--model '%s': expected lite, full or heavy", v);
            a->model = v;
        } else if (!strcmp(o, "--weights")) {
            a->weights = v;
        } else if (!strcmp(o, "--overlay")) {
            a->overlay = v;
        } else if (!strcmp(o, "--size")) {
            if (!parse_size(v, &a->video.raw_width, &a->video.raw_height))
                return app_usage_error(VERB, "--size '%s': expected WxH, e.g. 1280x720", v);
        } else if (!strcmp(o, "--fps")) {
            if ((rc = app_parse_double(VERB, "--fps", v, &a->video.fps)) != EXIT_OK)
                return rc;
            if (!(a->video.fps > 0 && a->video.fps <= 1000))
                return app_usage_error(VERB, "--fps '%s': expected a rate above 0 and up to 1000", v);
        } else if (!strcmp(o, "--threads")) {
            if ((rc = app_parse_int(VERB, "--threads", v, 1, 1024, &a->threads)) != EXIT_OK)
                return rc;
        } else if (!strcmp(o, "--no-smooth")) {
            a->smooth = 0;
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
        } else if (o[0] == '-' && o[1] != '\0') {
            return app_usage_error(VERB, "unknown option '%s'", o);
        } else if (a->input) {
            return app_usage_error(VERB, "one INPUT only ('%s' and '%s')", a->input, o);
        } else {
            a->input = o;
        }
    }
    if (!a->input)
        return app_usage_error(VERB, "INPUT missing");
    if (!a->output)
        return app_usage_error(VERB, "-o KEYPOINTS.csv missing");
    if (a->video.raw_width > 0 && !(a->video.fps > 0))
        return app_usage_error(VERB, "raw RGB24 input (--size) needs --fps");
    return EXIT_OK;
}

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

/* The folder holding pose_detection.tkw: --weights, $TAKT_WEIGHTS, ./weights, then weights/
 * one or two levels above the binary (build/takt, build/clang/takt). */
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

static StatusCode load_models(const PoseArgs *a, PoseNet **det, PoseNet **lmk, Status *st)
{
    char dir[WEIGHTS_DIR_MAX], path[WEIGHTS_DIR_MAX + 64];
    StatusCode rc = find_weights(a->weights, dir, st);
    if (rc != TK_OK)
        return rc;
    snprintf(path, sizeof path, "%s/pose_detection.tkw", dir);
    if ((rc = posenet_load(det, path, st)) != TK_OK)
        return rc;
    snprintf(path, sizeof path, "%s/pose_landmark_%s.tkw", dir, a->model);
    if (!file_exists(path))
        return status_fail(st, TK_EIO, "%s: not found%s", path,
                           strcmp(a->model, "heavy") ? "" : " (the heavy model is made by `make weights`)");
    /* The segmentation mask (Identity_2) is not used: its decoder is not run. */
    static const char *const skip[] = {"Identity_2", NULL};
    return posenet_load_ex(lmk, path, skip, st);
}

static void write_row(FILE *fp, long frame, double time_s, const PoseFrameResult *r)
{
    fprintf(fp, "%ld,%.6f,%d", frame, time_s, r->found);
    for (int i = 0; i < POSE_LANDMARKS; i++) {
        if (r->found) {
            const PoseLandmark *l = &r->lm.landmarks[i];
            fprintf(fp, ",%.6f,%.6f,%.6f,%.6f", l->x, l->y, l->z, l->visibility);
        } else {
            fputs(",0,0,0,0", fp);
        }
    }
    fputc('\n', fp);
}

static void write_header(FILE *fp)
{
    fputs("frame,time_s,pose", fp);
    for (int i = 0; i < POSE_LANDMARKS; i++)
        fprintf(fp, ",x%d,y%d,z%d,v%d", i, i, i, i);
    fputc('\n', fp);
}

static StatusCode make_folder(const char *dir, Status *st)
{
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? TK_OK
                                   : status_fail(st, TK_EIO, "%s: exists and is not a folder", dir);
    if (mkdir(dir, 0777) != 0)
        return status_fail(st, TK_EIO, "%s: cannot create folder: %s", dir, strerror(errno));
    return TK_OK;
}

typedef struct {
    long frames, with_pose, bad, detector_runs;
    double seconds;
} PoseSummary;

/* Every frame of the source through the tracker into the open CSV. */
static StatusCode run_frames(const PoseArgs *a, VideoSource *src, PoseTracker *tracker,
                             FILE *csv, PoseSummary *sum, Status *st)
{
    const double fps = video_fps(src);
    const long total = video_frame_count(src);
    Image frame = {0}, canvas = {0};
    Progress progress;
    progress_start(&progress, "pose", total > 0 ? (double)total : 0.0, "frames");
    const double start = time_now();
    StatusCode rc = TK_OK;
    for (;;) {
        VideoRead what;
        if ((rc = video_read(src, &frame, &what, st)) != TK_OK || what == VIDEO_END)
            break;
        const long index = video_frame_index(src);
        if (what == VIDEO_BAD_FRAME) {
            sum->bad++;
            fprintf(stderr, "%stakt: warning: %s\n", progress.tty ? "\r\033[K" : "", st->msg);
            continue;
        }
        const double t = fps > 0 ? (double)index / fps : 0.0;
        PoseFrameResult r;
        if ((rc = pose_tracker_process(tracker, &frame, t, &r, st)) != TK_OK) {
            app_status_prefix(st, video_frame_name(src));
            break;
        }
        write_row(csv, index, t, &r);
        sum->frames++;
        sum->with_pose += r.found;
        sum->detector_runs += r.ran_detector;
        if (a->overlay) {
            char path[4200];
            snprintf(path, sizeof path, "%s/frame_%06ld.png", a->overlay, index);
            if ((rc = pose_overlay_write(path, &frame, &r, &canvas, st)) != TK_OK)
                break;
        }
        char note[64];
        snprintf(note, sizeof note, "%ld with a pose", sum->with_pose);
        progress_update(&progress, (double)(sum->frames + sum->bad), note);
    }
    sum->seconds = time_now() - start;
    char note[96];
    snprintf(note, sizeof note, "%ld frames, %.1f fps", sum->frames,
             sum->seconds > 0 ? sum->frames / sum->seconds : 0.0);
    progress_end(&progress, note);
    image_free(&frame);
    image_free(&canvas);
    return rc;
}

static void print_summary(const PoseArgs *a, const PoseSummary *s, int threads)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mb = (double)ru.ru_maxrss / 1024.0;
    const double fps = s->seconds > 0 ? s->frames / s->seconds : 0.0;
    if (a->json) {
        printf("{\"input\":\"%s\",\"output\":\"%s\",\"model\":\"%s\",\"threads\":%d,"
               "\"frames\":%ld,\"with_pose\":%ld,\"bad_frames\":%ld,\"detector_runs\":%ld,"
               "\"seconds\":%.3f,\"fps\":%.2f,\"peak_rss_mb\":%.1f}\n",
               a->input, a->output, a->model, threads, s->frames, s->with_pose, s->bad,
               s->detector_runs, s->seconds, fps, rss_mb);
    } else {
        fprintf(stderr,
                "takt pose: %ld frames, %ld with a pose, %ld bad frames skipped; %.1f fps "
                "(%s model, %d thread%s, detector on %ld frames, peak memory %.0f MB) -> %s\n",
                s->frames, s->with_pose, s->bad, fps, a->model, threads, threads == 1 ? "" : "s",
                s->detector_runs, rss_mb,
                a->output);
    }
}

int cmd_pose(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        print_help();
        return EXIT_OK;
    }
    PoseArgs a;
    int urc = parse_args(argc, argv, &a);
    if (urc != EXIT_OK)
        return urc;
    if (a.threads > 0)
        omp_set_num_threads(a.threads);
    const int threads = a.threads > 0 ? a.threads : threads_max();

    Status st = {0};
    VideoSource *src = NULL;
    PoseNet *det = NULL, *lmk = NULL;
    PoseTracker *tracker = NULL;
    AtomicFile out = {0};
    int opened = 0;
    StatusCode rc = video_open(&src, a.input, &a.video, &st);
    if (rc == TK_OK && a.overlay)
        rc = make_folder(a.overlay, &st);
    if (rc == TK_OK)
        rc = load_models(&a, &det, &lmk, &st);
    if (rc == TK_OK) {
        const VideoKind kind = video_kind(src);
        const int video = kind == VIDEO_Y4M || kind == VIDEO_RAW ||
                          (kind == VIDEO_IMAGES && video_fps(src) > 0);
        const PoseTrackerOptions opts = {video, video && a.smooth};
        rc = pose_tracker_new(&tracker, det, lmk, &opts, &st);
    }
    if (rc == TK_OK && (rc = atomic_open(&out, a.output, &st)) == TK_OK)
        opened = 1;
    PoseSummary sum = {0};
    if (rc == TK_OK) {
        write_header(out.fp);
        rc = run_frames(&a, src, tracker, out.fp, &sum, &st);
    }
    if (opened) {
        if (rc == TK_OK)
            rc = atomic_commit(&out, &st);
        else
            atomic_abort(&out);
    }
    pose_tracker_free(tracker);
    posenet_free(det);
    posenet_free(lmk);
    video_close(src);
    if (rc != TK_OK)
        return app_fail(&st);
    print_summary(&a, &sum, threads);
    return EXIT_OK;
}
