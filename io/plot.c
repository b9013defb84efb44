/* plot — the figures takt writes: scatter (clusters, t-SNE), lines (elbow, loss curves), heat
 * map (confusion matrix), dendrogram (hierarchical clustering) and timeline (the study).
 *
 * Every figure is laid out the same way: title on top, a plot area framed in grey with light
 * grid lines at the ticks, tick labels and axis labels outside it, a legend on the right when
 * there are classes to tell apart. Tick positions are Heckbert's "nice numbers" (P. Heckbert,
 * "Nice numbers for graph labels", Graphics Gems, 1990): a step of 1, 2 or 5 times a power of
 * ten giving about PLOT_TARGET_TICKS ticks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

#define TEXT_SCALE 2
#define CHAR_H (FONT_H * TEXT_SCALE)
#define DEFAULT_WIDTH 900
#define DEFAULT_HEIGHT 640
#define PLOT_MAX_TICKS 8
#define PLOT_TARGET_TICKS 6
#define LEGEND_ROW (CHAR_H + 8)
#define LEGEND_SWATCH 26
#define LABEL_MAX 64

static const Rgb INK = {34, 34, 34};
static const Rgb GRID = {230, 230, 230};
static const Rgb MINOR_GRID = {244, 244, 244};
static const Rgb FRAME = {110, 110, 110};
static const Rgb MUTED = {90, 90, 90};
static const Rgb WHITE = {255, 255, 255};

/* Okabe & Ito, "Color Universal Design" (2002/2008), their eight colours by hex value,
 * ordered so that neighbours in the list differ most; yellow, the weakest on white, and
 * black, the axes' colour, come last. */
Rgb plot_palette(int i) {
    static const Rgb okabe_ito[PLOT_PALETTE_SIZE] = {
        {0x00, 0x72, 0xB2}, /* blue */
        {0xE6, 0x9F, 0x00}, /* orange */
        {0x00, 0x9E, 0x73}, /* bluish green */
        {0xD5, 0x5E, 0x00}, /* vermillion */
        {0xCC, 0x79, 0xA7}, /* reddish purple */
        {0x56, 0xB4, 0xE9}, /* sky blue */
        {0xF0, 0xE4, 0x42}, /* yellow */
        {0x00, 0x00, 0x00}, /* black */
    };
    return okabe_ito[((i % PLOT_PALETTE_SIZE) + PLOT_PALETTE_SIZE) % PLOT_PALETTE_SIZE];
}

MarkerShape plot_marker_for(int i) {
    return (MarkerShape)((i < 0 ? 0 : i / PLOT_PALETTE_SIZE) % MARKER_COUNT);
}

/* ---------------------------------------------------------------- axes */

typedef struct {
    double lo, hi;    /* the range the plot area spans (log10 of it on a log axis) */
    double first;     /* first tick */
    double step;      /* between ticks */
    int log;
    int time;         /* ticks are seconds, labelled m:ss or h:mm:ss */
} Axis;

static double nice_number(double x, int round) {
    const double e = floor(log10(x)), f = x / pow(10.0, e);
    double nf;
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10.0, e);
}

/* loose: the axis starts and ends on ticks (line plots); otherwise it spans the data plus
 * `pad` of its range on each side, ticks falling inside (scatter plots). */
static void axis_linear(Axis *a, double lo, double hi, int integer, int loose, double pad) {
    memset(a, 0, sizeof *a);
    if (!(hi > lo)) {
        const double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;
        lo -= d;
        hi += d;
    }
    /* On a loose axis, padding never pushes non-negative data below zero (nor the reverse):
     * an axis of counts or losses should not show negative values. */
    const double span = hi - lo;
    lo = loose && lo >= 0 && lo - span * pad < 0 ? 0 : lo - span * pad;
    hi = loose && hi <= 0 && hi + span * pad > 0 ? 0 : hi + span * pad;
    double step = nice_number((hi - lo) / (PLOT_TARGET_TICKS - 1), 1);
    if (integer && step < 1)
        step = 1;
    a->step = step;
    if (loose) {
        a->lo = floor(lo / step) * step;
        a->hi = ceil(hi / step) * step;
    } else {
        a->lo = lo;
        a->hi = hi;
    }
    a->first = ceil(a->lo / step - 1e-9) * step;
}

/* Decades covering [lo, hi] (both > 0); at most PLOT_MAX_TICKS labelled powers of ten. */
static void axis_log(Axis *a, double lo, double hi) {
    memset(a, 0, sizeof *a);
    a->log = 1;
    a->lo = floor(log10(lo));
    a->hi = ceil(log10(hi));
    if (a->hi <= a->lo)
        a->hi = a->lo + 1;
    a->first = a->lo;
    a->step = ceil((a->hi - a->lo) / (PLOT_MAX_TICKS - 1));
}

/* Seconds: steps people count in (1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6,
 * 12 h), tight range from lo to hi. */
static void axis_time(Axis *a, double lo, double hi) {
    static const double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600,
                                   900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
    memset(a, 0, sizeof *a);
    if (!(hi > lo))
        hi = lo + 1;
    a->lo = lo;
    a->hi = hi;
    a->time = 1;
    const int n = (int)(sizeof steps / sizeof steps[0]);
    a->step = steps[n - 1];
    for (int i = 0; i < n; i++)
        if ((hi - lo) / steps[i] <= PLOT_MAX_TICKS) {
            a->step = steps[i];
            break;
        }
    a->first = ceil(lo / a->step - 1e-9) * a->step;
}

