/* test_plot.c — PNG output and the plots: each figure is written to a scratch directory, read
 * back with stb_image (a decoder we did not write) and checked for its size, a white
 * background, ink in the title region, and the colours its content must show (palette colours
 * of the classes, noise grey, the heat map's ramp ends, the dashed marker) in the right places.
 * Also the font (every glyph has ink, Scale2x smooths diagonals only) and refused input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stb/stb_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/io.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

typedef struct {
    int w, h;
    unsigned char *rgb;
} Decoded;

static Decoded decode(const char *path) {
    Decoded d = {0, 0, NULL};
    int channels;
    d.rgb = stbi_load(path, &d.w, &d.h, &channels, 3);
    cr_assert_not_null(d.rgb, "stb_image cannot read %s", path);
    return d;
}

static int is_colour(const unsigned char *p, Rgb c) {
    return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

/* Pixels of exactly colour c inside [x0,x1) x [y0,y1), and their mean position. */
static long count_colour(const Decoded *d, Rgb c, int x0, int y0, int x1, int y1, double *mx,
                         double *my) {
    long n = 0;
    double sx = 0, sy = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            if (is_colour(d->rgb + ((size_t)y * d->w + x) * 3, c)) {
                n++;
                sx += x;
                sy += y;
            }
    if (mx)
        *mx = n ? sx / n : NAN;
    if (my)
        *my = n ? sy / n : NAN;
    return n;
}

static long count_all(const Decoded *d, Rgb c) {
    return count_colour(d, c, 0, 0, d->w, d->h, NULL, NULL);
}

/* Dark pixels (text) in the band of rows [y0, y1). */
static long dark_pixels(const Decoded *d, int y0, int y1) {
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < d->w; x++) {
            const unsigned char *p = d->rgb + ((size_t)y * d->w + x) * 3;
            n += p[0] < 100 && p[1] < 100 && p[2] < 100;
        }
    return n;
}

static void expect_white_corners(const Decoded *d) {
    const Rgb white = {255, 255, 255};
    const int xs[2] = {1, d->w - 2}, ys[2] = {1, d->h - 2};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            cr_assert(is_colour(d->rgb + ((size_t)ys[j] * d->w + xs[i]) * 3, white),
                      "corner (%d,%d) is not white", xs[i], ys[j]);
}

TestSuite(plot, .init = test_scratch_begin, .fini = test_scratch_end);

/* ---------------------------------------------------------------- PNG */

