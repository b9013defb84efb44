/* test_video.c — frame sources: Y4M 4:4:4 / 4:2:0 / mono conversion, a corrupt frame header in
 * the middle and a truncated last frame (reported, skipped, counted), raw RGB24, folders and
 * globs in sorted order, header errors; and, when ffmpeg is installed, the squat video as Y4M
 * against ffmpeg's own rgb24 decoding (whose frames match the sha256 list in ../shared). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "../io/io.h"
#include "testutil.h"

static void write_bytes(FILE *fp, const void *p, size_t n)
{
    cr_assert_eq(fwrite(p, 1, n, fp), n);
}

/* A w x h Y4M file whose frame k has constant planes Y = y[k], U = u[k], V = v[k]. */
static void write_y4m(const char *path, const char *chroma, int w, int h, int frames,
                      const unsigned char *y, const unsigned char *u, const unsigned char *v)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fprintf(fp, "YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C%s XYSCSS=TEST\n", w, h, chroma);
    int cw = w, ch = h;
    if (!strncmp(chroma, "420", 3)) {
        cw = (w + 1) / 2;
        ch = (h + 1) / 2;
    }
    unsigned char *buf = malloc((size_t)w * h);
    cr_assert_not_null(buf);
    for (int k = 0; k < frames; k++) {
        fprintf(fp, "FRAME\n");
        memset(buf, y[k], (size_t)w * h);
        write_bytes(fp, buf, (size_t)w * h);
        if (strcmp(chroma, "mono")) {
            memset(buf, u[k], (size_t)cw * ch);
            write_bytes(fp, buf, (size_t)cw * ch);
            memset(buf, v[k], (size_t)cw * ch);
            write_bytes(fp, buf, (size_t)cw * ch);
        }
    }
    free(buf);
    fclose(fp);
}

static void expect_pixel_tol(const Image *img, int x, int y, int r, int g, int b, int tol)
{
    const unsigned char *p = img->rgb + 3 * ((size_t)y * img->width + x);
    cr_assert(abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol,
              "pixel (%d,%d) = %d,%d,%d, expected %d,%d,%d", x, y, p[0], p[1], p[2], r, g, b);
}

static void expect_pixel(const Image *img, int x, int y, int r, int g, int b)
{
    expect_pixel_tol(img, x, y, r, g, b, 1);
}

/* BT.601 limited range: (Y,Cb,Cr) = (235,128,128) is white, (16,128,128) black, and the 100 %
 * colour bars red (81,90,240), green (145,54,34), blue (41,240,110) are the pure primaries
 * (within 2 levels: the 8-bit YCbCr values are themselves rounded). */
Test(video, y4m_444_and_420_colours)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    const unsigned char Y[] = {235, 16, 81, 145, 41}, U[] = {128, 128, 90, 54, 240},
                        V[] = {128, 128, 240, 34, 110};
    const int rgb[][3] = {{255, 255, 255}, {0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    const char *chromas[] = {"444", "420jpeg", "420mpeg2", "420paldv", "420"};
    for (int c = 0; c < 5; c++) {
        char path[512];
        snprintf(path, sizeof path, "%s/c%s.y4m", dir, chromas[c]);
        write_y4m(path, chromas[c], 7, 5, 5, Y, U, V); /* odd sizes: chroma planes round up */
        VideoSource *v = NULL;
        Status st = {0};
        cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(video_kind(v), VIDEO_Y4M);
        cr_assert_float_eq(video_fps(v), 25.0, 1e-9);
        cr_assert_eq(video_frame_count(v), 5);
        Image img = {0};
        for (int k = 0; k < 5; k++) {
            VideoRead what;
            cr_assert_eq(video_read(v, &img, &what, &st), TK_OK, "%s", st.msg);
            cr_assert_eq(what, VIDEO_FRAME);
            cr_assert_eq(video_frame_index(v), k);
            cr_assert_eq(img.width, 7);
            cr_assert_eq(img.height, 5);
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 7; x++)
                    expect_pixel_tol(&img, x, y, rgb[k][0], rgb[k][1], rgb[k][2], 2);
        }
        VideoRead what;
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
        cr_assert_eq(what, VIDEO_END);
        cr_assert_eq(video_bad_frames(v), 0);
        image_free(&img);
        video_close(v);
    }
}