static int axis_tick_count(const Axis *a) {
    return (int)floor((a->hi - a->first) / a->step + 1e-9) + 1;
}

static double axis_tick(const Axis *a, int i) { return a->first + i * a->step; }

static void format_tick(const Axis *a, double v, char *buf, size_t size) {
    if (a->log) {
        snprintf(buf, size, "%g", pow(10.0, v));
        return;
    }
    if (fabs(v) < a->step * 1e-6)
        v = 0.0; /* no "-0" */
    if (a->time && a->hi >= 120) {
        const long s = lround(v);
        if (a->hi >= 3600)
            snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
        else
            snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
        return;
    }
    const double mag = fmax(fabs(a->lo), fabs(a->hi));
    if (mag >= 1e6 || (mag > 0 && a->step < 1e-4)) {
        snprintf(buf, size, "%.3g", v);
        return;
    }
    const int decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
    snprintf(buf, size, "%.*f", decimals, v);
}

static int axis_label_width(const Axis *a) {
    int w = 0;
    char buf[LABEL_MAX];
    for (int i = 0; i < axis_tick_count(a); i++) {
        format_tick(a, axis_tick(a, i), buf, sizeof buf);
        const int tw = font_text_width(buf, TEXT_SCALE);
        w = tw > w ? tw : w;
    }
    return w;
}

/* ---------------------------------------------------------------- figure */

typedef struct {
    Image img;
    const PlotStyle *style;
    int left, top, right, bottom; /* plot area [left, right) x [top, bottom) */
    Axis x, y;
} Figure;

enum { SHOW_X = 1, SHOW_Y = 2 };

static double map_x(const Figure *f, double v) {
    if (f->x.log)
        v = log10(v);
    return f->left + (v - f->x.lo) / (f->x.hi - f->x.lo) * (f->right - f->left);
}

static double map_y(const Figure *f, double v) {
    if (f->y.log)
        v = log10(v);
    return f->bottom - (v - f->y.lo) / (f->y.hi - f->y.lo) * (f->bottom - f->top);
}

static const PlotStyle no_style = {0, 0, NULL, NULL, NULL};

static StatusCode figure_begin(Figure *f, const PlotStyle *style, int default_height,
                               Status *st) {
    memset(f, 0, sizeof *f);
    f->style = style ? style : &no_style;
    const int w = f->style->width > 0 ? f->style->width : DEFAULT_WIDTH;
    const int h = f->style->height > 0 ? f->style->height : default_height;
    if (w < 200 || h < 150)
        return status_fail(st, TK_EINVAL, "plot: %dx%d is too small (at least 200x150)", w, h);
    return plot_image_new(&f->img, w, h, st);
}

/* Margins around the plot area: room for the title, the tick labels (y_tick_width wide), the
 * axis labels, extra_bottom (leaf names) and a legend legend_width wide on the right. */
static void figure_layout(Figure *f, int y_tick_width, int extra_bottom, int legend_width) {
    const PlotStyle *s = f->style;
    f->top = s->title ? 14 + CHAR_H + 14 : 22;
    f->left = 16 + (s->y_label ? CHAR_H + 12 : 0) + y_tick_width + 12;
    f->bottom = f->img.height - (12 + CHAR_H + 10 + (s->x_label ? CHAR_H + 10 : 0) +
                                 extra_bottom);
    f->right = f->img.width - (legend_width > 0 ? legend_width + 28 : 28);
    if (f->bottom < f->top + 20)
        f->bottom = f->top + 20;
    if (f->right < f->left + 20)
        f->right = f->left + 20;
}

static void draw_title(Figure *f) {
    if (!f->style->title)
        return;
    /* Centred over the plot area, but kept inside the image when it is wider; bold by
     * doubling the strokes one pixel apart. */
    const double half = (font_text_width(f->style->title, TEXT_SCALE) + 1) / 2.0;
    double cx = (f->left + f->right) / 2.0;
    if (cx + half > f->img.width - 8)
        cx = f->img.width - 8 - half;
    if (cx - half < 8)
        cx = 8 + half;
    draw_text(&f->img, cx, 14, f->style->title, TEXT_SCALE, INK, TEXT_CENTER);
    draw_text(&f->img, cx + 1, 14, f->style->title, TEXT_SCALE, INK, TEXT_CENTER);
}

