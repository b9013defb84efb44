/* test_platform.c — the packages takt is built on, as Debian ships them: libpng writes a PNG,
 * stb_image (from libstb, implementation in the shared library) reads it back pixel for pixel,
 * and an OpenMP region really runs on several threads. */
#include <criterion/criterion.h>
#include <omp.h>
#include <png.h>
#include <stb/stb_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

Test(platform, libpng_writes_what_stb_image_reads)
{
    enum { W = 37, H = 19 };
    unsigned char rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (unsigned char)(i * 7 + i / 3);
    char path[] = "/tmp/takt-png-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *fp = fdopen(fd, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng failed");
    png_init_io(png, fp);
    png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < H; y++)
        png_write_row(png, rgb + y * W * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);

    int w, h, c;
    unsigned char *back = stbi_load(path, &w, &h, &c, 3);
    unlink(path);
    cr_assert_not_null(back, "stb_image: %s", stbi_failure_reason());
    cr_assert_eq(w, W);
    cr_assert_eq(h, H);
    cr_assert_eq(memcmp(back, rgb, sizeof rgb), 0);
    stbi_image_free(back);
}

Test(platform, openmp_runs_a_parallel_region)
{
    int seen = 0;
#pragma omp parallel num_threads(2) reduction(+ : seen)
    seen += 1;
    cr_assert_eq(seen, 2, "two threads asked for, %d ran", seen);
}
