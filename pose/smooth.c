/* smooth.c — landmark smoothing over time, as MediaPipe's
 * mediapipe/modules/pose_landmark/pose_landmark_filtering.pbtxt sets it up:
 *   body landmarks: VisibilitySmoothingCalculator low_pass_filter alpha 0.1, then
 *     LandmarksSmoothingCalculator one_euro_filter min_cutoff 0.05, beta 80, derivate_cutoff 1,
 *     in pixels, the velocity divided by the object scale (mean of the width and height in
 *     pixels of the rectangle through auxiliary landmarks 33 -> 34, unscaled);
 *   world landmarks: the same visibility filter, one_euro min_cutoff 0.1, beta 40,
 *     derivate_cutoff 1, disable_value_scaling (metres);
 *   both only when smoothing is enabled (SwitchContainer), while the auxiliary landmarks
 *     (from which the next frame's ROI is made) are always filtered: visibility alpha 0.1,
 *     one_euro min_cutoff 0.01, beta 10, derivate_cutoff 1, scaled like the body landmarks.
 * The filter itself follows mediapipe/util/filtering/one_euro_filter.cc and low_pass_filter.cc
 * (Casiez et al., "1 Euro Filter", CHI 2012), with landmarks_smoothing_calculator_utils.cc's
 * per-coordinate use (x, y, z each filtered; frequency 30 Hz until two timestamps are known).
 * One deliberate difference: MediaPipe ignores a sample stamped exactly 0; here the first
 * sample starts the filter whatever its time. Filters reset when a frame has no person. */
#include "pose.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ONE_EURO_DEFAULT_HZ 30.0
#define VISIBILITY_ALPHA 0.1f
#define MIN_OBJECT_SCALE 1e-6f
#define N_AUX 2

typedef struct {
    float raw, stored;
    int initialized;
} LowPass;

typedef struct {
    double frequency;
    LowPass x, dx;
    int64_t last_us;
    int has_time;
} OneEuro;

typedef struct {
    double min_cutoff, beta, derivate_cutoff;
} OneEuroParams;

static const OneEuroParams BODY = {0.05, 80.0, 1.0};
static const OneEuroParams WORLD = {0.1, 40.0, 1.0};
static const OneEuroParams AUX = {0.01, 10.0, 1.0};

struct PoseSmoother {
    int enabled;
    OneEuro body[POSE_LANDMARKS][3], world[POSE_LANDMARKS][3], aux[N_AUX][3];
    LowPass body_vis[POSE_LANDMARKS], world_vis[POSE_LANDMARKS], aux_vis[N_AUX];
};

static float low_pass(LowPass *f, float value, float alpha)
{
    /* In double, as low_pass_filter.cc's `alpha_ * value + (1.0 - alpha_) * stored_value_`. */
    const float result =
        f->initialized ? (float)(alpha * value + (1.0 - alpha) * f->stored) : value;
    f->initialized = 1;
    f->raw = value;
    f->stored = result;
    return result;
}

static double one_euro_alpha(double frequency, double cutoff)
{
    const double te = 1.0 / frequency, tau = 1.0 / (2.0 * M_PI * cutoff);
    return 1.0 / (1.0 + tau / te);
}

static float one_euro(OneEuro *f, const OneEuroParams *p, int64_t t_us, double value_scale,
                      float value)
{
    if (f->has_time && f->last_us >= t_us)
        return value;
    if (f->has_time)
        f->frequency = 1.0 / ((double)(t_us - f->last_us) * 1e-6);
    f->last_us = t_us;
    f->has_time = 1;
    const double dvalue =
        f->x.initialized ? ((double)value - (double)f->x.raw) * value_scale * f->frequency : 0.0;
    const double edvalue =
        low_pass(&f->dx, (float)dvalue, (float)one_euro_alpha(f->frequency, p->derivate_cutoff));
    const double cutoff = p->min_cutoff + p->beta * fabs(edvalue);
    return low_pass(&f->x, value, (float)one_euro_alpha(f->frequency, cutoff));
}

StatusCode pose_smoother_new(PoseSmoother **s, int enabled, Status *st)
{
    *s = calloc(1, sizeof **s);
    if (!*s)
        return status_fail(st, TK_ENOMEM, "pose smoother: out of memory");
    pose_smoother_reset(*s);
    (*s)->enabled = enabled;
    return TK_OK;
}

void pose_smoother_free(PoseSmoother *s) { free(s); }

void pose_smoother_reset(PoseSmoother *s)
{
    const int enabled = s->enabled;
    memset(s, 0, sizeof *s);
    s->enabled = enabled;
    OneEuro *all[] = {&s->body[0][0], &s->world[0][0], &s->aux[0][0]};
    const int counts[] = {POSE_LANDMARKS * 3, POSE_LANDMARKS * 3, N_AUX * 3};
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < counts[g]; i++)
            all[g][i].frequency = ONE_EURO_DEFAULT_HZ;
}

/* x, y, z of landmarks in pixels (z scaled as x), filtered, back to normalised. */
static void filter_image_landmarks(OneEuro (*f)[3], LowPass *vis, const OneEuroParams *p,
                                   PoseLandmark *lm, int n, int64_t t_us, float object_scale,
                                   int img_w, int img_h)
{
    for (int i = 0; i < n; i++)
        lm[i].visibility = low_pass(&vis[i], lm[i].visibility, VISIBILITY_ALPHA);
    if (object_scale < MIN_OBJECT_SCALE)
        return;
    const double scale = 1.0 / object_scale;
    const float w = (float)img_w, h = (float)img_h;
    for (int i = 0; i < n; i++) {
        lm[i].x = one_euro(&f[i][0], p, t_us, scale, lm[i].x * w) / w;
        lm[i].y = one_euro(&f[i][1], p, t_us, scale, lm[i].y * h) / h;
        lm[i].z = one_euro(&f[i][2], p, t_us, scale, lm[i].z * w) / w;
    }
}

void pose_smoother_apply(PoseSmoother *s, double time_s, int img_w, int img_h, PoseLandmarks *lm)
{
    const int64_t t_us = llround(time_s * 1e6);
    /* The object scale comes from the unfiltered auxiliary landmarks. */
    PoseRect aux_rect;
    const PoseLandmark *a = &lm->landmarks[POSE_AUX_FIRST], *b = a + 1;
    pose_alignment_rect(a->x, a->y, b->x, b->y, img_w, img_h, &aux_rect);
    const float object_scale =
        (aux_rect.width * (float)img_w + aux_rect.height * (float)img_h) / 2.0f;
    if (s->enabled) {
        filter_image_landmarks(s->body, s->body_vis, &BODY, lm->landmarks, POSE_LANDMARKS, t_us,
                               object_scale, img_w, img_h);
        for (int i = 0; i < POSE_LANDMARKS; i++) {
            PoseLandmark *wl = &lm->world[i];
            wl->visibility = low_pass(&s->world_vis[i], wl->visibility, VISIBILITY_ALPHA);
            wl->x = one_euro(&s->world[i][0], &WORLD, t_us, 1.0, wl->x);
            wl->y = one_euro(&s->world[i][1], &WORLD, t_us, 1.0, wl->y);
            wl->z = one_euro(&s->world[i][2], &WORLD, t_us, 1.0, wl->z);
        }
    }
    filter_image_landmarks(s->aux, s->aux_vis, &AUX, lm->landmarks + POSE_AUX_FIRST, N_AUX, t_us,
                           object_scale, img_w, img_h);
}