Test(plot, png_round_trip_through_stb_image) {
    Image img = {0};
    Status st = {0};
    cr_assert_eq(plot_image_new(&img, 37, 23, &st), TK_OK, "%s", st.msg);
    for (int i = 0; i < 37 * 23 * 3; i++)
        img.rgb[i] = (unsigned char)(i * 7 + i / 3);
    const char *path = test_scratch_path("rt.png");
    cr_assert_eq(png_write_rgb(path, &img, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    cr_assert_eq(d.w, 37);
    cr_assert_eq(d.h, 23);
    cr_assert(memcmp(d.rgb, img.rgb, (size_t)37 * 23 * 3) == 0, "pixels differ after decoding");
    stbi_image_free(d.rgb);
    free(img.rgb);
}

Test(plot, png_write_failures_leave_nothing) {
    Image img = {0};
    Status st = {0};
    cr_assert_eq(plot_image_new(&img, 8, 8, &st), TK_OK);
    char path[300];
    snprintf(path, sizeof path, "%s/no-such-dir/x.png", test_scratch_dir());
    cr_assert_eq(png_write_rgb(path, &img, &st), TK_EIO);
    cr_assert(strstr(st.msg, path) != NULL, "%s", st.msg);
    Image empty = {0};
    const char *e = test_scratch_path("e.png");
    cr_assert_eq(png_write_rgb(e, &empty, &st), TK_EINVAL);
    cr_assert_neq(access(e, F_OK), 0, "a file was written for an empty image");
    cr_assert_eq(plot_image_new(&empty, 0, 10, &st), TK_EINVAL);
    free(img.rgb);
}

/* ---------------------------------------------------------------- font */

Test(plot, every_glyph_has_ink_and_scale2x_smooths_only_diagonals) {
    unsigned char m1[FONT_W * FONT_H], m2[FONT_W * 2 * FONT_H * 2];
    for (int c = 33; c < 127; c++) {
        font_glyph_mask((unsigned char)c, 1, m1);
        int ink = 0;
        for (int i = 0; i < FONT_W * FONT_H; i++)
            ink += m1[i];
        cr_assert_gt(ink, 0, "glyph '%c' is blank", c);
    }
    font_glyph_mask(' ', 1, m1);
    for (int i = 0; i < FONT_W * FONT_H; i++)
        cr_assert_eq(m1[i], 0);
    /* '|' and '=' are straight strokes without corners: Scale2x equals plain enlargement;
     * '/' is a staircase and must be smoothed. */
    const char chars[3] = {'|', '=', '/'};
    for (int k = 0; k < 3; k++) {
        font_glyph_mask((unsigned char)chars[k], 1, m1);
        font_glyph_mask((unsigned char)chars[k], 2, m2);
        int differ = 0;
        for (int y = 0; y < FONT_H * 2; y++)
            for (int x = 0; x < FONT_W * 2; x++)
                differ += m2[y * FONT_W * 2 + x] != m1[(y / 2) * FONT_W + x / 2];
        if (chars[k] == '/')
            cr_assert_gt(differ, 0, "Scale2x left '/' as blocks");
        else
            cr_assert_eq(differ, 0, "Scale2x changed '%c'", chars[k]);
    }
    cr_assert_eq(font_text_width("", 2), 0);
    cr_assert_eq(font_text_width("ab", 1), FONT_ADVANCE + FONT_W);
    cr_assert_eq(font_text_width("\xC3\xA9t\xC3\xA9", 1), font_text_width("xyz", 1),
                 "a UTF-8 character must count once");
}

/* ---------------------------------------------------------------- drawing */

static const unsigned char *pixel(const Image *img, int x, int y) {
    return img->rgb + ((size_t)y * img->width + x) * 3;
}

Test(plot, drawing_antialiases_and_clips_at_the_edges) {
    Image img = {0};
    Status st = {0};
    cr_assert_eq(plot_image_new(&img, 60, 40, &st), TK_OK);
    const Rgb red = {200, 0, 0}, blue = {0, 0, 200}, green = {0, 150, 0};
    /* A horizontal 3-pixel line on pixel centres: solid rows 19-21, nothing beyond. */
    draw_line(&img, 5.5, 20.5, 50.5, 20.5, 3.0, red);
    for (int y = 19; y <= 21; y++)
        cr_assert(is_colour(pixel(&img, 30, y), red), "row %d not solid", y);
    cr_assert(is_colour(pixel(&img, 30, 17), (Rgb){255, 255, 255}));
    /* A diagonal line leaves partly covered (blended) pixels beside the solid ones. */
    draw_line(&img, 2, 2, 20, 14, 1.5, blue);
    int partial = 0;
    for (int y = 0; y < 18; y++)
        for (int x = 0; x < 24; x++) {
            const unsigned char *p = pixel(&img, x, y);
            partial += p[2] > 200 && p[0] > 0 && p[0] < 255;
        }
    cr_assert_gt(partial, 5, "no anti-aliased edge pixels");
    /* Shapes and text mostly outside the image are clipped, not written past the buffer
     * (AddressSanitizer watches this test). */
    draw_circle(&img, -5, -5, 12, green);
    draw_circle(&img, 70, 50, 30, green);
    draw_marker(&img, 59, 39, 6, MARKER_TRIANGLE, blue);
    draw_line(&img, -100, -50, 200, 90, 4, green);
    draw_rect(&img, -10, 35, 100, 80, red, 0.5f);
    draw_text(&img, 50, 30, "clipped text", 2, blue, TEXT_LEFT);
    draw_text_up(&img, 2, 20, "up", 2, blue);
    draw_dashed_line(&img, 0, 39.5, 60, 39.5, 1, 3, blue);
    cr_assert(is_colour(pixel(&img, 0, 0), green), "circle over the corner missing");
    /* A half-transparent rectangle blends: 255 -> 255 + (200 - 255) / 2 in red. */
    const unsigned char *p = pixel(&img, 30, 36);
    cr_assert(abs(p[0] - 228) <= 1 && abs(p[1] - 128) <= 1, "blend gave %d,%d,%d", p[0], p[1],
              p[2]);
    free(img.rgb);
}

Test(plot, upright_text_reads_bottom_to_top) {
    Image img = {0};
    Status st = {0};
    cr_assert_eq(plot_image_new(&img, 40, 60, &st), TK_OK);
    const Rgb ink = {0, 0, 0};
    /* "L" turned a quarter turn counter-clockwise: its stem (the glyph's left column) lies
     * along the bottom, its foot runs up the right side. */
    draw_text_up(&img, 20, 30, "L", 1, ink);
    int minx = 99, maxx = -1, miny = 99, maxy = -1;
    for (int y = 0; y < 60; y++)
        for (int x = 0; x < 40; x++)
            if (is_colour(pixel(&img, x, y), ink)) {
                minx = x < minx ? x : minx;
                maxx = x > maxx ? x : maxx;
                miny = y < miny ? y : miny;
                maxy = y > maxy ? y : maxy;
            }
    cr_assert_eq(maxx - minx + 1, FONT_ASCENT, "upright glyph is %d wide", maxx - minx + 1);
    cr_assert_eq(maxy - miny + 1, FONT_W, "upright glyph is %d tall", maxy - miny + 1);
    /* The stem (glyph column 0, all 7 rows) is the bottom row of the rotated glyph. */
    for (int x = minx; x <= maxx; x++)
        cr_assert(is_colour(pixel(&img, x, maxy), ink), "stem pixel (%d,%d) missing", x, maxy);
    free(img.rgb);
}

/* ---------------------------------------------------------------- plots */

/* Three clusters at the left-bottom, top-middle and right-bottom, and some noise. */
Test(plot, scatter_shows_each_cluster_in_its_place_and_a_legend) {
    enum { N = 600 };
    float xy[2 * N];
    int labels[N];
    Rng rng;
    rng_seed(&rng, 7, 0);
    const float cx[3] = {-10, 0, 10}, cy[3] = {-10, 10, -10};
    for (int i = 0; i < N; i++) {
        labels[i] = i % 20 == 0 ? -1 : i % 3;
        const int k = i % 3;
        xy[2 * i] = labels[i] < 0 ? 30 * rng_uniform(&rng) - 15 : cx[k] + rng_normal(&rng);
        xy[2 * i + 1] = labels[i] < 0 ? 30 * rng_uniform(&rng) - 15 : cy[k] + rng_normal(&rng);
    }
    const char *names[3] = {"reach", "grasp", NULL};
    PlotStyle style = {800, 600, "Clusters", "x", "y"};
    const char *path = test_scratch_path("scatter.png");
    Status st = {0};
    cr_assert_eq(plot_scatter(path, &style, xy, N, labels, names, 3, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    cr_assert_eq(d.w, 800);
    cr_assert_eq(d.h, 600);
    expect_white_corners(&d);
    cr_assert_gt(dark_pixels(&d, 0, 40), 50, "no title text");
    /* Each cluster's colour, mostly where its points are (the legend adds a few pixels on the
     * right edge, so the plot area is the left 3/4). */
    const double want_x[3] = {0.2, 0.5, 0.8}, want_y[3] = {0.8, 0.2, 0.8};
    for (int k = 0; k < 3; k++) {
        double mx, my;
        long n = count_colour(&d, plot_palette(k), 0, 0, d.w * 3 / 4, d.h, &mx, &my);
        cr_assert_gt(n, 200, "cluster %d colour hardly present (%ld pixels)", k, n);
        cr_assert(fabs(mx / (d.w * 3 / 4) - want_x[k]) < 0.12 && fabs(my / d.h - want_y[k]) < 0.15,
                  "cluster %d drawn around (%.0f, %.0f)", k, mx, my);
        cr_assert_gt(count_colour(&d, plot_palette(k), d.w * 3 / 4, 0, d.w, d.h, NULL, NULL), 5,
                     "cluster %d missing from the legend", k);
    }
    cr_assert_gt(count_all(&d, PLOT_NOISE_RGB), 20, "noise not drawn");
    cr_assert_eq(count_all(&d, plot_palette(3)), 0, "a fourth cluster colour appeared");
    stbi_image_free(d.rgb);
}

Test(plot, scatter_refuses_bad_input) {
    Status st = {0};
    float xy[4] = {NAN, 1, 2, INFINITY};
    int labels[2] = {0, -2};
    const char *files[3] = {test_scratch_path("s.png"), test_scratch_path("s2.png"),
                            test_scratch_path("s3.png")};
    cr_assert_eq(plot_scatter(files[0], NULL, xy, 2, NULL, NULL, 0, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "finite") != NULL, "%s", st.msg);
    float ok[4] = {0, 1, 2, 3};
    cr_assert_eq(plot_scatter(files[1], NULL, ok, 2, labels, NULL, 0, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "point 1") != NULL, "%s", st.msg);
    cr_assert_eq(plot_scatter(files[2], NULL, ok, 0, NULL, NULL, 0, &st), TK_EINVAL);
    for (int i = 0; i < 3; i++)
        cr_assert_neq(access(files[i], F_OK), 0, "%s written despite the error", files[i]);
}

/* Counts pixels of the marker line colour in the plot with and without mark_x. */
static long elbow_muted_pixels(const char *name, double mark_x) {
    double inertia[8] = {800, 300, 120, 60, 52, 47, 44, 42};
    double val[8] = {820, 330, 150, 90, 85, 83, 84, 86};
    PlotSeries s[2] = {{"train", NULL, inertia, 8, 1}, {"validation", NULL, val, 8, 0}};
    LinePlotOptions o = {{700, 500, "Elbow", "k", "inertia"}, 0, mark_x, "k = 4"};
    const char *path = test_scratch_path(name);
    Status st = {0};
    cr_assert_eq(plot_lines(path, &o, s, 2, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    cr_assert_eq(d.w, 700);
    cr_assert_eq(d.h, 500);
    expect_white_corners(&d);
    cr_assert_gt(dark_pixels(&d, 0, 40), 50, "no title text");
    cr_assert_gt(count_all(&d, plot_palette(0)), 300, "first series missing");
    cr_assert_gt(count_all(&d, plot_palette(1)), 300, "second series missing");
    const Rgb muted = {90, 90, 90};
    long n = count_all(&d, muted);
    stbi_image_free(d.rgb);
    return n;
}

Test(plot, lines_draw_every_series_and_the_marked_k) {
    const long with = elbow_muted_pixels("elbow.png", 4);
    const long without = elbow_muted_pixels("plain.png", NAN);
    cr_assert_gt(with, without + 150, "the dashed line at k = 4 is missing (%ld vs %ld)", with,
                 without);
}

/* Dark (text) pixels of a line plot with its last x marked, labelled or not. */
static long last_x_marked_dark_pixels(const char *name, const char *label) {
    double acc[6] = {0.1, 0.3, 0.5, 0.6, 0.7, 0.8};
    PlotSeries s = {"training", NULL, acc, 6, 0};
    LinePlotOptions o = {{700, 500, NULL, "epoch", "accuracy"}, 0, 6, label};
    const char *path = test_scratch_path(name);
    Status st = {0};
    cr_assert_eq(plot_lines(path, &o, &s, 1, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    const long n = dark_pixels(&d, 0, d.h);
    stbi_image_free(d.rgb);
    return n;
}

/* The legend sits top right, where the label of a mark at the last x used to go: the label
 * must still show (below the legend). */
Test(plot, a_mark_at_the_last_x_keeps_its_label_clear_of_the_legend) {
    const long with = last_x_marked_dark_pixels("kept.png", "kept");
    const long without = last_x_marked_dark_pixels("unlabelled.png", NULL);
    cr_assert_gt(with, without + 40, "the label 'kept' is hidden (%ld vs %ld dark pixels)", with,
                 without);
}

Test(plot, log_lines_skip_non_positive_values_and_refuse_empty_data) {
    double loss[5] = {1.0, 0.1, -1, 0.01, 0.001};
    PlotSeries s = {"loss", NULL, loss, 5, 0};
    LinePlotOptions o = {{0, 0, NULL, NULL, NULL}, 1, NAN, NULL};
    Status st = {0};
    const char *path = test_scratch_path("log.png");
    cr_assert_eq(plot_lines(path, &o, &s, 1, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    cr_assert_eq(d.w, 900);
    cr_assert_gt(count_all(&d, plot_palette(0)), 100);
    stbi_image_free(d.rgb);
    double bad[2] = {-1, 0};
    PlotSeries b = {"x", NULL, bad, 2, 0};
    cr_assert_eq(plot_lines(test_scratch_path("bad.png"), &o, &b, 1, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "y > 0") != NULL, "%s", st.msg);
}

Test(plot, heatmap_ramp_numbers_and_row_normalisation) {
    /* Row 0 holds small counts, row 1 large ones: without normalisation only row 1 gets the
     * dark end of the ramp; normalised by row, the diagonal of both rows does. */
    const double cm[4] = {9, 1, 100, 0};
    const char *names[2] = {"reach", "grasp"};
    const Rgb darkest = {10, 48, 107}, lightest = {246, 250, 255};
    long dark[2];
    for (int norm = 0; norm < 2; norm++) {
        HeatmapOptions o = {{500, 400, "Confusion", "predicted", "true"}, names, names, 1, norm};
        const char *path = test_scratch_path(norm ? "cm_norm.png" : "cm.png");
        Status st = {0};
        cr_assert_eq(plot_heatmap(path, &o, cm, 2, 2, &st), TK_OK, "%s", st.msg);
        Decoded d = decode(path);
        cr_assert_eq(d.w, 500);
        cr_assert_eq(d.h, 400);
        expect_white_corners(&d);
        cr_assert_gt(dark_pixels(&d, 0, 40), 40, "no title text");
        dark[norm] = 0;
        for (size_t i = 0; i < (size_t)d.w * d.h; i++) {
            const unsigned char *p = d.rgb + 3 * i;
            dark[norm] += p[0] < 80 && p[2] > 90; /* the dark blue half of the ramp */
        }
        cr_assert_gt(count_all(&d, lightest), 1000, "the zero cell is not the light end");
        cr_assert_gt(count_all(&d, darkest), 1000, "the largest cell is not the dark end");
        stbi_image_free(d.rgb);
    }
    cr_assert_gt(dark[1], dark[0] * 3 / 2, "normalising rows did not darken row 0's diagonal");
    Status st = {0};
    const double nan_cell[1] = {NAN};
    cr_assert_eq(plot_heatmap(test_scratch_path("nan.png"), NULL, nan_cell, 1, 1, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "(0, 0)") != NULL, "%s", st.msg);
}

/* Rows 0,1 merge low, rows 2,3 merge low, the two pairs merge high (scipy's format). */
static const double Z4[12] = {0, 1, 1.0, 2, 2, 3, 1.5, 2, 4, 5, 10.0, 4};

Test(plot, dendrogram_colours_subtrees_below_the_cut) {
    DendrogramOptions o = {{600, 450, "Dendrogram", NULL, "distance"}, 5.0, 0};
    const char *path = test_scratch_path("dendro.png");
    Status st = {0};
    cr_assert_eq(plot_dendrogram(path, &o, Z4, 4, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    cr_assert_eq(d.w, 600);
    expect_white_corners(&d);
    double x0, x1, y0, y1;
    cr_assert_gt(count_colour(&d, plot_palette(0), 0, 0, d.w, d.h, &x0, &y0), 50);
    cr_assert_gt(count_colour(&d, plot_palette(1), 0, 0, d.w, d.h, &x1, &y1), 50);
    cr_assert_lt(x0, x1, "left subtree should take the first colour");
    const Rgb muted = {90, 90, 90};
    double xm, ym;
    cr_assert_gt(count_colour(&d, muted, 0, 0, d.w, d.h, &xm, &ym), 100, "top link missing");
    cr_assert_lt(ym, y0, "the link above the cut should be above the subtrees");
    stbi_image_free(d.rgb);

    /* Without a cut: one colour; truncated to 2 leaves: both shown as "(2)". */
    DendrogramOptions plain = {{600, 450, NULL, NULL, NULL}, NAN, 2};
    path = test_scratch_path("dendro2.png");
    cr_assert_eq(plot_dendrogram(path, &plain, Z4, 4, &st), TK_OK, "%s", st.msg);
    d = decode(path);
    cr_assert_gt(count_all(&d, plot_palette(0)), 50);
    cr_assert_eq(count_all(&d, plot_palette(1)), 0);
    stbi_image_free(d.rgb);
}

Test(plot, dendrogram_refuses_a_malformed_linkage) {
    Status st = {0};
    const double repeated[12] = {0, 1, 1.0, 2, 1, 2, 1.5, 2, 3, 4, 2.0, 4};
    cr_assert_eq(plot_dendrogram(test_scratch_path("r.png"), NULL, repeated, 4, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "row 1") && strstr(st.msg, "already merged"), "%s", st.msg);
    const double future[12] = {0, 5, 1.0, 2, 2, 3, 1.5, 2, 1, 4, 2.0, 4};
    cr_assert_eq(plot_dendrogram(test_scratch_path("f.png"), NULL, future, 4, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "row 0") && strstr(st.msg, "not below 4"), "%s", st.msg);
    const double negative[12] = {0, 1, -1.0, 2, 2, 3, 1.5, 2, 4, 5, 2.0, 4};
    cr_assert_eq(plot_dendrogram(test_scratch_path("n.png"), NULL, negative, 4, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "height") != NULL, "%s", st.msg);
}

Test(plot, timeline_lanes_hold_their_segments) {
    const PlotSegment seg[6] = {{0, 10, 0}, {10, 25, 1}, {25, 30, -1},
                                {30, 40, 0}, {40, 55, 1}, {55, 60, 0}};
    const char *names[2] = {"reach", "grasp"};
    TimelineOptions o = {{800, 0, "Timeline", NULL, NULL}, names, 2};
    const char *path = test_scratch_path("timeline.png");
    Status st = {0};
    cr_assert_eq(plot_timeline(path, &o, seg, 6, &st), TK_OK, "%s", st.msg);
    Decoded d = decode(path);
    cr_assert_eq(d.w, 800);
    cr_assert(d.h >= 150 && d.h < 600, "automatic height %d", d.h);
    expect_white_corners(&d);
    cr_assert_gt(dark_pixels(&d, 0, 40), 40, "no title text");
    double y0, y1, yn;
    cr_assert_gt(count_colour(&d, plot_palette(0), 0, 0, d.w, d.h, NULL, &y0), 500);
    cr_assert_gt(count_colour(&d, plot_palette(1), 0, 0, d.w, d.h, NULL, &y1), 500);
    cr_assert_gt(count_colour(&d, PLOT_NOISE_RGB, 0, 0, d.w, d.h, NULL, &yn), 100);
    cr_assert(y0 < y1 && y1 < yn, "lanes out of order: %.0f %.0f %.0f", y0, y1, yn);
    stbi_image_free(d.rgb);
    const PlotSegment backwards[1] = {{5, 4, 0}};
    cr_assert_eq(plot_timeline(test_scratch_path("b.png"), &o, backwards, 1, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "segment 0") != NULL, "%s", st.msg);
    const PlotSegment unknown[1] = {{0, 4, 2}};
    cr_assert_eq(plot_timeline(test_scratch_path("u.png"), &o, unknown, 1, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "label 2") != NULL, "%s", st.msg);
}