static void figure_axes(Figure *f, int show, int extra_bottom) {
    Image *img = &f->img;
    char buf[LABEL_MAX];
    if (show & SHOW_X)
        for (int i = 0; i < axis_tick_count(&f->x); i++) {
            const double v = axis_tick(&f->x, i);
            const double px = f->left + (v - f->x.lo) / (f->x.hi - f->x.lo) * (f->right - f->left);
            draw_line(img, px, f->top, px, f->bottom, 1.0, GRID);
            draw_line(img, px, f->bottom, px, f->bottom + 5, 1.0, FRAME);
            format_tick(&f->x, v, buf, sizeof buf);
            const double half = font_text_width(buf, TEXT_SCALE) / 2.0;
            draw_text(img, fmin(px, img->width - 3 - half), f->bottom + 9, buf, TEXT_SCALE, INK,
                      TEXT_CENTER);
        }
    if ((show & SHOW_Y) && f->y.log && f->y.step == 1)
        for (double e = f->y.lo; e < f->y.hi; e++)
            for (int m = 2; m <= 9; m++) {
                const double py = f->bottom - (e + log10(m) - f->y.lo) / (f->y.hi - f->y.lo) *
                                                  (f->bottom - f->top);
                draw_line(img, f->left, py, f->right, py, 1.0, MINOR_GRID);
            }
    if (show & SHOW_Y)
        for (int i = 0; i < axis_tick_count(&f->y); i++) {
            const double v = axis_tick(&f->y, i);
            const double py = f->bottom - (v - f->y.lo) / (f->y.hi - f->y.lo) * (f->bottom - f->top);
            draw_line(img, f->left, py, f->right, py, 1.0, GRID);
            draw_line(img, f->left - 5, py, f->left, py, 1.0, FRAME);
            format_tick(&f->y, v, buf, sizeof buf);
            draw_text(img, f->left - 9, py - FONT_ASCENT * TEXT_SCALE / 2.0, buf, TEXT_SCALE,
                      INK, TEXT_RIGHT);
        }
    draw_title(f);
    if (f->style->x_label)
        draw_text(img, (f->left + f->right) / 2.0, f->bottom + 9 + CHAR_H + 8 + extra_bottom,
                  f->style->x_label, TEXT_SCALE, INK, TEXT_CENTER);
    if (f->style->y_label)
        draw_text_up(img, 16 + CHAR_H / 2.0, (f->top + f->bottom) / 2.0, f->style->y_label,
                     TEXT_SCALE, INK);
}

/* The frame goes on last so that nothing drawn inside covers it. */
static void draw_frame(Figure *f) {
    Image *img = &f->img;
    draw_rect(img, f->left - 1, f->top - 1, f->right + 1, f->top, FRAME, 1.0f);
    draw_rect(img, f->left - 1, f->bottom, f->right + 1, f->bottom + 1, FRAME, 1.0f);
    draw_rect(img, f->left - 1, f->top, f->left, f->bottom, FRAME, 1.0f);
    draw_rect(img, f->right, f->top, f->right + 1, f->bottom, FRAME, 1.0f);
}

static StatusCode figure_save(Figure *f, const char *path, Status *st) {
    StatusCode code = png_write_rgb(path, &f->img, st);
    free(f->img.rgb);
    f->img.rgb = NULL;
    return code;
}

/* ---------------------------------------------------------------- legend */

typedef enum { SWATCH_MARKER, SWATCH_LINE } SwatchKind;

typedef struct {
    char name[LABEL_MAX];
    Rgb c;
    SwatchKind kind;
    MarkerShape shape;
} LegendEntry;

static int legend_width(const LegendEntry *e, int n) {
    int w = 0;
    for (int i = 0; i < n; i++) {
        const int tw = font_text_width(e[i].name, TEXT_SCALE);
        w = tw > w ? tw : w;
    }
    return n > 0 ? w + LEGEND_SWATCH + 10 + 12 : 0;
}

/* Entries from (x, y) down, as many as fit above max_y; the last row then says how many more
 * there were. boxed: on a white panel with a grey border (inside a plot area). */
static void draw_legend(Image *img, int x, int y, int max_y, const LegendEntry *e, int n,
                        int boxed) {
    int fit = (max_y - y - 12) / LEGEND_ROW;
    if (fit < 1)
        fit = 1;
    const int shown = n <= fit ? n : fit - 1;
    const int rows = n <= fit ? n : fit;
    const int w = legend_width(e, n);
    if (boxed) {
        draw_rect(img, x, y, x + w, y + rows * LEGEND_ROW + 12, FRAME, 1.0f);
        draw_rect(img, x + 1, y + 1, x + w - 1, y + rows * LEGEND_ROW + 11, WHITE, 1.0f);
    }
    for (int i = 0; i < shown; i++) {
        const double cy = y + 6 + i * LEGEND_ROW + LEGEND_ROW / 2.0;
        const double sx = x + 6;
        if (e[i].kind == SWATCH_LINE)
            draw_line(img, sx + 2, cy, sx + LEGEND_SWATCH - 2, cy, 3.0, e[i].c);
        else
            draw_marker(img, sx + LEGEND_SWATCH / 2.0, cy, 5.0, e[i].shape, e[i].c);
        draw_text(img, sx + LEGEND_SWATCH + 8, cy - FONT_ASCENT * TEXT_SCALE / 2.0, e[i].name,
                  TEXT_SCALE, INK, TEXT_LEFT);
    }
    if (shown < n) {
        char more[LABEL_MAX];
        snprintf(more, sizeof more, "+ %d more", n - shown);
        draw_text(img, x + 6 + LEGEND_SWATCH + 8,
                  y + 6 + shown * LEGEND_ROW + (LEGEND_ROW - FONT_ASCENT * TEXT_SCALE) / 2.0,
                  more, TEXT_SCALE, MUTED, TEXT_LEFT);
    }
}

/* ---------------------------------------------------------------- scatter */

