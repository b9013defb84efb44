/* draw — anti-aliased shapes and bitmap-font text on an 8-bit RGB Image, for plots and for
 * drawing skeletons over frames.
 *
 * Anti-aliasing by coverage: a pixel takes the colour in proportion to how much of it the
 * shape covers, estimated from the distance between the pixel's centre and the shape's edge
 * (lines, circles) or by 4 x 4 supersampling (marker polygons). Everything clips to the
 * image, so callers may draw partly outside it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

StatusCode plot_image_new(Image *img, int width, int height, Status *st) {
    memset(img, 0, sizeof *img);
    if (width <= 0 || height <= 0 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE)
        return status_fail(st, TK_EINVAL, "plot: image size %dx%d outside 1..%d", width,
                           height, IMAGE_MAX_SIDE);
    size_t bytes = (size_t)width * height * 3;
    img->rgb = malloc(bytes);
    if (!img->rgb)
        return status_fail(st, TK_ENOMEM, "plot: cannot allocate a %dx%d image", width, height);
    memset(img->rgb, 255, bytes);
    img->width = width;
    img->height = height;
    img->capacity = bytes;
    return TK_OK;
}

static void blend(Image *img, int x, int y, Rgb c, float alpha) {
    if (x < 0 || y < 0 || x >= img->width || y >= img->height || alpha <= 0.0f)
        return;
    unsigned char *p = img->rgb + ((size_t)y * img->width + x) * 3;
    if (alpha >= 1.0f) {
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
        return;
    }
    p[0] = (unsigned char)lrintf(p[0] + (c.r - p[0]) * alpha);
    p[1] = (unsigned char)lrintf(p[1] + (c.g - p[1]) * alpha);
    p[2] = (unsigned char)lrintf(p[2] + (c.b - p[2]) * alpha);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void draw_rect(Image *img, double x0, double y0, double x1, double y1, Rgb c, float alpha) {
    const int xa = clampi((int)ceil(fmin(x0, x1) - 0.5), 0, img->width);
    const int xb = clampi((int)ceil(fmax(x0, x1) - 0.5), 0, img->width);
    const int ya = clampi((int)ceil(fmin(y0, y1) - 0.5), 0, img->height);
    const int yb = clampi((int)ceil(fmax(y0, y1) - 0.5), 0, img->height);
    for (int y = ya; y < yb; y++)
        for (int x = xa; x < xb; x++)
            blend(img, x, y, c, alpha);
}

static double segment_distance(double px, double py, double x0, double y0, double dx, double dy,
                               double len2) {
    double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const double ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
    return sqrt(ex * ex + ey * ey);
}

/* Round-capped: coverage = (half width + 0.5 - distance to the segment), clamped to [0,1].
 * Only a band around the segment along its major axis is visited. */
void draw_line(Image *img, double x0, double y0, double x1, double y1, double width, Rgb c) {
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return;
    const double r = width / 2, dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    const int steep = fabs(dy) > fabs(dx);
    const double u0 = steep ? y0 : x0, u1 = steep ? y1 : x1;
    const double v0 = steep ? x0 : y0, du = steep ? dy : dx, dv = steep ? dx : dy;
    const int u_size = steep ? img->height : img->width;
    const int v_size = steep ? img->width : img->height;
    /* Perpendicular half-width r spans at most r * sqrt(2) along the minor axis here. */
    const double band = (r + 1.0) * 1.5 + 1.0;
    const int ua = clampi((int)floor(fmin(u0, u1) - r - 1), 0, u_size - 1);
    const int ub = clampi((int)ceil(fmax(u0, u1) + r + 1), 0, u_size - 1);
    for (int u = ua; u <= ub; u++) {
        const double pu = u + 0.5;
        double t = du != 0 ? (pu - u0) / du : 0.0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const double vc = v0 + t * dv;
        const int va = clampi((int)floor(vc - band), 0, v_size - 1);
        const int vb = clampi((int)ceil(vc + band), 0, v_size - 1);
        for (int v = va; v <= vb; v++) {
            const double px = steep ? v + 0.5 : pu, py = steep ? pu : v + 0.5;
            const double d = segment_distance(px, py, x0, y0, dx, dy, len2);
            const double cover = r + 0.5 - d;
            if (cover > 0)
                blend(img, steep ? v : u, steep ? u : v, c, cover >= 1 ? 1.0f : (float)cover);
        }
    }
}

void draw_dashed_line(Image *img, double x0, double y0, double x1, double y1, double width,
                      double dash, Rgb c) {
    const double len = hypot(x1 - x0, y1 - y0);
    if (!(len > 0) || !(dash > 0)) {
        draw_line(img, x0, y0, x1, y1, width, c);
        return;
    }
    for (double s = 0; s < len; s += 2 * dash) {
        const double e = fmin(s + dash, len);
        draw_line(img, x0 + (x1 - x0) * s / len, y0 + (y1 - y0) * s / len,
                  x0 + (x1 - x0) * e / len, y0 + (y1 - y0) * e / len, width, c);
    }
}

