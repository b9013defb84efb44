/* png — writes an 8-bit RGB image as a PNG through libpng, via an AtomicFile so that a failed
 * write never leaves a half-written image under the real name.
 *
 * libpng reports errors by calling an error function that must not return; ours records the
 * message and longjmps back to png_write_rgb. Its warnings (which by default go to stderr)
 * are dropped, because library code never prints. */
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include "io.h"

typedef struct {
    jmp_buf jump;
    char msg[256];
} PngErrorSink;

static void png_error_to_status(png_structp png, png_const_charp msg) {
    PngErrorSink *sink = png_get_error_ptr(png);
    snprintf(sink->msg, sizeof sink->msg, "%s", msg);
    longjmp(sink->jump, 1);
}

static void png_warning_ignored(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* libpng wants row pointers; writing one row at a time needs no array of them. Split out of
 * png_write_rgb so that nothing it keeps in local variables changes between setjmp and a
 * longjmp (which would make those variables indeterminate). */
static int png_encode(FILE *fp, const Image *img, PngErrorSink *sink) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, sink, png_error_to_status,
                                              png_warning_ignored);
    if (!png) {
        snprintf(sink->msg, sizeof sink->msg, "libpng cannot start (out of memory?)");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(sink->msg, sizeof sink->msg, "libpng cannot start (out of memory?)");
        return -1;
    }
    if (setjmp(sink->jump)) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_text software = {0};
    software.compression = PNG_TEXT_COMPRESSION_NONE;
    software.key = (png_charp) "Software";
    software.text = (png_charp) "takt " TAKT_VERSION;
    png_set_text(png, info, &software, 1);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->rgb + (size_t)y * img->width * 3);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

StatusCode png_write_rgb(const char *path, const Image *img, Status *st) {
    if (!img || !img->rgb || img->width <= 0 || img->height <= 0)
        return status_fail(st, TK_EINVAL, "%s: no image to write (%dx%d)", path,
                           img ? img->width : 0, img ? img->height : 0);
    if (img->width > IMAGE_MAX_SIDE || img->height > IMAGE_MAX_SIDE)
        return status_fail(st, TK_EINVAL, "%s: %dx%d image exceeds the %d-pixel side limit",
                           path, img->width, img->height, IMAGE_MAX_SIDE);
    AtomicFile out;
    StatusCode code = atomic_open(&out, path, st);
    if (code != TK_OK)
        return code;
    PngErrorSink sink = {0};
    if (png_encode(out.fp, img, &sink) != 0) {
        atomic_abort(&out);
        return status_fail(st, TK_EIO, "%s: cannot write PNG: %s", path, sink.msg);
    }
    return atomic_commit(&out, st);
}