StatusCode plot_scatter(const char *path, const PlotStyle *style, const float *xy, int n,
                        const int *labels, const char *const *label_names, int n_names,
                        Status *st) {
    if (n < 1)
        return status_fail(st, TK_EINVAL, "%s: scatter plot of no points", path);
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    int max_label = -1, noise = 0;
    for (int i = 0; i < n; i++) {
        if (labels && labels[i] < -1)
            return status_fail(st, TK_EINVAL, "%s: point %d has label %d (-1 or more expected)",
                               path, i, labels[i]);
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
            continue;
        x_lo = fmin(x_lo, xy[2 * i]);
        x_hi = fmax(x_hi, xy[2 * i]);
        y_lo = fmin(y_lo, xy[2 * i + 1]);
        y_hi = fmax(y_hi, xy[2 * i + 1]);
        const int l = labels ? labels[i] : 0;
        max_label = l > max_label ? l : max_label;
        noise |= l == -1;
    }
    if (!(x_lo <= x_hi))
        return status_fail(st, TK_EINVAL, "%s: scatter plot: no point has finite coordinates",
                           path);
    /* Legend: the labels present, ascending, then noise. */
    int *present = calloc((size_t)max_label + 2, sizeof *present);
    LegendEntry *legend = calloc((size_t)max_label + 2, sizeof *legend);
    if (!present || !legend) {
        free(present);
        free(legend);
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d labels", path, max_label);
    }
    for (int i = 0; i < n; i++)
        if (isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]) && (!labels || labels[i] >= 0))
            present[labels ? labels[i] : 0] = 1;
    int n_legend = 0;
    if (labels) {
        for (int l = 0; l <= max_label; l++) {
            if (!present[l])
                continue;
            LegendEntry *e = &legend[n_legend++];
            if (label_names && l < n_names && label_names[l])
                snprintf(e->name, sizeof e->name, "%s", label_names[l]);
            else
                snprintf(e->name, sizeof e->name, "cluster %d", l);
            e->c = plot_palette(l);
            e->shape = plot_marker_for(l);
        }
        if (noise) {
            LegendEntry *e = &legend[n_legend++];
            snprintf(e->name, sizeof e->name, "noise");
            e->c = PLOT_NOISE_RGB;
        }
    }
    Figure f;
    StatusCode code = figure_begin(&f, style, DEFAULT_HEIGHT, st);
    if (code != TK_OK) {
        free(present);
        free(legend);
        return code;
    }
    axis_linear(&f.x, x_lo, x_hi, 0, 0, 0.04);
    axis_linear(&f.y, y_lo, y_hi, 0, 0, 0.04);
    figure_layout(&f, axis_label_width(&f.y), 0, legend_width(legend, n_legend));
    figure_axes(&f, SHOW_X | SHOW_Y, 0);
    const double radius = n <= 300 ? 4.5 : n <= 3000 ? 3.5 : n <= 30000 ? 2.5 : 1.8;
    /* Noise first, so that the clusters stay visible on top of it. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const int l = labels ? labels[i] : 0;
            if ((l == -1) != (pass == 0) || !isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
                continue;
            const double px = map_x(&f, xy[2 * i]), py = map_y(&f, xy[2 * i + 1]);
            if (l == -1)
                draw_circle(&f.img, px, py, radius * 0.7, PLOT_NOISE_RGB);
            else
                draw_marker(&f.img, px, py, radius, plot_marker_for(l), plot_palette(l));
        }
    draw_frame(&f);
    draw_legend(&f.img, f.right + 16, f.top, f.img.height - 8, legend, n_legend, 0);
    free(present);
    free(legend);
    return figure_save(&f, path, st);
}

/* ---------------------------------------------------------------- lines */

static double series_x(const PlotSeries *s, int i) { return s->x ? s->x[i] : i + 1; }

StatusCode plot_lines(const char *path, const LinePlotOptions *opt, const PlotSeries *series,
                      int n_series, Status *st) {
    const int log_y = opt && opt->log_y;
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    int integer_x = 1;
    for (int s = 0; s < n_series; s++)
        for (int i = 0; i < series[s].n; i++) {
            const double x = series_x(&series[s], i), y = series[s].y[i];
            if (!isfinite(x) || !isfinite(y) || (log_y && y <= 0))
                continue;
            x_lo = fmin(x_lo, x);
            x_hi = fmax(x_hi, x);
            y_lo = fmin(y_lo, y);
            y_hi = fmax(y_hi, y);
            integer_x &= x == floor(x);
        }
    if (!(x_lo <= x_hi))
        return status_fail(st, TK_EINVAL, "%s: line plot: no point with finite coordinates%s",
                           path, log_y ? " and y > 0" : "");
    Figure f;
    StatusCode code = figure_begin(&f, opt ? &opt->style : NULL, DEFAULT_HEIGHT, st);
    if (code != TK_OK)
        return code;
    axis_linear(&f.x, x_lo, x_hi, integer_x, 1, 0.0);
    if (integer_x && x_hi - x_lo <= 20) {
        /* Few integer x values (k of an elbow): one tick each, half a step of air around. */
        f.x.step = x_hi - x_lo > 10 ? 2 : 1;
        f.x.first = x_lo;
        f.x.lo = x_lo - 0.5;
        f.x.hi = x_hi + 0.5;
    }
    if (log_y)
        axis_log(&f.y, y_lo, y_hi);
    else
        axis_linear(&f.y, y_lo, y_hi, 0, 1, 0.02);
    LegendEntry legend[32];
    int n_legend = 0;
    for (int s = 0; s < n_series && n_legend < 32; s++)
        if (series[s].name) {
            LegendEntry *e = &legend[n_legend++];
            snprintf(e->name, sizeof e->name, "%s", series[s].name);
            e->c = plot_palette(s);
            e->kind = SWATCH_LINE;
        }
    figure_layout(&f, axis_label_width(&f.y), 0, 0);
    figure_axes(&f, SHOW_X | SHOW_Y, 0);
    if (opt && isfinite(opt->mark_x) && opt->mark_x >= f.x.lo && opt->mark_x <= f.x.hi) {
        const double px = map_x(&f, opt->mark_x);
        draw_dashed_line(&f.img, px, f.top, px, f.bottom, 2.0, 7.0, MUTED);
        if (opt->mark_label) {
            const int tw = font_text_width(opt->mark_label, TEXT_SCALE);
            const int right_side = px + 8 + tw < f.right - 4;
            const double x0 = right_side ? px + 8 : px - 8 - tw;
            /* Below the legend (drawn last, top right) when the label would sit under it, as
             * it does whenever the marked x is the last one. */
            int y = f.top + 8;
            if (n_legend > 0 && x0 + tw >= f.right - legend_width(legend, n_legend) - 10)
                y = f.top + 10 + n_legend * LEGEND_ROW + 12 + 8;
            draw_text(&f.img, right_side ? px + 8 : px - 8, y, opt->mark_label, TEXT_SCALE,
                      INK, right_side ? TEXT_LEFT : TEXT_RIGHT);
        }
    }
    for (int s = 0; s < n_series; s++) {
        const Rgb c = plot_palette(s);
        double prev_x = NAN, prev_y = NAN;
        for (int i = 0; i < series[s].n; i++) {
            const double x = series_x(&series[s], i), y = series[s].y[i];
            if (!isfinite(x) || !isfinite(y) || (log_y && y <= 0)) {
                prev_x = prev_y = NAN;
                continue;
            }
            const double px = map_x(&f, x), py = map_y(&f, y);
            if (isfinite(prev_x))
                draw_line(&f.img, prev_x, prev_y, px, py, 2.5, c);
            prev_x = px;
            prev_y = py;
        }
        if (series[s].markers)
            for (int i = 0; i < series[s].n; i++) {
                const double x = series_x(&series[s], i), y = series[s].y[i];
                if (isfinite(x) && isfinite(y) && (!log_y || y > 0))
                    draw_marker(&f.img, map_x(&f, x), map_y(&f, y), 4.0, MARKER_CIRCLE, c);
            }
    }
    draw_frame(&f);
    if (n_legend > 0) {
        const int w = legend_width(legend, n_legend);
        draw_legend(&f.img, f.right - w - 10, f.top + 10, f.bottom - 10, legend, n_legend, 1);
    }
    return figure_save(&f, path, st);
}