Test(video, y4m_mono_is_grey)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/mono.y4m", dir);
    const unsigned char Y[] = {126};
    write_y4m(path, "mono", 4, 4, 1, Y, NULL, NULL);
    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
    Image img = {0};
    VideoRead what;
    cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
    cr_assert_eq(what, VIDEO_FRAME);
    expect_pixel(&img, 2, 3, 128, 128, 128); /* (126 - 16) * 255 / 219 = 128.08 */
    image_free(&img);
    video_close(v);
}

/* 4:2:0 with a step in chroma along x: pixels astride the step get values between the two
 * sides, and flat regions keep their exact colour. */
Test(video, y4m_420_upsampling_is_smooth)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/ramp.y4m", dir);
    const int w = 16, h = 8, cw = 8, ch = 4;
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fprintf(fp, "YUV4MPEG2 W%d H%d F30000:1001 C420jpeg\nFRAME\n", w, h);
    unsigned char plane[128];
    memset(plane, 128, sizeof plane);
    write_bytes(fp, plane, (size_t)w * h);
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++)
            plane[y * cw + x] = x < 4 ? 100 : 200; /* U: a step between chroma columns 3 and 4 */
    write_bytes(fp, plane, (size_t)cw * ch);
    memset(plane, 128, (size_t)cw * ch);
    write_bytes(fp, plane, (size_t)cw * ch);
    fclose(fp);
    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_float_eq(video_fps(v), 30000.0 / 1001.0, 1e-9);
    Image img = {0};
    VideoRead what;
    cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
    /* Pixels 7 and 8 sit at chroma positions 3.25 and 3.75, astride the step: their blue lies
     * strictly between the two flat values (74 and 255) and rises from 7 to 8. */
    const unsigned char *row = img.rgb + 3 * (3 * w);
    cr_assert(row[3 * 7 + 2] > 74 && row[3 * 7 + 2] < 255, "x=7 blue %d", row[3 * 7 + 2]);
    cr_assert(row[3 * 8 + 2] > row[3 * 7 + 2], "x=8 blue %d", row[3 * 8 + 2]);
    expect_pixel(&img, 0, 2, 130, 141, 74);   /* U = 100 exactly */
    expect_pixel(&img, 15, 2, 130, 102, 255); /* U = 200 exactly: blue saturates */
    image_free(&img);
    video_close(v);
}

Test(video, y4m_bad_frame_in_the_middle_and_truncated_end)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/bad.y4m", dir);
    const unsigned char Y[] = {235, 16, 235, 16}, U[] = {128, 128, 128, 128},
                        V[] = {128, 128, 128, 128};
    write_y4m(path, "420jpeg", 6, 4, 4, Y, U, V);
    /* frame 1's header "FRAME" becomes "FRXME"; frame 3 loses its last bytes */
    size_t n = 0;
    unsigned char *bytes = test_read_file(path, &n);
    cr_assert_not_null(bytes);
    const size_t header = strchr((char *)bytes, '\n') - (char *)bytes + 1;
    const size_t frame = 6 + 6 * 4 + 2 * 3 * 2;
    bytes[header + frame + 2] = 'X';
    FILE *fp = fopen(path, "wb");
    write_bytes(fp, bytes, n - 5);
    fclose(fp);
    free(bytes);

    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
    Image img = {0};
    VideoRead what;
    const VideoRead expect[] = {VIDEO_FRAME, VIDEO_BAD_FRAME, VIDEO_FRAME, VIDEO_BAD_FRAME,
                                VIDEO_END};
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK, "read %d: %s", k, st.msg);
        cr_assert_eq(what, expect[k], "read %d gave %d", k, what);
        if (what != VIDEO_END)
            cr_assert_eq(video_frame_index(v), k, "index after read %d", k);
        if (what == VIDEO_BAD_FRAME)
            cr_assert(strstr(st.msg, path) &&
                          strstr(st.msg, k == 1 ? "frame 1: bad frame header" : "frame 3 truncated"),
                      "%s", st.msg);
        if (k == 2)
            expect_pixel(&img, 3, 2, 255, 255, 255); /* frame 2 is intact and white */
    }
    cr_assert_eq(video_bad_frames(v), 2);
    image_free(&img);
    video_close(v);
}

