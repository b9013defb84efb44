/* image.c — PNG/JPEG into 8-bit RGB through stb_image, with size checks before decoding. */
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

/* Larger encoded files than this are refused: a 64-Mpixel RGB PNG stays far below it. */
#define IMAGE_MAX_FILE_BYTES (1024L * 1024 * 1024)

StatusCode image_resize_buffer(Image *img, int width, int height, Status *st)
{
    if (width <= 0 || height <= 0 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE ||
        (long)width * height > IMAGE_MAX_PIXELS)
        return status_fail(st, TK_EINVAL, "image size %dx%d out of range (1..%d per side, %ld pixels)",
                           width, height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    size_t need = (size_t)width * height * 3;
    if (need > img->capacity) {
        unsigned char *p = realloc(img->rgb, need);
        if (!p)
            return status_fail(st, TK_ENOMEM, "image %dx%d: out of memory", width, height);
        img->rgb = p;
        img->capacity = need;
    }
    img->width = width;
    img->height = height;
    return TK_OK;
}

void image_free(Image *img)
{
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

StatusCode image_load_memory(Image *img, const void *bytes, size_t size, const char *name,
                             Status *st)
{
    if (size == 0)
        return status_fail(st, TK_EFORMAT, "%s: empty file, not an image", name);
    if (size > (size_t)IMAGE_MAX_FILE_BYTES || size > (size_t)2147483647)
        return status_fail(st, TK_EUNSUPPORTED, "%s: file of %zu bytes is too large for an image",
                           name, size);
    int w = 0, h = 0, comp = 0;
    /* The header alone first, so that a huge declared size is refused without allocating. */
    if (!stbi_info_from_memory(bytes, (int)size, &w, &h, &comp))
        return status_fail(st, TK_EFORMAT, "%s: not a readable PNG or JPEG image (%s)", name,
                           stbi_failure_reason() ? stbi_failure_reason() : "unknown format");
    if (w <= 0 || h <= 0)
        return status_fail(st, TK_EFORMAT, "%s: image has no pixels (%dx%d)", name, w, h);
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (long)w * h > IMAGE_MAX_PIXELS)
        return status_fail(st, TK_EUNSUPPORTED,
                           "%s: image %dx%d is too large (limit %d per side, %ld pixels)", name,
                           w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    int dw = 0, dh = 0;
    unsigned char *pixels = stbi_load_from_memory(bytes, (int)size, &dw, &dh, &comp, 3);
    if (!pixels)
        return status_fail(st, TK_EFORMAT, "%s: cannot decode image (%s)", name,
                           stbi_failure_reason() ? stbi_failure_reason() : "unknown error");
    StatusCode rc = TK_OK;
    if (dw != w || dh != h)
        rc = status_fail(st, TK_EFORMAT, "%s: decoded size %dx%d differs from header %dx%d", name,
                         dw, dh, w, h);
    else if ((rc = image_resize_buffer(img, w, h, st)) == TK_OK)
        memcpy(img->rgb, pixels, (size_t)w * h * 3);
    stbi_image_free(pixels);
    return rc;
}

StatusCode image_load(Image *img, const char *path, Status *st)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    StatusCode rc = TK_OK;
    long size = -1;
    struct stat sb;
    if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) && fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (size < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        rc = status_fail(st, TK_EIO, "%s: cannot read: not a regular file", path);
    } else if (size > IMAGE_MAX_FILE_BYTES) {
        rc = status_fail(st, TK_EUNSUPPORTED, "%s: file of %ld bytes is too large for an image",
                         path, size);
    } else if (!(buf = malloc(size > 0 ? (size_t)size : 1))) {
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory for %ld bytes", path, size);
    } else if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        rc = status_fail(st, TK_EIO, "%s: read error", path);
    } else {
        rc = image_load_memory(img, buf, (size_t)size, path, st);
    }
    free(buf);
    fclose(fp);
    return rc;
}
