/* study_strips.c — what each action looks like, so that a person can name it: for every
 * cluster, the windows nearest its centre in latent space drawn as a row of skeleton poses
 * across the window's frames, read back from the frames on disk. MediaPipe's 33 landmarks are
 * joined by its skeleton's bones; other layouts (they differ per data set) are drawn as points.
 * Undetected joints (both coordinates 0, OpenPose's convention) are skipped. */
#include "study.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define STRIP_WINDOWS 2   /* rows per action */
#define STRIP_POSES 8     /* poses per row, evenly across the window */
#define STRIP_CELL_W 90
#define STRIP_CELL_H 110
#define STRIP_MARGIN 170  /* left column with the action's name */
#define STRIP_TITLE 40

/* Input coordinate of feature j of row r of the window (the min-max scaling undone). */
static float raw_value(const float *window, int features, const MinMax *s, int r, int j)
{
    const float v = window[(size_t)r * features + j];
    return s->min[j] + v * (s->max[j] - s->min[j]);
}

static int detected(float x, float y)
{
    return x != 0.0f || y != 0.0f;
}

/* window: the scaled frames [start, start + len) of the input; the poses are spread over the
 * frames of its own sequence (a short sequence's window is padded past them). */
static void draw_window(Image *img, const float *window, const Keypoints *k, const MinMax *s,
                        int dims, int start, int len, int top, Rgb colour)
{
    const int F = k->n_features, joints = F / dims, frames = window_frames(k, start, len);
    double x0 = DBL_MAX, y0 = DBL_MAX, x1 = -DBL_MAX, y1 = -DBL_MAX;
    for (int p = 0; p < STRIP_POSES; p++) {
        const int r = p * (frames - 1) / (STRIP_POSES - 1);
        for (int j = 0; j < joints && k->present[start + r]; j++) {
            const float x = raw_value(window, F, s, r, j * dims);
            const float y = raw_value(window, F, s, r, j * dims + 1);
            if (!detected(x, y))
                continue;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    }
    if (x0 > x1)
        return; /* nothing detected in the whole window */
    /* One scale for every pose of the row, so that movement between them shows. */
    const double span = fmax(fmax(x1 - x0, y1 - y0), 1e-9);
    const double scale = (STRIP_CELL_W - 16) / span;
    for (int p = 0; p < STRIP_POSES; p++) {
        const int r = p * (frames - 1) / (STRIP_POSES - 1);
        const double left = STRIP_MARGIN + p * STRIP_CELL_W + 8, up = top + 8;
        draw_rect(img, left - 4, up - 4, left + STRIP_CELL_W - 12, top + STRIP_CELL_H - 4,
                  (Rgb){235, 235, 235}, 1.0f);
        if (!k->present[start + r])
            continue;
        /* MediaPipe's 33 landmarks get their skeleton's bones; other layouts, points only. */
        for (int e = 0; joints == POSE_LANDMARKS && e < POSE_CONNECTIONS; e++) {
            const int a = pose_connections[e][0], b = pose_connections[e][1];
            const float ax = raw_value(window, F, s, r, a * dims);
            const float ay = raw_value(window, F, s, r, a * dims + 1);
            const float bx = raw_value(window, F, s, r, b * dims);
            const float by = raw_value(window, F, s, r, b * dims + 1);
            if (detected(ax, ay) && detected(bx, by))
                draw_line(img, left + (ax - x0) * scale, up + (ay - y0) * scale,
                          left + (bx - x0) * scale, up + (by - y0) * scale, 1.0, colour);
        }
        for (int j = 0; j < joints; j++) {
            const float x = raw_value(window, F, s, r, j * dims);
            const float y = raw_value(window, F, s, r, j * dims + 1);
            if (detected(x, y))
                draw_marker(img, left + (x - x0) * scale, up + (y - y0) * scale, 2.5,
                            MARKER_CIRCLE, colour);
        }
    }
}

StatusCode study_strips(const char *path, const StudyFrames *frames, const MinMax *scale,
                        int dims, const float *z, int d, const int *starts, int n_windows,
                        int len, const int *win_label, int k, const char *const *names,
                        Status *st)
{
    Image img = {0};
    const int height = STRIP_TITLE + k * STRIP_WINDOWS * STRIP_CELL_H + 10;
    StatusCode rc = plot_image_new(&img, STRIP_MARGIN + STRIP_POSES * STRIP_CELL_W + 10, height,
                                   st);
    double *centre = malloc(sizeof(double) * (size_t)d);
    float *window = malloc(sizeof(float) * (size_t)len * frames->meta.n_features);
    if (!rc && (!centre || !window))
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    if (!rc)
        draw_text(&img, 10, 10, "Representative windows per action (poses across each window)",
                  2, (Rgb){0, 0, 0}, TEXT_LEFT);
    for (int c = 0; !rc && c < k; c++) {
        int count = 0;
        for (int j = 0; j < d; j++)
            centre[j] = 0;
        for (int i = 0; i < n_windows; i++)
            if (win_label[i] == c) {
                for (int j = 0; j < d; j++)
                    centre[j] += z[(size_t)i * d + j];
                count++;
            }
        const int top = STRIP_TITLE + c * STRIP_WINDOWS * STRIP_CELL_H;
        char label[96];
        snprintf(label, sizeof label, "%s", names && names[c] ? names[c] : "?");
        draw_text(&img, 10, top + STRIP_CELL_H / 2, label, 2, plot_palette(c), TEXT_LEFT);
        if (!count)
            continue;
        for (int j = 0; j < d; j++)
            centre[j] /= count;
        /* The STRIP_WINDOWS nearest windows, found by repeated selection (few rows). */
        int chosen[STRIP_WINDOWS];
        for (int w = 0; !rc && w < STRIP_WINDOWS; w++) {
            chosen[w] = -1;
            double best = DBL_MAX;
            for (int i = 0; i < n_windows; i++) {
                if (win_label[i] != c)
                    continue;
                int taken = 0;
                for (int u = 0; u < w; u++)
                    taken |= chosen[u] == i;
                if (taken)
                    continue;
                double dist = 0;
                for (int j = 0; j < d; j++) {
                    const double e = z[(size_t)i * d + j] - centre[j];
                    dist += e * e;
                }
                if (dist < best) {
                    best = dist;
                    chosen[w] = i;
                }
            }
            if (chosen[w] < 0)
                continue;
            rc = study_frames_window(frames, starts[chosen[w]], len, scale, window, st);
            if (!rc)
                draw_window(&img, window, &frames->meta, scale, dims, starts[chosen[w]], len,
                            top + w * STRIP_CELL_H, plot_palette(c));
        }
    }
    if (!rc)
        rc = png_write_rgb(path, &img, st);
    free(centre);
    free(window);
    image_free(&img);
    return rc;
}