/* ---------------------------------------------------------------- heat map */

/* White through mid blue to dark navy: light cells for small values, so numbers on them stay
 * dark, and the ramp stays readable in grey. */
static Rgb ramp(double t) {
    static const double stops[3][3] = {{246, 250, 255}, {107, 168, 214}, {10, 48, 107}};
    t = t < 0 || !isfinite(t) ? 0 : t > 1 ? 1 : t;
    const int k = t < 0.5 ? 0 : 1;
    const double u = (t - 0.5 * k) * 2;
    Rgb c;
    c.r = (unsigned char)lround(stops[k][0] + (stops[k + 1][0] - stops[k][0]) * u);
    c.g = (unsigned char)lround(stops[k][1] + (stops[k + 1][1] - stops[k][1]) * u);
    c.b = (unsigned char)lround(stops[k][2] + (stops[k + 1][2] - stops[k][2]) * u);
    return c;
}

static void cell_name(const char *const *names, int i, char *buf, size_t size) {
    if (names && names[i])
        snprintf(buf, size, "%s", names[i]);
    else
        snprintf(buf, size, "%d", i);
}

StatusCode plot_heatmap(const char *path, const HeatmapOptions *opt, const double *values,
                        int rows, int cols, Status *st) {
    if (rows < 1 || cols < 1)
        return status_fail(st, TK_EINVAL, "%s: heat map of %d x %d cells", path, rows, cols);
    const HeatmapOptions none = {{0, 0, NULL, NULL, NULL}, NULL, NULL, 0, 0};
    if (!opt)
        opt = &none;
    double max = 0;
    int integers = 1;
    for (int i = 0; i < rows * cols; i++) {
        if (!isfinite(values[i]))
            return status_fail(st, TK_EINVAL, "%s: heat map cell (%d, %d) is not finite", path,
                               i / cols, i % cols);
        max = fmax(max, values[i]);
        integers &= values[i] == floor(values[i]) && fabs(values[i]) < 1e9;
    }
    Figure f;
    StatusCode code = figure_begin(&f, &opt->style, DEFAULT_HEIGHT, st);
    if (code != TK_OK)
        return code;
    char buf[LABEL_MAX];
    int row_w = 0, col_w = 0;
    for (int r = 0; r < rows; r++) {
        cell_name(opt->row_names, r, buf, sizeof buf);
        const int w = font_text_width(buf, TEXT_SCALE);
        row_w = w > row_w ? w : row_w;
    }
    for (int c = 0; c < cols; c++) {
        cell_name(opt->col_names, c, buf, sizeof buf);
        const int w = font_text_width(buf, TEXT_SCALE);
        col_w = w > col_w ? w : col_w;
    }
    /* Column names stand upright when they do not fit across their cells. */
    figure_layout(&f, row_w, 0, 0);
    const double cell_w0 = (double)(f.right - f.left) / cols;
    const int upright = col_w > cell_w0 - 6;
    const int extra = upright ? col_w - CHAR_H + 4 : 0;
    figure_layout(&f, row_w, extra, 0);
    figure_axes(&f, 0, extra);
    const double cw = (double)(f.right - f.left) / cols, ch = (double)(f.bottom - f.top) / rows;
    for (int r = 0; r < rows; r++) {
        double row_sum = 0;
        for (int c = 0; c < cols; c++)
            row_sum += values[r * cols + c];
        for (int c = 0; c < cols; c++) {
            const double v = values[r * cols + c];
            const double t = opt->normalize_rows ? (row_sum > 0 ? v / row_sum : 0)
                                                 : (max > 0 ? v / max : 0);
            const double x0 = f.left + c * cw, y0 = f.top + r * ch;
            draw_rect(&f.img, x0, y0, x0 + cw, y0 + ch, ramp(t), 1.0f);
            if (!opt->show_values)
                continue;
            if (integers)
                snprintf(buf, sizeof buf, "%.0f", v);
            else
                snprintf(buf, sizeof buf, "%.2f", v);
            int scale = TEXT_SCALE;
            if (font_text_width(buf, scale) > cw - 4 || FONT_ASCENT * scale > ch - 2)
                scale = 1;
            if (font_text_width(buf, scale) > cw - 2 || FONT_ASCENT * scale > ch - 1)
                continue;
            draw_text(&f.img, x0 + cw / 2, y0 + ch / 2 - FONT_ASCENT * scale / 2.0, buf, scale,
                      t > 0.45 ? WHITE : INK, TEXT_CENTER);
        }
    }
    /* Thin white lines between the cells. */
    for (int c = 1; c < cols; c++)
        draw_rect(&f.img, f.left + c * cw - 0.5, f.top, f.left + c * cw + 0.5, f.bottom, WHITE,
                  1.0f);
    for (int r = 1; r < rows; r++)
        draw_rect(&f.img, f.left, f.top + r * ch - 0.5, f.right, f.top + r * ch + 0.5, WHITE,
                  1.0f);
    for (int r = 0; r < rows; r++) {
        cell_name(opt->row_names, r, buf, sizeof buf);
        draw_text(&f.img, f.left - 9, f.top + (r + 0.5) * ch - FONT_ASCENT * TEXT_SCALE / 2.0,
                  buf, TEXT_SCALE, INK, TEXT_RIGHT);
    }
    for (int c = 0; c < cols; c++) {
        cell_name(opt->col_names, c, buf, sizeof buf);
        const double cx = f.left + (c + 0.5) * cw;
        if (upright)
            draw_text_up(&f.img, cx, f.bottom + 9 + font_text_width(buf, TEXT_SCALE) / 2.0, buf,
                         TEXT_SCALE, INK);
        else
            draw_text(&f.img, cx, f.bottom + 9, buf, TEXT_SCALE, INK, TEXT_CENTER);
    }
    draw_frame(&f);
    return figure_save(&f, path, st);
}

