/* video.c — frame sources: one image, a folder or glob of images, Y4M, raw RGB24 (see io.h).
 *
 * Y4M follows the format as ffmpeg's yuv4mpegpipe muxer writes it: a header line
 * "YUV4MPEG2 W.. H.. F.. I.. A.. C.. X.." then, per frame, a line starting with "FRAME" and the
 * planes Y, U, V (8 bits). The YUV -> RGB conversion reproduces what `ffmpeg -pix_fmt rgb24`
 * gives by default: BT.601 limited-range matrix (ITU-R BT.601: Kr = 0.299, Kb = 0.114, luma
 * 16..235, chroma 16..240) and chroma upsampled with swscale's default bicubic filter
 * (Mitchell-Netravali B = 0, C = 0.6, i.e. the Keys cubic with a = -0.6) at centred chroma
 * positions. Measured on video/pose_squats.mp4: every value within 1 of ffmpeg's rgb24 output,
 * 99.8 % identical over its 65 frames (ffmpeg works in fixed point). */
#include "io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define Y4M_MAGIC "YUV4MPEG2 "
#define Y4M_LINE_MAX 1024

typedef enum { CHROMA_420, CHROMA_444, CHROMA_MONO } Chroma;

struct VideoSource {
    VideoKind kind;
    char name[4096];     /* the input as given ("-" shown as "stdin") */
    char frame_name[4096];
    FILE *fp;
    int owns_fp;
    int ended;
    int header_consumed; /* a resync already read the next frame's "FRAME" line */
    double fps;
    long count, index, bad;
    /* image sequences */
    char **files;
    long n_files, next_file;
    /* Y4M and raw */
    int width, height;
    Chroma chroma;
    size_t frame_bytes;
    unsigned char *frame_buf;
    float *chroma_rows; /* per thread, two padded rows (U, V) of vertically interpolated chroma */
    int threads;        /* the thread count chroma_rows was sized for */
    pid_t decoder;      /* ffmpeg decoding a container to Y4M on fp (0 = none) */
};

static int has_image_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    char ext[8];
    size_t n = strlen(dot + 1);
    if (n == 0 || n >= sizeof ext)
        return 0;
    for (size_t i = 0; i <= n; i++)
        ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    return !strcmp(ext, "png") || !strcmp(ext, "jpg") || !strcmp(ext, "jpeg");
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static StatusCode add_file(VideoSource *v, long *cap, const char *path, Status *st)
{
    if (v->n_files == *cap) {
        long ncap = *cap ? *cap * 2 : 64;
        char **p = realloc(v->files, (size_t)ncap * sizeof *p);
        if (!p)
            return status_fail(st, TK_ENOMEM, "%s: out of memory listing files", v->name);
        v->files = p;
        *cap = ncap;
    }
    if (!(v->files[v->n_files] = strdup(path)))
        return status_fail(st, TK_ENOMEM, "%s: out of memory listing files", v->name);
    v->n_files++;
    return TK_OK;
}

static StatusCode list_folder(VideoSource *v, const char *dir, Status *st)
{
    DIR *d = opendir(dir);
    if (!d)
        return status_fail(st, TK_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
    long cap = 0;
    StatusCode rc = TK_OK;
    const struct dirent *e;
    char path[4096];
    while (rc == TK_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_image_extension(e->d_name))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            rc = status_fail(st, TK_EINVAL, "%s: path too long", dir);
        else
            rc = add_file(v, &cap, path, st);
    }
    closedir(d);
    if (rc == TK_OK && v->n_files == 0)
        rc = status_fail(st, TK_EINVAL, "%s: folder holds no .png/.jpg/.jpeg images", dir);
    return rc;
}

static StatusCode list_glob(VideoSource *v, const char *pattern, Status *st)
{
    glob_t g;
    int r = glob(pattern, 0, NULL, &g);
    if (r == GLOB_NOMATCH)
        return status_fail(st, TK_EINVAL, "%s: pattern matches no files", pattern);
    if (r != 0)
        return status_fail(st, TK_EIO, "%s: cannot expand pattern", pattern);
    long cap = 0;
    StatusCode rc = TK_OK;
    for (size_t i = 0; rc == TK_OK && i < g.gl_pathc; i++)
        rc = add_file(v, &cap, g.gl_pathv[i], st);
    globfree(&g);
    return rc;
}

/* Reads a line (without the '\n') of at most size-1 bytes; returns its length, -1 at EOF before
 * any byte, -2 when the line is longer than the buffer. */
