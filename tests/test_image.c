/* test_image.c — image loading: the shared PNGs decode to the exact RGB bytes their provenance
 * file records (sha256 computed by Pillow, not by us); grey, grey+alpha and RGBA become RGB;
 * JPEG decodes; unreadable, empty, zero-size and absurdly large images are refused with a
 * message naming the file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_write.h>

#include "../io/io.h"
#include "testutil.h"

/* The "rgb_sha256" recorded for image `id` in images/sources.json (hex into out[65]). */
static int expected_rgb_sha(const char *json, const char *id, char out[65])
{
    char key[128];
    snprintf(key, sizeof key, "\"id\": \"%s\"", id);
    const char *p = strstr(json, key);
    if (!p)
        return 0;
    p = strstr(p, "\"rgb_sha256\": \"");
    if (!p)
        return 0;
    p += strlen("\"rgb_sha256\": \"");
    memcpy(out, p, 64);
    out[64] = '\0';
    return 1;
}

Test(image, shared_pngs_decode_to_recorded_rgb)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, "pose/images/sources.json"))
        cr_skip_test("../shared not found (pose/images/sources.json)");
    size_t n = 0;
    char *json = test_read_file(path, &n);
    cr_assert_not_null(json);
    const char *ids[] = {"yoga_warrior_beach", "grace_hopper_portrait", "cat_no_person",
                         "squat_video_f010"};
    const int sizes[][2] = {{1000, 667}, {517, 606}, {451, 300}, {720, 1280}};
    Image img = {0};
    for (int i = 0; i < 4; i++) {
        char rel[256], want[65], got[65];
        snprintf(rel, sizeof rel, "pose/images/%s.png", ids[i]);
        cr_assert_not_null(test_shared_path(path, sizeof path, rel), "%s missing", rel);
        Status st = {0};
        cr_assert_eq(image_load(&img, path, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(img.width, sizes[i][0]);
        cr_assert_eq(img.height, sizes[i][1]);
        cr_assert(expected_rgb_sha(json, ids[i], want), "%s not in sources.json", ids[i]);
        sha256_hex(img.rgb, (size_t)img.width * img.height * 3, got);
        cr_assert_str_eq(got, want, "%s: decoded RGB differs from Pillow's", ids[i]);
    }
    image_free(&img);
    free(json);
}

/* A w x h image with `comp` channels whose value depends on position and channel. */
static unsigned char *pattern(int w, int h, int comp)
{
    unsigned char *p = malloc((size_t)w * h * comp);
    cr_assert_not_null(p);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comp; c++)
                p[((size_t)y * w + x) * comp + c] = (unsigned char)(x * 7 + y * 13 + c * 60);
    return p;
}

Test(image, grey_alpha_and_rgba_become_rgb)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    const int w = 13, h = 7;
    Image img = {0};
    for (int comp = 1; comp <= 4; comp++) {
        char path[512];
        snprintf(path, sizeof path, "%s/c%d.png", dir, comp);
        unsigned char *src = pattern(w, h, comp);
        cr_assert(stbi_write_png(path, w, h, comp, src, w * comp));
        Status st = {0};
        cr_assert_eq(image_load(&img, path, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(img.width, w);
        cr_assert_eq(img.height, h);
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < 3; c++) {
                /* grey (1, 2 channels) is replicated; alpha (2, 4 channels) is dropped */
                int sc = comp <= 2 ? 0 : c;
                cr_assert_eq(img.rgb[3 * i + c], src[i * comp + sc], "comp %d pixel %d ch %d",
                             comp, i, c);
            }
        free(src);
    }
    image_free(&img);
}

