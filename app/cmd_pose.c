/* cmd_pose.c — `takt pose`: video or images in, MediaPipe's 33 keypoints per frame out as CSV. */
#include "app.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *const VERB = "pose";

static void print_help(void)
{
    printf("usage: takt pose INPUT -o KEYPOINTS.csv [options]\n\n"
           "MediaPipe BlazePose (detector + 33 landmarks) on every frame of INPUT:\n"
           "  an image (PNG/JPEG), a folder of images or a quoted glob ('frames/*.png'),\n"
           "  a video file (MP4, MKV/WebM, AVI, ...: decoded by ffmpeg, which must be installed),\n"
           "  a Y4M video, also on stdin (ffmpeg -i in.mp4 -f yuv4mpegpipe - | takt pose - ...),\n"
           "  raw RGB24 frames on stdin or in a file (with --size and --fps).\n\n"
           "CSV columns: frame,time_s,pose,x0,y0,z0,v0,...,x32,y32,z32,v32 (x, y normalised to the\n"
           "image, z in x's scale relative to the hips, v = visibility); every coordinate 0 and\n"
           "pose 0 when nobody is found. Unreadable frames are reported, skipped and counted;\n"
           "an input none of whose frames can be read is an error, and no CSV is written.\n\n"
           "Video (files, Y4M, raw, images with --fps) is tracked: the detector runs only when the\n"
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
    const char *input, *output, *overlay;
    PoseSourceOptions source;
    int threads, json;
} PoseArgs;

static int parse_args(int argc, char **argv, PoseArgs *a)
{
    memset(a, 0, sizeof *a);
    a->source.model = "full";
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        int matched;
        if ((rc = pose_source_option(VERB, "--model", argc, argv, &i, &a->source, &matched)) !=
            EXIT_OK)
            return rc;
        if (matched)
            continue;
        if (!strcmp(o, "-o") || !strcmp(o, "--overlay") || !strcmp(o, "--threads")) {
            if (!(v = app_option_value(VERB, argc, argv, &i)))
                return EXIT_USAGE;
        }
        if (!strcmp(o, "-o")) {
            a->output = v;
        } else if (!strcmp(o, "--overlay")) {
            a->overlay = v;
        } else if (!strcmp(o, "--threads")) {
            if ((rc = app_parse_int(VERB, "--threads", v, 1, 1024, &a->threads)) != EXIT_OK)
                return rc;
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
    if (a->source.video.raw_width > 0 && !(a->source.video.fps > 0))
        return app_usage_error(VERB, "raw RGB24 input (--size) needs --fps");
    return EXIT_OK;
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

/* Every frame of the source through the pose pipeline into the open CSV. */
static StatusCode run_frames(const PoseArgs *a, PoseSource *src, FILE *csv, PoseSummary *sum,
                             Status *st)
{
    const long total = video_frame_count(pose_source_video(src));
    Image canvas = {0};
    Progress progress;
    progress_start(&progress, "pose", total > 0 ? (double)total : 0.0, "frames");
    const double start = time_now();
    StatusCode rc = TK_OK;
    for (;;) {
        VideoRead what;
        PoseSourceFrame f;
        if ((rc = pose_source_next(src, &f, &what, st)) != TK_OK || what == VIDEO_END)
            break;
        if (what == VIDEO_BAD_FRAME) {
            sum->bad++;
            fprintf(stderr, "%stakt: warning: %s\n", progress.tty ? "\r\033[K" : "", st->msg);
            continue;
        }
        write_row(csv, f.index, f.time_s, &f.pose);
        sum->frames++;
        sum->with_pose += f.pose.found;
        sum->detector_runs += f.pose.ran_detector;
        if (a->overlay) {
            char path[4200];
            snprintf(path, sizeof path, "%s/frame_%06ld.png", a->overlay, f.index);
            if ((rc = pose_overlay_write(path, f.image, &f.pose, &canvas, st)) != TK_OK)
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
               a->input, a->output, a->source.model, threads, s->frames, s->with_pose, s->bad,
               s->detector_runs, s->seconds, fps, rss_mb);
    } else {
        fprintf(stderr,
                "takt pose: %ld frames, %ld with a pose, %ld bad frames skipped; %.1f fps "
                "(%s model, %d thread%s, detector on %ld frames, peak memory %.0f MB) -> %s\n",
                s->frames, s->with_pose, s->bad, fps, a->source.model, threads, threads == 1 ? "" : "s",
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
    PoseSource *src = NULL;
    AtomicFile out = {0};
    int opened = 0;
    StatusCode rc = pose_source_open(&src, a.input, &a.source, &st);
    if (rc == TK_OK && a.overlay)
        rc = make_folder(a.overlay, &st);
    if (rc == TK_OK && (rc = atomic_open(&out, a.output, &st)) == TK_OK)
        opened = 1;
    PoseSummary sum = {0};
    if (rc == TK_OK) {
        write_header(out.fp);
        rc = run_frames(&a, src, out.fp, &sum, &st);
    }
    /* A CSV of no rows would look like a video in which nothing happened. */
    if (rc == TK_OK && sum.frames == 0 && sum.bad > 0)
        rc = status_fail(&st, TK_EFORMAT, "%s: none of its %ld frames could be read",
                         strcmp(a.input, "-") ? a.input : "standard input", sum.bad);
    if (opened) {
        if (rc == TK_OK)
            rc = atomic_commit(&out, &st);
        else
            atomic_abort(&out);
    }
    pose_source_close(src);
    if (rc != TK_OK)
        return app_fail(&st);
    print_summary(&a, &sum, threads);
    return EXIT_OK;
}
