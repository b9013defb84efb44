/* mtm_events.c — from per-frame MTM-2 predictions to motion elements: runs of one code, with
 * runs shorter than min_frames merged into the element before them (so single-frame flicker
 * never makes an element), each written as one JSON line with its duration in TMU, mean joint
 * angles, ergonomic risks and the evidence behind it; then a per-code summary, the exposure
 * seconds per risk and the start-of-shift neutral-posture check.
 *
 * Risks, per element (thresholds in MtmErgo): a wrist angle below wrist_extension (180 is a
 * straight wrist, so a smaller angle is a wrist bent further), an elbow or shoulder angle
 * outside its neutral range, left/right shoulder angles differing by more than asymmetry. A
 * risk is flagged when it holds in at least hold_share of the element's frames with valid
 * angles; held in fewer (but some) frames, it is a "variation". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pose/pose.h"
#include "mtm.h"

enum { RISK_L_WRIST, RISK_R_WRIST, RISK_L_ELBOW, RISK_R_ELBOW, RISK_L_SHOULDER, RISK_R_SHOULDER,
       RISK_ASYMMETRY, RISK_COUNT };

static const char *const risk_names[RISK_COUNT] = {
    "l_wrist_extension", "r_wrist_extension", "l_elbow_non_neutral", "r_elbow_non_neutral",
    "l_shoulder_non_neutral", "r_shoulder_non_neutral", "shoulder_asymmetry"};

static int outside(double v, double lo, double hi) { return !isnan(v) && (v < lo || v > hi); }

/* Which risks hold in one frame's angles (bit per risk). */
static unsigned frame_risks(const float *a, const MtmErgo *e)
{
    unsigned r = 0;
    if (!isnan(a[ANGLE_L_WRIST]) && a[ANGLE_L_WRIST] < e->wrist_extension)
        r |= 1u << RISK_L_WRIST;
    if (!isnan(a[ANGLE_R_WRIST]) && a[ANGLE_R_WRIST] < e->wrist_extension)
        r |= 1u << RISK_R_WRIST;
    if (outside(a[ANGLE_L_ELBOW], e->elbow_lo, e->elbow_hi))
        r |= 1u << RISK_L_ELBOW;
    if (outside(a[ANGLE_R_ELBOW], e->elbow_lo, e->elbow_hi))
        r |= 1u << RISK_R_ELBOW;
    if (outside(a[ANGLE_L_SHOULDER], e->shoulder_lo, e->shoulder_hi))
        r |= 1u << RISK_L_SHOULDER;
    if (outside(a[ANGLE_R_SHOULDER], e->shoulder_lo, e->shoulder_hi))
        r |= 1u << RISK_R_SHOULDER;
    if (!isnan(a[ANGLE_L_SHOULDER]) && !isnan(a[ANGLE_R_SHOULDER]) &&
        fabs((double)a[ANGLE_L_SHOULDER] - a[ANGLE_R_SHOULDER]) > e->asymmetry)
        r |= 1u << RISK_ASYMMETRY;
    return r;
}

static int compare_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median time between frames: the duration one frame stands for. */
static double frame_period(const MtmFrames *f)
{
    if (f->n < 2)
        return 1.0 / 30.0;
    double *dt = malloc(sizeof(double) * (size_t)(f->n - 1));
    if (!dt)
        return 1.0 / 30.0;
    for (int i = 1; i < f->n; i++)
        dt[i - 1] = f->time_s[i] - f->time_s[i - 1];
    qsort(dt, (size_t)(f->n - 1), sizeof *dt, compare_double);
    const double p = dt[(f->n - 1) / 2];
    free(dt);
    return p > 0 ? p : 1.0 / 30.0;
}

/* Runs shorter than min_frames take the code of the element before them (or, at the start,
 * the one after), so they join it. codes: n, in place. */
static void absorb_short_runs(int *codes, int n, int min_frames)
{
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && codes[j] == codes[i])
            j++;
        if (codes[i] >= 0 && j - i < min_frames) {
            const int before = i > 0 ? codes[i - 1] : -1, after = j < n ? codes[j] : -1;
            const int into = before >= 0 ? before : after;
            if (into >= 0)
                for (int k = i; k < j; k++)
                    codes[k] = into;
        }
        i = j;
    }
}

#define MTM_MAX_NEIGHBOURS 10