/* ---------------------------------------------------------------- dendrogram */

#define DENDRO_DEFAULT_LEAVES 30
#define ABOVE_CUT (-1)

/* Every id below n + i used once as a child of row i: the walk below relies on a tree. */
static StatusCode check_linkage(const char *path, const double *Z, int n, unsigned char *used,
                                Status *st) {
    memset(used, 0, (size_t)(2 * n - 1));
    for (int i = 0; i < n - 1; i++) {
        const double *z = Z + 4 * i;
        for (int k = 0; k < 2; k++) {
            if (!(z[k] >= 0 && z[k] < n + i && z[k] == floor(z[k])))
                return status_fail(st, TK_EINVAL,
                                   "%s: linkage row %d: cluster id %g is not below %d", path, i,
                                   z[k], n + i);
            if (used[(int)z[k]]++)
                return status_fail(st, TK_EINVAL,
                                   "%s: linkage row %d: cluster %g was already merged", path, i,
                                   z[k]);
        }
        if (!(z[2] >= 0) || !isfinite(z[2]))
            return status_fail(st, TK_EINVAL, "%s: linkage row %d: height %g", path, i, z[2]);
    }
    return TK_OK;
}

StatusCode plot_dendrogram(const char *path, const DendrogramOptions *opt, const double *Z,
                           int n, Status *st) {
    if (n < 2)
        return status_fail(st, TK_EINVAL, "%s: a dendrogram needs at least 2 rows, got %d", path,
                           n);
    const DendrogramOptions none = {{0, 0, NULL, NULL, NULL}, NAN, 0};
    if (!opt)
        opt = &none;
    int p = opt->max_leaves > 0 ? opt->max_leaves : DENDRO_DEFAULT_LEAVES;
    if (p > n)
        p = n;
    if (p < 2)
        p = 2;
    const int first_shown = n - p; /* merges from this row on are drawn */
    const int ids = 2 * n - 1;
    double *pos = malloc(sizeof *pos * (size_t)ids);
    int *colour = malloc(sizeof *colour * (size_t)ids);
    int *stack = malloc(sizeof *stack * (size_t)ids);
    int *leaves = malloc(sizeof *leaves * (size_t)p);
    unsigned char *used = malloc((size_t)ids);
    StatusCode code = !pos || !colour || !stack || !leaves || !used
                          ? status_fail(st, TK_ENOMEM, "%s: out of memory for %d rows", path, n)
                          : check_linkage(path, Z, n, used, st);
    free(used);
    if (code != TK_OK) {
        free(pos);
        free(colour);
        free(stack);
        free(leaves);
        return code;
    }
    const double cut = opt->cut_height;
    /* Left-first depth-first walk from the root: shown leaves get x = 0, 1, ... in order, and
     * every subtree below the cut whose parent is above it starts a new colour (so colours
     * run left to right). A node's colour is pushed down to its children. */
    int n_leaves = 0, n_colours = 0, top = 0;
    stack[top++] = ids - 1;
    colour[ids - 1] = ABOVE_CUT;
    while (top > 0) {
        const int id = stack[--top];
        const int row = id - n;
        if (row < first_shown) {
            leaves[n_leaves] = id;
            pos[id] = n_leaves++;
            continue;
        }
        if (isfinite(cut) && Z[4 * row + 2] < cut && colour[id] == ABOVE_CUT)
            colour[id] = n_colours++;
        const int a = (int)Z[4 * row], b = (int)Z[4 * row + 1];
        colour[a] = colour[b] = colour[id];
        stack[top++] = b; /* popped after a's whole subtree */
        stack[top++] = a;
    }
    for (int row = first_shown; row < n - 1; row++) {
        const int a = (int)Z[4 * row], b = (int)Z[4 * row + 1];
        pos[n + row] = (pos[a] + pos[b]) / 2;
    }
    double h_max = 0;
    for (int row = first_shown; row < n - 1; row++)
        h_max = fmax(h_max, Z[4 * row + 2]);
    char buf[LABEL_MAX];
    int label_w = 0;
    /* Leaf labels stand upright, one glyph height per leaf: smaller when leaves are dense,
     * none when even that does not fit (the plot area's width is estimated before the
     * layout that depends on the labels' length). */
    const int width_guess = (opt->style.width > 0 ? opt->style.width : DEFAULT_WIDTH) - 150;
    const double spacing = (double)width_guess / n_leaves;
    const int label_scale = spacing >= FONT_ASCENT * TEXT_SCALE + 3 ? TEXT_SCALE
                            : spacing >= FONT_ASCENT + 2            ? 1
                                                                    : 0;
    for (int i = 0; i < n_leaves && label_scale > 0; i++) {
        const int id = leaves[i];
        if (id < n)
            snprintf(buf, sizeof buf, "%d", id);
        else
            snprintf(buf, sizeof buf, "(%.0f)", Z[4 * (id - n) + 3]);
        const int w = font_text_width(buf, label_scale);
        label_w = w > label_w ? w : label_w;
    }
    Figure f;
    code = figure_begin(&f, &opt->style, DEFAULT_HEIGHT, st);
    if (code == TK_OK) {
        axis_linear(&f.y, 0, h_max > 0 ? h_max : 1, 0, 1, 0.0);
        f.x.lo = -0.5;
        f.x.hi = n_leaves - 0.5;
        f.x.step = 1;
        const int extra = label_w > CHAR_H ? label_w - CHAR_H + 4 : 0;
        figure_layout(&f, axis_label_width(&f.y), extra, 0);
        figure_axes(&f, SHOW_Y, extra);
        for (int row = first_shown; row < n - 1; row++) {
            const int a = (int)Z[4 * row], b = (int)Z[4 * row + 1];
            const double h = Z[4 * row + 2];
            const double ha = a >= n + first_shown ? Z[4 * (a - n) + 2] : 0;
            const double hb = b >= n + first_shown ? Z[4 * (b - n) + 2] : 0;
            const Rgb rgb = !isfinite(cut)                 ? plot_palette(0)
                            : colour[n + row] == ABOVE_CUT ? MUTED
                                                           : plot_palette(colour[n + row]);
            const double xa = map_x(&f, pos[a]), xb = map_x(&f, pos[b]), y = map_y(&f, h);
            draw_line(&f.img, xa, map_y(&f, ha), xa, y, 2.0, rgb);
            draw_line(&f.img, xb, map_y(&f, hb), xb, y, 2.0, rgb);
            draw_line(&f.img, xa, y, xb, y, 2.0, rgb);
        }
        if (isfinite(cut) && cut >= f.y.lo && cut <= f.y.hi) {
            const double y = map_y(&f, cut);
            draw_dashed_line(&f.img, f.left, y, f.right, y, 1.5, 6.0, INK);
            draw_text(&f.img, f.right - 6, y - CHAR_H - 2, "cut", TEXT_SCALE, INK, TEXT_RIGHT);
        }
        for (int i = 0; i < n_leaves && label_scale > 0; i++) {
            const int id = leaves[i];
            if (id < n)
                snprintf(buf, sizeof buf, "%d", id);
            else
                snprintf(buf, sizeof buf, "(%.0f)", Z[4 * (id - n) + 3]);
            draw_text_up(&f.img, map_x(&f, pos[id]),
                         f.bottom + 9 + font_text_width(buf, label_scale) / 2.0, buf,
                         label_scale, INK);
        }
        draw_frame(&f);
        code = figure_save(&f, path, st);
    }
    free(pos);
    free(colour);
    free(stack);
    free(leaves);
    return code;
}

