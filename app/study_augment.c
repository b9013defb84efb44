/* study_augment.c — `takt study --augment`: a small training set replayed at other speeds.
 * Every training sequence is followed by copies resampled to 0.75x and 1.33x its tempo (linear
 * interpolation between frames), so the autoencoder sees each motion at more than one speed and
 * its latent has to describe the motion rather than one performance's timing (the time-warp
 * augmentation of skeleton action recognition, cf. `takt classify --augment-crop`). Issue 6,
 * seeds 1-3, 1 thread: utkinect 0.46 -> 0.54 matched accuracy, msr_action3d 0.30 -> 0.32, but
 * the bundled reach-to-grasp sample 0.73 -> 0.68 (and bandai_namco_1 0.45 -> 0.42 at seed 1),
 * at 4-5x the training time (most of the gain on utkinect comes from training longer, since
 * early stopping fires later), so it is an option, not the default (bench/RESULTS.md).
 * A copy follows its source, so the 70/10/20 split of the result still falls between sequences
 * as it did; a sequence of 480 frames or more is cut into pieces of 240 first, so that a single
 * long recording keeps that property too. */
#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AUG_PIECE 240 /* frames: the sampled blocks of a long input have the same length */

static const double aug_speeds[] = {0.75, 4.0 / 3.0};
#define AUG_COPIES ((int)(sizeof aug_speeds / sizeof *aug_speeds))

static int copy_len(int len, double speed)
{
    const int n = (int)lround(len / speed);
    return n > 1 ? n : 1;
}

/* Rows [a, a + len) of in resampled to n rows at out's row at: a frame between two present
 * frames is their interpolation, one next to a frame without a person copies the nearer. */
static void resample(const Keypoints *in, int a, int len, Keypoints *out, int at, int n, int id)
{
    const int F = in->n_features;
    for (int i = 0; i < n; i++) {
        const double pos = n > 1 ? (double)i * (len - 1) / (n - 1) : 0.0;
        const int i0 = (int)pos, i1 = i0 + 1 < len ? i0 + 1 : i0;
        const float w = (float)(pos - i0);
        const int r0 = a + i0, r1 = a + i1, near = w < 0.5f ? r0 : r1;
        const int both = in->present[r0] && in->present[r1];
        const float *x0 = in->x + (size_t)r0 * F, *x1 = in->x + (size_t)r1 * F;
        float *y = out->x + (size_t)(at + i) * F;
        for (int j = 0; j < F; j++)
            y[j] = both ? x0[j] * (1.0f - w) + x1[j] * w : in->x[(size_t)near * F + j];
        out->present[at + i] = both ? 1 : in->present[near];
        out->frame[at + i] = in->frame[near];
        out->time_s[at + i] = in->time_s[r0] * (1.0f - w) + in->time_s[r1] * w;
        out->seq[at + i] = id;
    }
}

/* Calls back every unit (a whole sequence, or a piece of a long one) of in: its first row,
 * length and whether it is a piece. */
typedef void (*UnitFn)(void *user, const Keypoints *in, int a, int len, int piece);

static void for_each_unit(const Keypoints *in, UnitFn fn, void *user)
{
    for (int a = 0; a < in->n_frames;) {
        int b = a + 1;
        while (b < in->n_frames && in->seq[b] == in->seq[a])
            b++;
        /* A negative id is already a piece (of a sampled input): it stays one. */
        const int piece = in->seq[a] < 0 || b - a >= 2 * AUG_PIECE;
        int p = a;
        for (; b - p >= 2 * AUG_PIECE; p += AUG_PIECE)
            fn(user, in, p, AUG_PIECE, 1);
        fn(user, in, p, b - p, piece); /* the last piece takes the rest: 240 to 479 frames */
        a = b;
    }
}

typedef struct {
    Keypoints *out;
    int rows, units;
} AugmentPass;

static void count_unit(void *user, const Keypoints *in, int a, int len, int piece)
{
    (void)in, (void)a, (void)piece;
    AugmentPass *p = user;
    p->rows += len;
    for (int c = 0; c < AUG_COPIES; c++)
        p->rows += copy_len(len, aug_speeds[c]);
}

static void copy_unit(void *user, const Keypoints *in, int a, int len, int piece)
{
    AugmentPass *p = user;
    /* Neighbouring units never share an id, so no window crosses from one into the next; a
     * piece's negative id tells windows_make not to pad it. */
    for (int c = -1; c < AUG_COPIES; c++) {
        const int id = piece ? -1 - p->units : p->units;
        const int n = c < 0 ? len : copy_len(len, aug_speeds[c]);
        resample(in, a, len, p->out, p->rows, n, id);
        p->rows += n;
        p->units++;
    }
}

StatusCode study_augment_speeds(const Keypoints *in, Keypoints *out, Status *st)
{
    AugmentPass count = {0};
    for_each_unit(in, count_unit, &count);
    const int n = count.rows, F = in->n_features;
    StatusCode rc = keypoints_alloc(out, n, F, st);
    if (rc)
        return rc;
    AugmentPass fill = {.out = out};
    for_each_unit(in, copy_unit, &fill);
    return TK_OK;
}