Test(image, jpeg_decodes_close_to_source)
{
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    const int w = 32, h = 24;
    unsigned char *src = malloc((size_t)w * h * 3);
    cr_assert_not_null(src);
    for (int i = 0; i < w * h * 3; i++)
        src[i] = (unsigned char)(100 + (i % 3) * 40); /* flat colour: JPEG keeps it closely */
    char path[512];
    snprintf(path, sizeof path, "%s/flat.jpg", dir);
    cr_assert(stbi_write_jpg(path, w, h, 3, src, 95));
    Image img = {0};
    Status st = {0};
    cr_assert_eq(image_load(&img, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(img.width, w);
    cr_assert_eq(img.height, h);
    for (int i = 0; i < w * h * 3; i++)
        cr_assert(abs((int)img.rgb[i] - (int)src[i]) <= 3, "byte %d: %d vs %d", i, img.rgb[i],
                  src[i]);
    free(src);
    image_free(&img);
}

/* A PNG signature and an IHDR chunk declaring w x h, 8-bit RGB, and no image data. */
static size_t png_header(unsigned char *buf, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    unsigned char *c = buf + 8;
    const unsigned char ihdr[] = {0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                  (unsigned char)(w >> 24), (unsigned char)(w >> 16),
                                  (unsigned char)(w >> 8), (unsigned char)w,
                                  (unsigned char)(h >> 24), (unsigned char)(h >> 16),
                                  (unsigned char)(h >> 8), (unsigned char)h,
                                  8, 2, 0, 0, 0};
    memcpy(c, ihdr, sizeof ihdr);
    uint32_t crc = crc32_of(c + 4, 17);
    c[21] = (unsigned char)(crc >> 24);
    c[22] = (unsigned char)(crc >> 16);
    c[23] = (unsigned char)(crc >> 8);
    c[24] = (unsigned char)crc;
    return 8 + 25;
}

Test(image, refuses_bad_inputs_naming_the_file)
{
    Image img = {0};
    Status st = {0};
    cr_assert_eq(image_load(&img, "/nonexistent/dir/pic.png", &st), TK_EIO);
    cr_assert(strstr(st.msg, "/nonexistent/dir/pic.png"), "%s", st.msg);

    const char *dir = test_tmpdir();
    cr_assert_eq(image_load(&img, dir, &st), TK_EIO);
    cr_assert(strstr(st.msg, "not a regular file"), "%s", st.msg);

    cr_assert_eq(image_load_memory(&img, "", 0, "empty.png", &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "empty.png"), "%s", st.msg);

    const char junk[] = "this is not an image at all, just text";
    cr_assert_eq(image_load_memory(&img, junk, sizeof junk, "junk.jpg", &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "junk.jpg"), "%s", st.msg);

    unsigned char buf[64];
    size_t n = png_header(buf, 0, 10);
    StatusCode rc = image_load_memory(&img, buf, n, "zero.png", &st);
    cr_assert_neq(rc, TK_OK);
    cr_assert(strstr(st.msg, "zero.png"), "%s", st.msg);

    n = png_header(buf, 100000, 100000);
    rc = image_load_memory(&img, buf, n, "huge.png", &st);
    cr_assert_neq(rc, TK_OK);
    cr_assert(strstr(st.msg, "huge.png"), "%s", st.msg);

    n = png_header(buf, 9000, 9000); /* each side allowed, the pixel count is not */
    rc = image_load_memory(&img, buf, n, "big.png", &st);
    cr_assert_eq(rc, TK_EUNSUPPORTED, "%s", st.msg);
    cr_assert(strstr(st.msg, "too large"), "%s", st.msg);

    cr_assert_null(img.rgb, "a refused image must not allocate pixels");
}

Test(image, buffer_is_reused_when_large_enough)
{
    Image img = {0};
    Status st = {0};
    cr_assert_eq(image_resize_buffer(&img, 40, 30, &st), TK_OK);
    unsigned char *first = img.rgb;
    cr_assert_eq(image_resize_buffer(&img, 30, 40, &st), TK_OK);
    cr_assert_eq(img.rgb, first);
    cr_assert_eq(img.width, 30);
    cr_assert_eq(image_resize_buffer(&img, 0, 5, &st), TK_EINVAL);
    image_free(&img);
    cr_assert_null(img.rgb);
}