void draw_circle(Image *img, double cx, double cy, double radius, Rgb c) {
    const int xa = (int)floor(cx - radius - 1), xb = (int)ceil(cx + radius + 1);
    const int ya = (int)floor(cy - radius - 1), yb = (int)ceil(cy + radius + 1);
    for (int y = ya; y <= yb; y++)
        for (int x = xa; x <= xb; x++) {
            const double cover = radius + 0.5 - hypot(x + 0.5 - cx, y + 0.5 - cy);
            if (cover > 0)
                blend(img, x, y, c, cover >= 1 ? 1.0f : (float)cover);
        }
}

/* Whether (dx, dy) from the centre lies inside a shape of "radius" r (half its extent). */
static int inside_marker(MarkerShape shape, double dx, double dy, double r) {
    switch (shape) {
    case MARKER_SQUARE:
        return fabs(dx) <= r * 0.85 && fabs(dy) <= r * 0.85;
    case MARKER_DIAMOND:
        return fabs(dx) + fabs(dy) <= r * 1.15;
    case MARKER_TRIANGLE_DOWN:
        dy = -dy;
        /* fall through */
    case MARKER_TRIANGLE:
        /* Equilateral, centroid at the centre, circumradius 1.25 r (to look as large as
         * the circle): apex (0, -R), base at y = R/2, half-width (y + R) / sqrt(3). */
        r *= 1.25;
        return dy <= r * 0.5 && fabs(dx) <= (dy + r) * 0.57735;
    case MARKER_CIRCLE:
    default:
        return dx * dx + dy * dy <= r * r;
    }
}

static void fill_marker(Image *img, double cx, double cy, double r, MarkerShape shape, Rgb c) {
    const int xa = (int)floor(cx - r - 1), xb = (int)ceil(cx + r + 1);
    const int ya = (int)floor(cy - r - 1), yb = (int)ceil(cy + r + 1);
    for (int y = ya; y <= yb; y++)
        for (int x = xa; x <= xb; x++) {
            int hits = 0;
            for (int sy = 0; sy < 4; sy++)
                for (int sx = 0; sx < 4; sx++)
                    hits += inside_marker(shape, x + (sx + 0.5) / 4 - cx,
                                          y + (sy + 0.5) / 4 - cy, r);
            if (hits)
                blend(img, x, y, c, hits / 16.0f);
        }
}

void draw_marker(Image *img, double cx, double cy, double radius, MarkerShape shape, Rgb c) {
    const Rgb rim = {(unsigned char)(c.r * 0.55), (unsigned char)(c.g * 0.55),
                     (unsigned char)(c.b * 0.55)};
    if (shape == MARKER_CIRCLE) {
        draw_circle(img, cx, cy, radius + 0.8, rim);
        draw_circle(img, cx, cy, radius - 0.2, c);
    } else {
        fill_marker(img, cx, cy, radius + 1.0, shape, rim);
        fill_marker(img, cx, cy, radius, shape, c);
    }
    /* Anti-aliasing may leave the centre a blend when the shape is tiny; the centre pixel
     * carries the exact colour so that the class can be read back from the image. */
    blend(img, (int)floor(cx), (int)floor(cy), c, 1.0f);
}

/* Visits the ink pixels of text laid out left to right from (0,0) as (tx, ty) offsets. */
typedef void (*InkFn)(Image *img, int tx, int ty, const void *ctx);

static void for_each_ink(Image *img, const char *text, int scale, InkFn fn, const void *ctx) {
    if (scale < 1)
        scale = 1;
    if (scale > FONT_MAX_SCALE)
        scale = FONT_MAX_SCALE;
    unsigned char mask[FONT_W * FONT_MAX_SCALE * FONT_H * FONT_MAX_SCALE];
    const int w = FONT_W * scale, h = FONT_H * scale;
    int pen = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue; /* UTF-8 continuation byte: its character was drawn as one '?' */
        font_glyph_mask(*p, scale, mask);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[y * w + x])
                    fn(img, pen + x, y, ctx);
        pen += FONT_ADVANCE * scale;
    }
}

typedef struct {
    int x0, y0;
    Rgb c;
} InkAt;

static void ink_across(Image *img, int tx, int ty, const void *ctx) {
    const InkAt *a = ctx;
    blend(img, a->x0 + tx, a->y0 + ty, a->c, 1.0f);
}

static void ink_up(Image *img, int tx, int ty, const void *ctx) {
    const InkAt *a = ctx;
    blend(img, a->x0 + ty, a->y0 - tx, a->c, 1.0f);
}

void draw_text(Image *img, double x, double y, const char *text, int scale, Rgb c,
               TextAlign align) {
    const int w = font_text_width(text, scale);
    const double left = align == TEXT_CENTER ? x - w / 2.0 : align == TEXT_RIGHT ? x - w : x;
    const InkAt at = {(int)lround(left), (int)lround(y), c};
    for_each_ink(img, text, scale, ink_across, &at);
}

void draw_text_up(Image *img, double cx, double cy, const char *text, int scale, Rgb c) {
    const int w = font_text_width(text, scale), h = FONT_ASCENT * scale;
    const InkAt at = {(int)lround(cx - h / 2.0), (int)lround(cy + w / 2.0), c};
    for_each_ink(img, text, scale, ink_up, &at);
}