static void write_element(FILE *out, const MtmFrames *f, const MtmModel *m, const MtmErgo *e,
                          int a, int b, int code, double period, double *exposure)
{
    double sum[POSE_ANGLES] = {0};
    int count[POSE_ANGLES] = {0}, risk_frames[RISK_COUNT] = {0}, agree = 0, valid = 0;
    for (int i = a; i < b; i++) {
        const float *ang = f->angles + (size_t)i * POSE_ANGLES;
        for (int k = 0; k < POSE_ANGLES; k++)
            if (!isnan(ang[k]))
                sum[k] += ang[k], count[k]++;
        agree += f->pred[i] == code;
        valid += f->pred[i] >= 0;
        const unsigned r = frame_risks(ang, e);
        for (int k = 0; k < RISK_COUNT; k++)
            risk_frames[k] += (r >> k) & 1;
    }
    const double t0 = f->time_s[a], t1 = f->time_s[b - 1] + period;
    fprintf(out, "{\"t_start\":%.3f,\"t_end\":%.3f,\"code\":\"%s\",\"tmu\":%.1f,"
            "\"confidence\":%.3f,\"angles\":{", t0, t1, m->class_names[code],
            (t1 - t0) / MTM_TMU_SECONDS, valid ? (double)agree / valid : 0.0);
    for (int k = 0; k < POSE_ANGLES; k++) {
        fprintf(out, "%s\"%s\":", k ? "," : "", pose_angle_name(k));
        if (count[k])
            fprintf(out, "%.1f", sum[k] / count[k]);
        else
            fputs("null", out);
    }
    const int frames = b - a;
    for (int pass = 0; pass < 2; pass++) {
        fputs(pass == 0 ? "},\"risks\":[" : "],\"variations\":[", out);
        int first = 1;
        for (int k = 0; k < RISK_COUNT; k++) {
            const double share = (double)risk_frames[k] / frames;
            const int held = share >= e->hold_share;
            if (risk_frames[k] == 0 || held != (pass == 0))
                continue;
            fprintf(out, "%s{\"type\":\"%s\",\"share\":%.2f,\"held_s\":%.3f}", first ? "" : ",",
                    risk_names[k], share, risk_frames[k] * period);
            if (held)
                exposure[k] += risk_frames[k] * period;
            first = 0;
        }
    }
    fprintf(out, "],\"evidence\":{\"frames\":[%d,%d],\"neighbours\":[", f->frame[a],
            f->frame[b - 1]);
    int listed[MTM_MAX_NEIGHBOURS], n_listed = 0;
    for (int i = a; i < b && f->neighbour && n_listed < MTM_MAX_NEIGHBOURS; i++) {
        int seen = f->neighbour[i] < 0;
        for (int k = 0; k < n_listed && !seen; k++)
            seen = listed[k] == f->neighbour[i];
        if (!seen) {
            fprintf(out, "%s%d", n_listed ? "," : "", f->neighbour[i]);
            listed[n_listed++] = f->neighbour[i];
        }
    }
    fputs("]}}\n", out);
    fflush(out); /* one line at a time, so a broker client downstream sees each as it comes */
}

/* Joints whose mean angle over the first neutral_check_s seconds is outside neutral. */
static void neutral_check(FILE *s, const MtmFrames *f, const MtmErgo *e)
{
    double sum[POSE_ANGLES] = {0};
    int count[POSE_ANGLES] = {0};
    for (int i = 0; i < f->n && f->time_s[i] - f->time_s[0] < e->neutral_check_s; i++)
        for (int k = 0; k < POSE_ANGLES; k++) {
            const float v = f->angles[(size_t)i * POSE_ANGLES + k];
            if (!isnan(v))
                sum[k] += v, count[k]++;
        }
    fprintf(s, "neutral posture, first %.1f s:", e->neutral_check_s);
    int off = 0;
    for (int k = 0; k < POSE_ANGLES; k++) {
        if (!count[k])
            continue;
        const double v = sum[k] / count[k];
        const int wrist = k == ANGLE_L_WRIST || k == ANGLE_R_WRIST;
        const int elbow = k == ANGLE_L_ELBOW || k == ANGLE_R_ELBOW;
        const int bad = wrist ? v < e->wrist_extension
                        : elbow ? outside(v, e->elbow_lo, e->elbow_hi)
                                : outside(v, e->shoulder_lo, e->shoulder_hi);
        if (bad) {
            fprintf(s, " %s %.1f deg outside neutral;", pose_angle_name(k), v);
            off++;
        }
    }
    fprintf(s, off ? "\n" : " every joint neutral\n");
}

StatusCode mtm_events_write(const MtmFrames *f, const MtmModel *m, const MtmErgo *e, FILE *out,
                            FILE *summary, Status *st)
{
    int *codes = malloc(sizeof(int) * (size_t)(f->n > 0 ? f->n : 1));
    double *tmu = calloc((size_t)m->n_classes, sizeof(double));
    int *elements = calloc((size_t)m->n_classes, sizeof(int));
    if (!codes || !tmu || !elements) {
        free(codes), free(tmu), free(elements);
        return status_fail(st, TK_ENOMEM, "mtm: out of memory for %d frames", f->n);
    }
    memcpy(codes, f->pred, sizeof(int) * (size_t)f->n);
    absorb_short_runs(codes, f->n, e->min_frames);
    const double period = frame_period(f);
    double exposure[RISK_COUNT] = {0};
    for (int i = 0; i < f->n;) {
        int j = i;
        while (j < f->n && codes[j] == codes[i])
            j++;
        if (codes[i] >= 0) {
            write_element(out, f, m, e, i, j, codes[i], period, exposure);
            elements[codes[i]]++;
            tmu[codes[i]] += (f->time_s[j - 1] + period - f->time_s[i]) / MTM_TMU_SECONDS;
        }
        i = j;
    }
    StatusCode rc = ferror(out) ? status_fail(st, TK_EIO, "mtm: writing the events failed") : TK_OK;
    if (summary) {
        fprintf(summary, "%-10s %8s %12s %10s\n", "code", "count", "total TMU", "mean TMU");
        for (int c = 0; c < m->n_classes; c++)
            if (elements[c])
                fprintf(summary, "%-10s %8d %12.1f %10.1f\n", m->class_names[c], elements[c],
                        tmu[c], tmu[c] / elements[c]);
        fprintf(summary, "exposure (seconds held in flagged elements):");
        for (int k = 0; k < RISK_COUNT; k++)
            fprintf(summary, " %s %.2f;", risk_names[k], exposure[k]);
        fputc('\n', summary);
        if (f->n)
            neutral_check(summary, f, e);
    }
    free(codes), free(tmu), free(elements);
    return rc;
}