Test(video, y4m_header_errors)
{
    const char *dir = test_tmpdir();
    const char *headers[] = {"YUV4MPEG2 H4 F25:1\n", "YUV4MPEG2 W4 H4 C422\n",
                             "YUV4MPEG2 W4 H4 F0:1\n", "YUV4MPEG2 W4x H4\n",
                             "YUV4MPEG2 W99999 H4\n"};
    const char *words[] = {"size", "C422", "frame rate", "W4x", "size"};
    for (int i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/h%d.y4m", dir, i);
        FILE *fp = fopen(path, "wb");
        fputs(headers[i], fp);
        fclose(fp);
        VideoSource *v = NULL;
        Status st = {0};
        cr_assert_neq(video_open(&v, path, NULL, &st), TK_OK, "header %d accepted", i);
        cr_assert_null(v);
        cr_assert(strstr(st.msg, path) && strstr(st.msg, words[i]), "%s", st.msg);
    }
}

Test(video, raw_rgb24_frames_and_truncated_tail)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/frames.rgb", dir);
    const int w = 5, h = 3, fb = w * h * 3;
    unsigned char buf[2 * 45 + 20];
    for (int i = 0; i < (int)sizeof buf; i++)
        buf[i] = (unsigned char)(i * 3);
    FILE *fp = fopen(path, "wb");
    write_bytes(fp, buf, sizeof buf);
    fclose(fp);
    VideoOptions o = {.raw_width = w, .raw_height = h, .fps = 12.5};
    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, path, &o, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(video_kind(v), VIDEO_RAW);
    cr_assert_eq(video_frame_count(v), 2);
    cr_assert_float_eq(video_fps(v), 12.5, 1e-12);
    Image img = {0};
    VideoRead what;
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
        cr_assert_eq(what, VIDEO_FRAME);
        cr_assert_eq(memcmp(img.rgb, buf + k * fb, (size_t)fb), 0);
    }
    cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
    cr_assert_eq(what, VIDEO_BAD_FRAME);
    cr_assert(strstr(st.msg, "truncated") && strstr(st.msg, "20 of 45"), "%s", st.msg);
    cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
    cr_assert_eq(what, VIDEO_END);
    cr_assert_eq(video_bad_frames(v), 1);
    image_free(&img);
    video_close(v);
}

static void write_png(const char *dir, const char *name, int value)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char px[4 * 3 * 3];
    memset(px, value, sizeof px);
    cr_assert(stbi_write_png(path, 4, 3, 3, px, 12));
}