static long read_line(FILE *fp, char *buf, size_t size)
{
    size_t n = 0;
    int c;
    while ((c = getc(fp)) != EOF && c != '\n') {
        if (n + 1 >= size)
            return -2;
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    if (c == EOF && n == 0)
        return -1;
    return (long)n;
}

static StatusCode parse_y4m_header(VideoSource *v, Status *st)
{
    char line[Y4M_LINE_MAX];
    long n = read_line(v->fp, line, sizeof line);
    if (n < 0)
        return status_fail(st, TK_EFORMAT, "%s: Y4M header line missing or too long", v->name);
    int w = 0, h = 0;
    long fn = 0, fd = 0;
    char chroma[32] = "420jpeg";
    for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
        char *end = NULL;
        switch (tok[0]) {
        case 'W':
            w = (int)strtol(tok + 1, &end, 10);
            break;
        case 'H':
            h = (int)strtol(tok + 1, &end, 10);
            break;
        case 'F':
            if (sscanf(tok + 1, "%ld:%ld", &fn, &fd) != 2 || fn <= 0 || fd <= 0)
                return status_fail(st, TK_EFORMAT, "%s: Y4M header: bad frame rate '%s'",
                                   v->name, tok);
            break;
        case 'C':
            snprintf(chroma, sizeof chroma, "%s", tok + 1);
            break;
        default: /* I (interlacing), A (aspect), X (comments) do not change the pixels */
            break;
        }
        if (end && *end != '\0')
            return status_fail(st, TK_EFORMAT, "%s: Y4M header: bad field '%s'", v->name, tok);
    }
    if (w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
        (long)w * h > IMAGE_MAX_PIXELS)
        return status_fail(st, TK_EFORMAT, "%s: Y4M header: frame size %dx%d missing or out of range",
                           v->name, w, h);
    if (!strcmp(chroma, "420jpeg") || !strcmp(chroma, "420mpeg2") ||
        !strcmp(chroma, "420paldv") || !strcmp(chroma, "420"))
        v->chroma = CHROMA_420;
    else if (!strcmp(chroma, "444"))
        v->chroma = CHROMA_444;
    else if (!strcmp(chroma, "mono"))
        v->chroma = CHROMA_MONO;
    else
        return status_fail(st, TK_EUNSUPPORTED,
                           "%s: Y4M chroma 'C%s' not supported (4:2:0, 4:4:4 or mono, 8 bits)",
                           v->name, chroma);
    v->width = w;
    v->height = h;
    v->fps = fn > 0 ? (double)fn / (double)fd : 0.0;
    size_t luma = (size_t)w * h;
    size_t cw = v->chroma == CHROMA_420 ? (size_t)(w + 1) / 2 : (size_t)w;
    size_t ch = v->chroma == CHROMA_420 ? (size_t)(h + 1) / 2 : (size_t)h;
    v->frame_bytes = luma + (v->chroma == CHROMA_MONO ? 0 : 2 * cw * ch);
    v->frame_buf = malloc(v->frame_bytes);
    v->threads = omp_get_max_threads();
    v->chroma_rows = malloc((size_t)v->threads * 2 * (cw + 4) * sizeof(float));
    if (!v->frame_buf || !v->chroma_rows)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for a %dx%d frame", v->name, w, h);
    struct stat sb;
    if (fstat(fileno(v->fp), &sb) == 0 && S_ISREG(sb.st_mode)) {
        long pos = ftell(v->fp);
        if (pos > 0)
            v->count = (long)((sb.st_size - pos) / (long)(v->frame_bytes + 6));
    }
    return TK_OK;
}

/* The container a file's first bytes name, or NULL (then it is taken for an image). Magic
 * numbers from the formats' specifications: ISO BMFF ("ftyp" box at offset 4: MP4, MOV, M4V,
 * 3GP), Matroska/WebM (EBML header 1A 45 DF A3), RIFF AVI, FLV, MPEG program stream (pack start
 * code 00 00 01 BA), MPEG transport stream (sync byte 0x47, which GIF shares: "GIF8" is an
 * image), Ogg. */
