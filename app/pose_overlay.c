/* pose_overlay.c — a frame with its pose drawn on it, written as PNG (`takt pose --overlay`):
 * MediaPipe's skeleton (pose_connections) and its landmarks, leaving out, as MediaPipe's
 * drawing_utils.py does, landmarks whose visibility or presence is below 0.5; the ROI the
 * landmark model saw as a thin frame. */
#include "app.h"

#include <math.h>
#include <string.h>

#define DRAW_MIN_VISIBILITY 0.5f

static int drawable(const PoseLandmark *l)
{
    return l->visibility >= DRAW_MIN_VISIBILITY && l->presence >= DRAW_MIN_VISIBILITY;
}

StatusCode pose_overlay_write(const char *path, const Image *frame, const PoseFrameResult *r,
                              Image *canvas, Status *st)
{
    StatusCode rc = image_resize_buffer(canvas, frame->width, frame->height, st);
    if (rc != TK_OK)
        return rc;
    memcpy(canvas->rgb, frame->rgb, (size_t)frame->width * frame->height * 3);
    const double W = frame->width, H = frame->height;
    const double line = fmax(1.5, fmin(W, H) / 250.0);
    const Rgb bone = {255, 255, 255}, left = {230, 159, 0}, right = {0, 114, 178},
              roi_colour = {0, 158, 115};
    if (r->found) {
        const PoseRect *q = &r->roi;
        const double c = cos(q->rotation), s = sin(q->rotation);
        const double hw = q->width * W / 2, hh = q->height * H / 2;
        double corner[4][2];
        for (int k = 0; k < 4; k++) {
            const double u = (k == 1 || k == 2) ? hw : -hw, v = k >= 2 ? hh : -hh;
            corner[k][0] = q->x_center * W + c * u - s * v;
            corner[k][1] = q->y_center * H + s * u + c * v;
        }
        for (int k = 0; k < 4; k++)
            draw_line(canvas, corner[k][0], corner[k][1], corner[(k + 1) % 4][0],
                      corner[(k + 1) % 4][1], 1.0, roi_colour);
        const PoseLandmark *lm = r->lm.landmarks;
        for (int k = 0; k < POSE_CONNECTIONS; k++) {
            const PoseLandmark *a = &lm[pose_connections[k][0]], *b = &lm[pose_connections[k][1]];
            if (drawable(a) && drawable(b))
                draw_line(canvas, a->x * W, a->y * H, b->x * W, b->y * H, line, bone);
        }
        for (int i = 0; i < POSE_LANDMARKS; i++) {
            if (!drawable(&lm[i]))
                continue;
            /* MediaPipe numbers the person's left side odd (1, 3, ... 31), except the nose */
            const Rgb colour = i == 0 ? bone : (i % 2 ? left : right);
            draw_circle(canvas, lm[i].x * W, lm[i].y * H, line * 1.8, colour);
        }
    }
    return png_write_rgb(path, canvas, st);
}