/* ---------------------------------------------------------------- timeline */

#define LANE_HEIGHT 34
#define LANE_GAP 8

StatusCode plot_timeline(const char *path, const TimelineOptions *opt, const PlotSegment *seg,
                         int n, Status *st) {
    const TimelineOptions none = {{0, 0, NULL, NULL, NULL}, NULL, 0};
    if (!opt)
        opt = &none;
    if (n < 1)
        return status_fail(st, TK_EINVAL, "%s: timeline of no segments", path);
    double t_lo = INFINITY, t_hi = -INFINITY;
    int absent = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(seg[i].start) || !isfinite(seg[i].end) || seg[i].end < seg[i].start)
            return status_fail(st, TK_EINVAL, "%s: segment %d runs from %g to %g s", path, i,
                               seg[i].start, seg[i].end);
        if (seg[i].label < -1 || seg[i].label >= opt->n_labels)
            return status_fail(st, TK_EINVAL, "%s: segment %d has label %d (-1..%d expected)",
                               path, i, seg[i].label, opt->n_labels - 1);
        t_lo = fmin(t_lo, seg[i].start);
        t_hi = fmax(t_hi, seg[i].end);
        absent |= seg[i].label == -1;
    }
    /* Lanes: "all", then one per label, then "absent" when someone left the view. */
    const int lanes = 1 + opt->n_labels + absent;
    char buf[LABEL_MAX];
    int name_w = font_text_width("all", TEXT_SCALE);
    for (int l = 0; l < lanes; l++) {
        if (l == 0 || (absent && l == lanes - 1))
            continue;
        if (opt->label_names && opt->label_names[l - 1])
            snprintf(buf, sizeof buf, "%s", opt->label_names[l - 1]);
        else
            snprintf(buf, sizeof buf, "action %d", l - 1);
        const int w = font_text_width(buf, TEXT_SCALE);
        name_w = w > name_w ? w : name_w;
    }
    if (absent && font_text_width("absent", TEXT_SCALE) > name_w)
        name_w = font_text_width("absent", TEXT_SCALE);
    /* The time format goes into the default axis label, as ticks do not say it. */
    PlotStyle style = opt->style;
    if (!style.x_label)
        style.x_label = t_hi >= 3600 ? "time (h:mm:ss)" : t_hi >= 120 ? "time (m:ss)" : "time (s)";
    const PlotStyle *s = &style;
    const int auto_height = (s->title ? 14 + CHAR_H + 14 : 22) + lanes * (LANE_HEIGHT + LANE_GAP) +
                            LANE_GAP + 12 + CHAR_H + 10 + (s->x_label ? CHAR_H + 10 : 0);
    Figure f;
    StatusCode code = figure_begin(&f, s, auto_height > 150 ? auto_height : 150, st);
    if (code != TK_OK)
        return code;
    axis_time(&f.x, t_lo, t_hi);
    figure_layout(&f, name_w + LEGEND_SWATCH, 0, 0);
    figure_axes(&f, SHOW_X, 0);
    /* Coverage of every pixel column by every label (index label + 1), in pixels: a long
     * recording puts many segments in one column, which is then painted in proportion to
     * the time each label holds there rather than by whichever segment came last. */
    const int columns = f.right - f.left;
    double *cover = calloc((size_t)(opt->n_labels + 1) * columns, sizeof *cover);
    if (!cover) {
        free(f.img.rgb);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++) {
        const double x0 = map_x(&f, seg[i].start) - f.left, x1 = map_x(&f, seg[i].end) - f.left;
        double *row = cover + (size_t)(seg[i].label + 1) * columns;
        for (int c = (int)floor(x0); c < x1 && c < columns; c++)
            if (c >= 0)
                row[c] += fmin(x1, c + 1.0) - fmax(x0, (double)c);
    }
    const double lane_h = fmin(LANE_HEIGHT, (f.bottom - f.top - LANE_GAP) / (double)lanes - LANE_GAP);
    for (int l = 0; l < lanes; l++) {
        const double y0 = f.top + LANE_GAP + l * (lane_h + LANE_GAP);
        const int label = l == 0 ? -2 : (absent && l == lanes - 1) ? -1 : l - 1;
        const Rgb c = label == -1 ? PLOT_NOISE_RGB : plot_palette(label);
        if (l == 0)
            snprintf(buf, sizeof buf, "all");
        else if (label == -1)
            snprintf(buf, sizeof buf, "absent");
        else if (opt->label_names && opt->label_names[label])
            snprintf(buf, sizeof buf, "%s", opt->label_names[label]);
        else
            snprintf(buf, sizeof buf, "action %d", label);
        const double ty = y0 + lane_h / 2 - FONT_ASCENT * TEXT_SCALE / 2.0;
        draw_text(&f.img, f.left - 12 - (l > 0 ? LEGEND_SWATCH : 0), ty, buf, TEXT_SCALE, INK,
                  TEXT_RIGHT);
        if (l > 0)
            draw_rect(&f.img, f.left - 8 - 18, y0 + lane_h / 2 - 7, f.left - 8, y0 + lane_h / 2 + 7,
                      c, 1.0f);
        for (int col = 0; col < columns; col++) {
            /* "all": the label holding most of the column; a lane: its own share, kept
             * visible (at least a quarter strength) however short. */
            int best = l == 0 ? 0 : label + 1;
            double share = 0;
            if (l == 0)
                for (int k = 1; k <= opt->n_labels; k++) {
                    share += cover[(size_t)k * columns + col];
                    if (cover[(size_t)k * columns + col] > cover[(size_t)best * columns + col])
                        best = k;
                }
            if (l == 0)
                share += cover[col]; /* absent, index 0, is best's starting value */
            else
                share = cover[(size_t)best * columns + col];
            if (share <= 0)
                continue;
            const Rgb sc = best == 0 ? PLOT_NOISE_RGB : plot_palette(best - 1);
            const float alpha = share >= 1 ? 1.0f : (float)fmax(0.25, share);
            draw_rect(&f.img, f.left + col, y0, f.left + col + 1, y0 + lane_h, sc, alpha);
        }
        if (l == 0)
            draw_rect(&f.img, f.left, y0 + lane_h + LANE_GAP / 2.0 - 0.5, f.right,
                      y0 + lane_h + LANE_GAP / 2.0 + 0.5, FRAME, 1.0f);
    }
    free(cover);
    draw_frame(&f);
    return figure_save(&f, path, st);
}