Test(video, folder_and_glob_in_sorted_order_with_a_bad_image)
{
    const char *dir = test_tmpdir();
    write_png(dir, "f02.png", 20);
    write_png(dir, "f10.png", 100);
    write_png(dir, "f01.png", 10);
    char path[512];
    snprintf(path, sizeof path, "%s/f05.png", dir); /* not a PNG despite its name */
    FILE *fp = fopen(path, "wb");
    fputs("garbage", fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    fp = fopen(path, "wb");
    fputs("ignored", fp);
    fclose(fp);

    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/f*.png", dir);
    const char *inputs[] = {dir, pattern};
    for (int i = 0; i < 2; i++) {
        VideoOptions o = {.fps = 2.0};
        VideoSource *v = NULL;
        Status st = {0};
        cr_assert_eq(video_open(&v, inputs[i], &o, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(video_kind(v), VIDEO_IMAGES);
        cr_assert_eq(video_frame_count(v), 4);
        cr_assert_float_eq(video_fps(v), 2.0, 1e-12);
        const int values[] = {10, 20, -1, 100};
        Image img = {0};
        VideoRead what;
        for (int k = 0; k < 4; k++) {
            cr_assert_eq(video_read(v, &img, &what, &st), TK_OK, "%s", st.msg);
            cr_assert_eq(video_frame_index(v), k);
            if (values[k] < 0) {
                cr_assert_eq(what, VIDEO_BAD_FRAME);
                cr_assert(strstr(st.msg, "f05.png"), "%s", st.msg);
            } else {
                cr_assert_eq(what, VIDEO_FRAME);
                cr_assert_eq(img.rgb[5], values[k], "frame %d", k);
                cr_assert(strstr(video_frame_name(v), k == 0 ? "f01.png" : k == 1 ? "f02.png" : "f10.png"));
            }
        }
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
        cr_assert_eq(what, VIDEO_END);
        cr_assert_eq(video_bad_frames(v), 1);
        image_free(&img);
        video_close(v);
    }
}

Test(video, single_image_and_open_errors)
{
    const char *dir = test_tmpdir();
    write_png(dir, "one.png", 77);
    char path[512];
    snprintf(path, sizeof path, "%s/one.png", dir);
    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(video_kind(v), VIDEO_IMAGE);
    cr_assert_eq(video_frame_count(v), 1);
    Image img = {0};
    VideoRead what;
    cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
    cr_assert_eq(what, VIDEO_FRAME);
    cr_assert_eq(img.rgb[0], 77);
    cr_assert_eq(video_read(v, &img, &what, &st), TK_OK);
    cr_assert_eq(what, VIDEO_END);
    video_close(v);
    image_free(&img);

    /* a lone unreadable image is an error, not a skipped frame */
    snprintf(path, sizeof path, "%s/broken.png", dir);
    FILE *fp = fopen(path, "wb");
    fputs("not a png", fp);
    fclose(fp);
    cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_neq(video_read(v, &img, &what, &st), TK_OK);
    cr_assert(strstr(st.msg, "broken.png"), "%s", st.msg);
    video_close(v);
    image_free(&img);

    cr_assert_neq(video_open(&v, "/nonexistent/clip.y4m", NULL, &st), TK_OK);
    cr_assert(strstr(st.msg, "/nonexistent/clip.y4m"), "%s", st.msg);
    snprintf(path, sizeof path, "%s/none*.png", dir);
    cr_assert_neq(video_open(&v, path, NULL, &st), TK_OK);
    cr_assert(strstr(st.msg, "matches no files"), "%s", st.msg);
    snprintf(path, sizeof path, "%s/empty", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_neq(video_open(&v, path, NULL, &st), TK_OK);
    cr_assert(strstr(st.msg, "no .png"), "%s", st.msg);
}

/* The squat video through ffmpeg twice: as Y4M (which we convert) and as rgb24 (ffmpeg's own
 * conversion with the flags the reference pack used; its frames are checked against the
 * pack's sha256 list first, so the comparison is against the pixels MediaPipe was given). */
Test(video, squat_video_y4m_matches_ffmpeg_rgb, .timeout = 60)
{
    char mp4[1024], shas[1024];
    if (!test_shared_path(mp4, sizeof mp4, "pose/video/pose_squats.mp4") ||
        !test_shared_path(shas, sizeof shas, "pose/video/frames_rgb_sha256.json"))
        cr_skip_test("../shared not found (pose/video)");
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0)
        cr_skip_test("ffmpeg not installed (apt-get install ffmpeg to run this check)");
    const char *dir = test_tmpdir();
    char cmd[4096], y4m[512], rgb[512];
    snprintf(y4m, sizeof y4m, "%s/squats.y4m", dir);
    snprintf(rgb, sizeof rgb, "%s/squats.rgb", dir);
    const int frames = 3, w = 720, h = 1280;
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -i '%s' -frames:v %d -f yuv4mpegpipe '%s' && "
             "ffmpeg -v error -i '%s' -frames:v %d -sws_flags accurate_rnd+full_chroma_int+bitexact "
             "-pix_fmt rgb24 -f rawvideo '%s'",
             mp4, frames, y4m, mp4, frames, rgb);
    cr_assert_eq(system(cmd), 0, "ffmpeg failed");
    size_t n = 0, jn = 0;
    unsigned char *ref = test_read_file(rgb, &n);
    char *json = test_read_file(shas, &jn);
    cr_assert_not_null(ref);
    cr_assert_not_null(json);
    const size_t fb = (size_t)w * h * 3;
    cr_assert_eq(n, frames * fb);

    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, y4m, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_float_eq(video_fps(v), 5.0, 1e-12);
    Image img = {0};
    long differ = 0, total = 0;
    int maxdiff = 0;
    for (int k = 0; k < frames; k++) {
        char hex[65];
        sha256_hex(ref + k * fb, fb, hex);
        cr_assert(strstr(json, hex), "ffmpeg's frame %d is not the reference pack's", k);
        VideoRead what;
        cr_assert_eq(video_read(v, &img, &what, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(what, VIDEO_FRAME);
        cr_assert_eq(img.width, w);
        cr_assert_eq(img.height, h);
        for (size_t i = 0; i < fb; i++) {
            int d = abs((int)img.rgb[i] - (int)ref[k * fb + i]);
            differ += d != 0;
            maxdiff = d > maxdiff ? d : maxdiff;
        }
        total += (long)fb;
    }
    cr_assert_leq(maxdiff, 1, "max |our - ffmpeg| = %d", maxdiff);
    cr_assert_lt((double)differ / total, 0.01, "%.4f of values differ", (double)differ / total);
    image_free(&img);
    video_close(v);
    free(ref);
    free(json);
    remove(y4m);
    remove(rgb);
    rmdir(dir);
}

/* A Y4M header without a frame rate: the caller's --fps, else unknown (0). */
Test(video, y4m_without_rate_takes_the_callers)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/norate.y4m", dir);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fputs("YUV4MPEG2 W2 H2 C444\nFRAME\n", fp);
    const unsigned char px[12] = {16, 16, 16, 16, 128, 128, 128, 128, 128, 128, 128, 128};
    write_bytes(fp, px, sizeof px);
    fclose(fp);
    VideoSource *v = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&v, path, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(video_fps(v), 0.0);
    video_close(v);
    const VideoOptions o = {.fps = 7.5};
    cr_assert_eq(video_open(&v, path, &o, &st), TK_OK, "%s", st.msg);
    cr_assert_float_eq(video_fps(v), 7.5, 1e-12);
    cr_assert_eq(video_frame_count(v), 1);
    video_close(v);
}

/* A container file goes through an ffmpeg child into Y4M: the frames equal those of the same
 * clip converted to Y4M first, the stream ends cleanly, and without ffmpeg on PATH the error
 * says what to install. (Each Criterion test runs in its own process, so PATH can change.) */
Test(video, container_is_decoded_through_ffmpeg, .timeout = 60)
{
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0)
        cr_skip_test("ffmpeg not installed (apt-get install ffmpeg to run this check)");
    const char *dir = test_tmpdir();
    char cmd[4096], mkv[512], y4m[512];
    snprintf(mkv, sizeof mkv, "%s/clip.mkv", dir);
    snprintf(y4m, sizeof y4m, "%s/clip.y4m", dir);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 4 -c:v ffv1 "
             "-pix_fmt yuv420p '%s' && ffmpeg -v error -i '%s' -f yuv4mpegpipe '%s'",
             mkv, mkv, y4m);
    cr_assert_eq(system(cmd), 0, "ffmpeg failed to make the test clip");

    VideoSource *a = NULL, *b = NULL;
    Status st = {0};
    cr_assert_eq(video_open(&a, mkv, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(video_open(&b, y4m, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(video_kind(a), VIDEO_Y4M);
    cr_assert_float_eq(video_fps(a), 10.0, 1e-12);
    Image ia = {0}, ib = {0};
    int frames = 0;
    for (;;) {
        VideoRead wa, wb;
        cr_assert_eq(video_read(a, &ia, &wa, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(video_read(b, &ib, &wb, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(wa, wb);
        if (wa == VIDEO_END)
            break;
        cr_assert_eq(wa, VIDEO_FRAME);
        cr_assert_eq(ia.width, 64);
        cr_assert_eq(ia.height, 48);
        cr_assert_eq(memcmp(ia.rgb, ib.rgb, (size_t)64 * 48 * 3), 0, "frame %d differs", frames);
        frames++;
    }
    cr_assert_eq(frames, 4);
    video_close(a);
    video_close(b);
    image_free(&ia);
    image_free(&ib);

    /* Stopping early must not leave ffmpeg behind or block. */
    cr_assert_eq(video_open(&a, mkv, NULL, &st), TK_OK, "%s", st.msg);
    video_close(a);

    setenv("PATH", "/nonexistent", 1);
    cr_assert_neq(video_open(&a, mkv, NULL, &st), TK_OK);
    cr_assert(strstr(st.msg, "clip.mkv") && strstr(st.msg, "needs ffmpeg"), "%s", st.msg);
}