static const char *container_name(const char *b, size_t n)
{
    const unsigned char *u = (const unsigned char *)b;
    if (n >= 8 && !memcmp(b + 4, "ftyp", 4))
        return "MP4/MOV";
    if (n >= 4 && u[0] == 0x1A && u[1] == 0x45 && u[2] == 0xDF && u[3] == 0xA3)
        return "Matroska/WebM";
    if (n >= 4 && !memcmp(b, "RIFF", 4))
        return "RIFF (AVI)";
    if (n >= 3 && !memcmp(b, "FLV", 3))
        return "FLV";
    if (n >= 4 && !memcmp(b, "OggS", 4))
        return "Ogg";
    if (n >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 1 && u[3] == 0xBA)
        return "MPEG-PS";
    if (n >= 4 && u[0] == 0x47 && memcmp(b, "GIF8", 4)) /* 'G': not a GIF image */
        return "MPEG-TS";
    return NULL;
}

/* Video containers are decoded by ffmpeg (Debian's package) into Y4M on a pipe, which then
 * reads like any Y4M stream: takt carries no codec of its own. ffmpeg's errors go to stderr. */
static StatusCode spawn_decoder(VideoSource *v, const char *input, const char *container,
                                Status *st)
{
    int fd[2];
    if (pipe(fd) != 0)
        return status_fail(st, TK_EIO, "%s: pipe: %s", input, strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    char *argv[] = {"ffmpeg", "-nostdin", "-v", "error", "-i", (char *)input, "-an", "-sn",
                    "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "-", NULL};
    int err = posix_spawnp(&v->decoder, "ffmpeg", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        v->decoder = 0;
        if (err == ENOENT)
            return status_fail(st, TK_EINVAL,
                               "%s: decoding a video file (%s) needs ffmpeg (apt-get install "
                               "ffmpeg); or give takt Y4M: ffmpeg -i IN -f yuv4mpegpipe -",
                               input, container);
        return status_fail(st, TK_EIO, "%s: cannot start ffmpeg: %s", input, strerror(err));
    }
    v->fp = fdopen(fd[0], "rb");
    if (!v->fp) {
        close(fd[0]);
        return status_fail(st, TK_EIO, "%s: fdopen: %s", input, strerror(errno));
    }
    v->owns_fp = 1;
    return TK_OK;
}

/* Waits for the decoder; returns its exit status (0 = clean, 128 + signal when killed). */
static int reap_decoder(VideoSource *v)
{
    if (!v->decoder)
        return 0;
    int status = 0;
    while (waitpid(v->decoder, &status, 0) < 0 && errno == EINTR)
        ;
    v->decoder = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static StatusCode open_stream(VideoSource *v, const char *input, const VideoOptions *o,
                              Status *st)
{
    if (!strcmp(input, "-")) {
        v->fp = stdin;
    } else {
        v->fp = fopen(input, "rb");
        if (!v->fp)
            return status_fail(st, TK_EIO, "%s: cannot open: %s", input, strerror(errno));
        v->owns_fp = 1;
    }
    if (o && o->raw_width > 0) {
        int w = o->raw_width, h = o->raw_height;
        if (h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (long)w * h > IMAGE_MAX_PIXELS)
            return status_fail(st, TK_EINVAL, "%s: raw frame size %dx%d out of range", v->name, w,
                               h);
        v->kind = VIDEO_RAW;
        v->width = w;
        v->height = h;
        v->fps = o->fps;
        v->frame_bytes = (size_t)w * h * 3;
        struct stat sb;
        if (fstat(fileno(v->fp), &sb) == 0 && S_ISREG(sb.st_mode))
            v->count = (long)(sb.st_size / (long)v->frame_bytes);
        return TK_OK;
    }
    char magic[sizeof Y4M_MAGIC - 1];
    size_t got = fread(magic, 1, sizeof magic, v->fp);
    if (got == sizeof magic && !memcmp(magic, Y4M_MAGIC, sizeof magic)) {
        v->kind = VIDEO_Y4M;
        StatusCode rc = parse_y4m_header(v, st);
        if (rc == TK_OK && v->fps == 0.0 && o)
            v->fps = o->fps; /* a header without F: the caller's rate, if any */
        return rc;
    }
    if (v->fp == stdin)
        return status_fail(st, TK_EFORMAT,
                           "stdin: not a Y4M stream (raw RGB24 frames need --size WxH --fps F)");
    const char *container = container_name(magic, got);
    if (container) {
        fclose(v->fp);
        v->fp = NULL;
        v->owns_fp = 0;
        StatusCode rc = spawn_decoder(v, input, container, st);
        if (rc != TK_OK)
            return rc;
        got = fread(magic, 1, sizeof magic, v->fp);
        if (got != sizeof magic || memcmp(magic, Y4M_MAGIC, sizeof magic))
            return status_fail(st, TK_EFORMAT,
                               "%s: ffmpeg could not decode this %s file (its message is above)",
                               input, container);
        v->kind = VIDEO_Y4M;
        rc = parse_y4m_header(v, st);
        if (rc == TK_OK && v->fps == 0.0 && o)
            v->fps = o->fps;
        return rc;
    }
    /* Not Y4M: a single image, decoded when read. */
    fclose(v->fp);
    v->fp = NULL;
    v->owns_fp = 0;
    v->kind = VIDEO_IMAGE;
    v->count = 1;
    v->fps = o ? o->fps : 0.0;
    return add_file(v, &(long){0}, input, st);
}

StatusCode video_open(VideoSource **out, const char *input, const VideoOptions *opts, Status *st)
{
    *out = NULL;
    VideoSource *v = calloc(1, sizeof *v);
    if (!v)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", input);
    snprintf(v->name, sizeof v->name, "%s", strcmp(input, "-") ? input : "stdin");
    snprintf(v->frame_name, sizeof v->frame_name, "%s", v->name);
    v->index = -1;
    v->count = -1;
    StatusCode rc;
    struct stat sb;
    int is_dir = strcmp(input, "-") && stat(input, &sb) == 0 && S_ISDIR(sb.st_mode);
    int exists = !strcmp(input, "-") || stat(input, &sb) == 0;
    if (is_dir || (!exists && strpbrk(input, "*?["))) {
        v->kind = VIDEO_IMAGES;
        v->fps = opts ? opts->fps : 0.0;
        rc = is_dir ? list_folder(v, input, st) : list_glob(v, input, st);
        if (rc == TK_OK) {
            qsort(v->files, (size_t)v->n_files, sizeof *v->files, compare_names);
            v->count = v->n_files;
        }
    } else {
        rc = open_stream(v, input, opts, st);
    }
    if (rc != TK_OK) {
        video_close(v);
        return rc;
    }
    *out = v;
    return TK_OK;
}

void video_close(VideoSource *v)
{
    if (!v)
        return;
    /* A reader that stops early: SIGKILL, since ffmpeg answers SIGTERM by flushing into a
     * pipe nobody reads any more. */
    if (v->decoder)
        kill(v->decoder, SIGKILL);
    if (v->owns_fp && v->fp)
        fclose(v->fp);
    reap_decoder(v);
    for (long i = 0; i < v->n_files; i++)
        free(v->files[i]);
    free(v->files);
    free(v->frame_buf);
    free(v->chroma_rows);
    free(v);
}

/* Keys' cubic convolution weight at distance t with a = -0.6 (swscale's default bicubic). */
static float cubic_weight(float t)
{
    const float a = -0.6f;
    t = fabsf(t);
    if (t <= 1.0f)
        return ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
    if (t < 2.0f)
        return ((a * t - 5.0f * a) * t + 8.0f * a) * t - 4.0f * a;
    return 0.0f;
}

/* Centred siting puts full-resolution sample i at chroma position (i + 0.5) / 2 - 0.5, i.e.
 * i/2 - 0.25 for even i and (i-1)/2 + 0.25 for odd i: two fixed sets of four taps, starting at
 * chroma sample i/2 - 2 (even) or (i-1)/2 - 1 (odd). */
static void chroma_weights(float even[4], float odd[4])
{
    for (int k = 0; k < 4; k++) {
        even[k] = cubic_weight(1.75f - (float)k);
        odd[k] = cubic_weight(1.25f - (float)k);
    }
}

static inline unsigned char clamp_u8(float x)
{
    return x <= 0.0f ? 0 : x >= 255.0f ? 255 : (unsigned char)(x + 0.5f);
}

static inline void yuv_pixel(float y, float u, float vv, unsigned char *rgb)
{
    /* BT.601, limited range: 255/219 on luma; 255/224 times 1.402, 0.344136, 0.714136, 1.772. */
    float yy = 1.164383f * (y - 16.0f);
    u -= 128.0f;
    vv -= 128.0f;
    rgb[0] = clamp_u8(yy + 1.596027f * vv);
    rgb[1] = clamp_u8(yy - 0.391762f * u - 0.812968f * vv);
    rgb[2] = clamp_u8(yy + 2.017232f * u);
}

static int clamp_index(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

static void yuv_to_rgb(VideoSource *v, unsigned char *rgb)
{
    const int w = v->width, h = v->height;
    const unsigned char *Y = v->frame_buf;
    if (v->chroma == CHROMA_MONO) {
        for (size_t i = 0; i < (size_t)w * h; i++)
            yuv_pixel(Y[i], 128.0f, 128.0f, rgb + 3 * i);
        return;
    }
    if (v->chroma == CHROMA_444) {
        const unsigned char *U = Y + (size_t)w * h, *V = U + (size_t)w * h;
        for (size_t i = 0; i < (size_t)w * h; i++)
            yuv_pixel(Y[i], U[i], V[i], rgb + 3 * i);
        return;
    }
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    const unsigned char *U = Y + (size_t)w * h, *V = U + (size_t)cw * ch;
    float even[4], odd[4];
    chroma_weights(even, odd);
    /* Rows are independent: split between threads, each with its own chroma rows, so the
     * result is the same whatever the thread count; small frames are not worth waking them. */
#pragma omp parallel num_threads(v->threads) if ((long)w * h >= 65536)
    {
        /* Rows of vertically interpolated chroma with two replicated samples at each end, so
         * that the horizontal taps need no clamping. */
        float *urow = v->chroma_rows + (size_t)omp_get_thread_num() * 2 * (cw + 4) + 2;
        float *vrow = urow + (cw + 4);
#pragma omp for schedule(static)
        for (int y = 0; y < h; y++) {
            const float *wy = (y & 1) ? odd : even;
            const int r0 = (y & 1) ? (y - 1) / 2 - 1 : y / 2 - 2;
            const unsigned char *ur[4], *vr[4];
            for (int k = 0; k < 4; k++) {
                ur[k] = U + (size_t)clamp_index(r0 + k, ch) * cw;
                vr[k] = V + (size_t)clamp_index(r0 + k, ch) * cw;
            }
            for (int x = 0; x < cw; x++) {
                urow[x] = wy[0] * ur[0][x] + wy[1] * ur[1][x] + wy[2] * ur[2][x] + wy[3] * ur[3][x];
                vrow[x] = wy[0] * vr[0][x] + wy[1] * vr[1][x] + wy[2] * vr[2][x] + wy[3] * vr[3][x];
            }
            urow[-2] = urow[-1] = urow[0];
            vrow[-2] = vrow[-1] = vrow[0];
            urow[cw] = urow[cw + 1] = urow[cw - 1];
            vrow[cw] = vrow[cw + 1] = vrow[cw - 1];
            const unsigned char *yrow = Y + (size_t)y * w;
            unsigned char *out = rgb + 3 * (size_t)y * w;
            for (int x = 0; x < w; x++) {
                const float *wx = (x & 1) ? odd : even;
                const int c0 = (x & 1) ? (x - 1) / 2 - 1 : x / 2 - 2;
                const float u = wx[0] * urow[c0] + wx[1] * urow[c0 + 1] + wx[2] * urow[c0 + 2] +
                                wx[3] * urow[c0 + 3];
                const float vv = wx[0] * vrow[c0] + wx[1] * vrow[c0 + 1] + wx[2] * vrow[c0 + 2] +
                                 wx[3] * vrow[c0 + 3];
                yuv_pixel(yrow[x], u, vv, out + 3 * x);
            }
        }
    }
}

/* After a frame header that does not start with "FRAME": skip to the next "FRAME" marker and
 * consume its line. Returns the number of bytes skipped, or -1 at end of stream. */
static long resync_y4m(FILE *fp)
{
    static const char marker[] = "FRAME";
    long skipped = 0;
    int matched = 0, c;
    while ((c = getc(fp)) != EOF) {
        skipped++;
        if (c == marker[matched]) {
            if (++matched == 5)
                break;
        } else {
            matched = c == marker[0];
        }
    }
    if (c == EOF)
        return -1;
    while ((c = getc(fp)) != EOF && c != '\n')
        skipped++;
    return c == EOF ? -1 : skipped;
}

static StatusCode read_y4m(VideoSource *v, Image *frame, VideoRead *what, Status *st)
{
    char line[Y4M_LINE_MAX] = "FRAME";
    long n = 5;
    if (!v->header_consumed)
        n = read_line(v->fp, line, sizeof line);
    v->header_consumed = 0;
    if (n == -1) {
        if (ferror(v->fp))
            return status_fail(st, TK_EIO, "%s: read error after frame %ld", v->name, v->index);
        int code = reap_decoder(v);
        if (code)
            return status_fail(st, TK_EFORMAT,
                               "%s: ffmpeg stopped with status %d after frame %ld (its message "
                               "is above)", v->name, code, v->index);
        *what = VIDEO_END;
        return TK_OK;
    }
    v->index++;
    if (n == -2 || strncmp(line, "FRAME", 5) != 0 || (line[5] != '\0' && line[5] != ' ')) {
        long skipped = resync_y4m(v->fp);
        v->bad++;
        status_fail(st, TK_EFORMAT, "%s: frame %ld: bad frame header (expected FRAME); skipped",
                    v->name, v->index);
        if (skipped < 0) {
            v->ended = 1;
        } else {
            /* Frames lost in the skipped bytes still count, so that later times stay right. */
            long lost = (skipped + (long)(v->frame_bytes + 6) / 2) / (long)(v->frame_bytes + 6);
            if (lost > 1)
                v->index += lost - 1;
            v->header_consumed = 1;
        }
        *what = VIDEO_BAD_FRAME;
        return TK_OK;
    }
    size_t got = fread(v->frame_buf, 1, v->frame_bytes, v->fp);
    if (got != v->frame_bytes) {
        if (ferror(v->fp))
            return status_fail(st, TK_EIO, "%s: read error in frame %ld", v->name, v->index);
        v->bad++;
        v->ended = 1;
        status_fail(st, TK_EFORMAT, "%s: frame %ld truncated: %zu of %zu bytes; skipped", v->name,
                    v->index, got, v->frame_bytes);
        *what = VIDEO_BAD_FRAME;
        return TK_OK;
    }
    StatusCode rc = image_resize_buffer(frame, v->width, v->height, st);
    if (rc != TK_OK)
        return rc;
    yuv_to_rgb(v, frame->rgb);
    *what = VIDEO_FRAME;
    return TK_OK;
}

static StatusCode read_raw(VideoSource *v, Image *frame, VideoRead *what, Status *st)
{
    StatusCode rc = image_resize_buffer(frame, v->width, v->height, st);
    if (rc != TK_OK)
        return rc;
    size_t got = fread(frame->rgb, 1, v->frame_bytes, v->fp);
    if (got == 0 && !ferror(v->fp)) {
        *what = VIDEO_END;
        return TK_OK;
    }
    if (ferror(v->fp))
        return status_fail(st, TK_EIO, "%s: read error in frame %ld", v->name, v->index + 1);
    v->index++;
    if (got != v->frame_bytes) {
        v->bad++;
        v->ended = 1;
        status_fail(st, TK_EFORMAT, "%s: frame %ld truncated: %zu of %zu bytes; skipped", v->name,
                    v->index, got, v->frame_bytes);
        *what = VIDEO_BAD_FRAME;
        return TK_OK;
    }
    *what = VIDEO_FRAME;
    return TK_OK;
}

static StatusCode read_image(VideoSource *v, Image *frame, VideoRead *what, Status *st)
{
    if (v->next_file >= v->n_files) {
        *what = VIDEO_END;
        return TK_OK;
    }
    const char *path = v->files[v->next_file++];
    v->index++;
    snprintf(v->frame_name, sizeof v->frame_name, "%s", path);
    StatusCode rc = image_load(frame, path, st);
    if (rc == TK_OK) {
        *what = VIDEO_FRAME;
        return TK_OK;
    }
    if (v->kind == VIDEO_IMAGE)
        return rc; /* the only frame: its failure is the command's failure */
    if (rc == TK_ENOMEM)
        return rc;
    v->bad++;
    *what = VIDEO_BAD_FRAME;
    return TK_OK;
}

StatusCode video_read(VideoSource *v, Image *frame, VideoRead *what, Status *st)
{
    *what = VIDEO_END;
    if (v->ended)
        return TK_OK;
    switch (v->kind) {
    case VIDEO_Y4M:
        return read_y4m(v, frame, what, st);
    case VIDEO_RAW:
        return read_raw(v, frame, what, st);
    case VIDEO_IMAGE:
    case VIDEO_IMAGES:
        return read_image(v, frame, what, st);
    }
    return status_fail(st, TK_EINVAL, "%s: unknown source kind", v->name);
}

VideoKind video_kind(const VideoSource *v) { return v->kind; }
double video_fps(const VideoSource *v) { return v->fps; }
long video_frame_count(const VideoSource *v) { return v->count; }
long video_frame_index(const VideoSource *v) { return v->index; }
long video_bad_frames(const VideoSource *v) { return v->bad; }
const char *video_frame_name(const VideoSource *v) { return v->frame_name; }
