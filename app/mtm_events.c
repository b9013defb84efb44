/* mtm_events.c — from per-frame MTM-2 predictions to motion elements, as a stream: runs of one
 * code, with runs shorter than min_frames joined to the element before them (so single-frame
 * flicker never makes an element), each written as one JSON line with its duration in TMU, mean
 * joint angles, ergonomic risks and the evidence behind it as soon as it is final; then a
 * summary: per code, exposure seconds per risk, per work cycle, and the start-of-shift
 * neutral-posture check.
 *
 * A risk is flagged when it holds in at least hold_share of the element's frames; held in
 * fewer (but some) frames, it is a "variation".
 *
 * Streaming state: the current run of equal predictions; the pending element before it (still
 * open to short runs and to runs of its own code); a short run waiting for the element after
 * it (at the start or after a gap). The pending element is final once the current run has a
 * different code and min_frames frames, or a gap begins. Every span keeps running sums only,
 * so memory does not grow with the element's length. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pose/pose.h"
#include "mtm.h"

static const char *const risk_names[MTM_RISK_COUNT] = {
    "l_wrist_extension", "r_wrist_extension", "l_elbow_non_neutral", "r_elbow_non_neutral",
    "l_shoulder_non_neutral", "r_shoulder_non_neutral", "shoulder_asymmetry"};

const char *mtm_risk_name(int risk)
{
    return risk >= 0 && risk < MTM_RISK_COUNT ? risk_names[risk] : NULL;
}

static int outside(double v, double lo, double hi) { return !isnan(v) && (v < lo || v > hi); }

/* Which risks hold in one frame's angles (bit per risk). */
static unsigned frame_risks(const float *a, const MtmErgo *e)
{
    unsigned r = 0;
    if (!isnan(a[ANGLE_L_WRIST]) && a[ANGLE_L_WRIST] < e->wrist_extension)
        r |= 1u << MTM_RISK_L_WRIST;
    if (!isnan(a[ANGLE_R_WRIST]) && a[ANGLE_R_WRIST] < e->wrist_extension)
        r |= 1u << MTM_RISK_R_WRIST;
    if (outside(a[ANGLE_L_ELBOW], e->elbow_lo, e->elbow_hi))
        r |= 1u << MTM_RISK_L_ELBOW;
    if (outside(a[ANGLE_R_ELBOW], e->elbow_lo, e->elbow_hi))
        r |= 1u << MTM_RISK_R_ELBOW;
    if (outside(a[ANGLE_L_SHOULDER], e->shoulder_lo, e->shoulder_hi))
        r |= 1u << MTM_RISK_L_SHOULDER;
    if (outside(a[ANGLE_R_SHOULDER], e->shoulder_lo, e->shoulder_hi))
        r |= 1u << MTM_RISK_R_SHOULDER;
    if (!isnan(a[ANGLE_L_SHOULDER]) && !isnan(a[ANGLE_R_SHOULDER]) &&
        fabs((double)a[ANGLE_L_SHOULDER] - a[ANGLE_R_SHOULDER]) > e->asymmetry)
        r |= 1u << MTM_RISK_ASYMMETRY;
    return r;
}

#define MTM_MAX_NEIGHBOURS 10

/* Consecutive frames: a run of one prediction, or an element made of runs. */
typedef struct {
    int active;
    int code;        /* the run's prediction, or the element's code */
    int frames;
    int agree;       /* frames predicted as code */
    int first_frame, last_frame;
    double t_start, t_last;
    double t_end;    /* when the next frame began */
    double sum[POSE_ANGLES];
    int count[POSE_ANGLES];
    int risk_frames[MTM_RISK_COUNT];
    int neighbours[MTM_MAX_NEIGHBOURS], n_neighbours; /* the first distinct ones */
} Span;

struct MtmEvents {
    const MtmModel *m;
    MtmErgo e;
    FILE *out;
    Span run, pending, waiting;
    long n_frames;
    double t_first, t_prev, t_before_last;
    double neutral_sum[POSE_ANGLES];
    int neutral_count[POSE_ANGLES];
    MtmElement *elements;
    int n_elements, cap_elements;
    double *code_tmu;
    int *code_count;
    int io_error;
};

static void span_add_neighbour(Span *s, int nb)
{
    if (nb < 0 || s->n_neighbours == MTM_MAX_NEIGHBOURS)
        return;
    for (int k = 0; k < s->n_neighbours; k++)
        if (s->neighbours[k] == nb)
            return;
    s->neighbours[s->n_neighbours++] = nb;
}

static void span_start(Span *s, int code, int frame, double t)
{
    memset(s, 0, sizeof *s);
    s->active = 1;
    s->code = code;
    s->first_frame = s->last_frame = frame;
    s->t_start = s->t_last = s->t_end = t;
}

static void span_add_frame(Span *s, const MtmErgo *e, int frame, double t, const float *a,
                           int pred, int neighbour)
{
    s->frames++;
    s->agree += pred == s->code;
    s->last_frame = frame;
    s->t_last = t;
    for (int k = 0; k < POSE_ANGLES; k++)
        if (!isnan(a[k]))
            s->sum[k] += a[k], s->count[k]++;
    const unsigned r = frame_risks(a, e);
    for (int k = 0; k < MTM_RISK_COUNT; k++)
        s->risk_frames[k] += (r >> k) & 1;
    span_add_neighbour(s, neighbour);
}

/* Appends src (the frames right after dst) to dst, which keeps its code. */
static void span_merge(Span *dst, const Span *src)
{
    dst->frames += src->frames;
    dst->agree += src->code == dst->code ? src->agree : 0;
    dst->last_frame = src->last_frame;
    dst->t_last = src->t_last;
    dst->t_end = src->t_end;
    for (int k = 0; k < POSE_ANGLES; k++)
        dst->sum[k] += src->sum[k], dst->count[k] += src->count[k];
    for (int k = 0; k < MTM_RISK_COUNT; k++)
        dst->risk_frames[k] += src->risk_frames[k];
    for (int k = 0; k < src->n_neighbours; k++)
        span_add_neighbour(dst, src->neighbours[k]);
}

static int record(MtmEvents *ev, const MtmElement *el)
{
    if (ev->n_elements == ev->cap_elements) {
        const int cap = ev->cap_elements ? 2 * ev->cap_elements : 64;
        MtmElement *grown = realloc(ev->elements, sizeof *grown * (size_t)cap);
        if (!grown)
            return 0;
        ev->elements = grown;
        ev->cap_elements = cap;
    }
    ev->elements[ev->n_elements++] = *el;
    return 1;
}

/* One JSON line for the element s, then its totals into the summary. */
static StatusCode emit(MtmEvents *ev, Span *s, Status *st)
{
    if (!s->active)
        return TK_OK;
    s->active = 0;
    FILE *out = ev->out;
    const MtmErgo *e = &ev->e;
    MtmElement el = {.code = s->code, .t_start = s->t_start, .t_end = s->t_end};
    const double tmu = (el.t_end - el.t_start) / MTM_TMU_SECONDS;
    fprintf(out, "{\"t_start\":%.3f,\"t_end\":%.3f,\"code\":\"%s\",\"tmu\":%.1f,"
            "\"confidence\":%.3f,\"angles\":{", el.t_start, el.t_end, ev->m->class_names[s->code],
            tmu, s->frames ? (double)s->agree / s->frames : 0.0);
    for (int k = 0; k < POSE_ANGLES; k++) {
        fprintf(out, "%s\"%s\":", k ? "," : "", pose_angle_name(k));
        if (s->count[k])
            fprintf(out, "%.1f", s->sum[k] / s->count[k]);
        else
            fputs("null", out);
    }
    /* A frame stands for the element's duration over its frame count. */
    const double per_frame = s->frames ? (el.t_end - el.t_start) / s->frames : 0.0;
    for (int pass = 0; pass < 2; pass++) {
        fputs(pass == 0 ? "},\"risks\":[" : "],\"variations\":[", out);
        int first = 1;
        for (int k = 0; k < MTM_RISK_COUNT; k++) {
            const double share = (double)s->risk_frames[k] / s->frames;
            const int held = share >= e->hold_share;
            if (s->risk_frames[k] == 0 || held != (pass == 0))
                continue;
            fprintf(out, "%s{\"type\":\"%s\",\"share\":%.2f,\"held_s\":%.3f}", first ? "" : ",",
                    risk_names[k], share, s->risk_frames[k] * per_frame);
            if (held)
                el.held_s[k] = s->risk_frames[k] * per_frame;
            first = 0;
        }
    }
    fprintf(out, "],\"evidence\":{\"frames\":[%d,%d],\"neighbours\":[", s->first_frame,
            s->last_frame);
    for (int k = 0; k < s->n_neighbours; k++)
        fprintf(out, "%s%d", k ? "," : "", s->neighbours[k]);
    fputs("]}}\n", out);
    fflush(out); /* one line at a time, so a broker client downstream sees each as it comes */
    ev->io_error |= ferror(out) != 0;
    ev->code_tmu[s->code] += tmu;
    ev->code_count[s->code]++;
    if (!record(ev, &el))
        return status_fail(st, TK_ENOMEM, "mtm: out of memory at %d elements", ev->n_elements);
    return ev->io_error ? status_fail(st, TK_EIO, "mtm: writing the events failed") : TK_OK;
}

/* The current run has ended (its t_end is set): it joins the pending element, waits for the
 * next one, becomes the pending element, or (no valid features) is recorded as a gap. */
static StatusCode close_run(MtmEvents *ev, Status *st)
{
    Span *c = &ev->run, *p = &ev->pending, *w = &ev->waiting;
    c->active = 0;
    if (c->code < 0) {
        const MtmElement gap = {.code = -1, .t_start = c->t_start, .t_end = c->t_end};
        return record(ev, &gap) ? TK_OK
                                : status_fail(st, TK_ENOMEM, "mtm: out of memory at %d elements",
                                              ev->n_elements);
    }
    if (p->active) {
        if (c->code == p->code || c->frames < ev->e.min_frames) {
            span_merge(p, c);
            return TK_OK;
        }
        StatusCode rc = emit(ev, p, st);
        *p = *c;
        p->active = 1;
        return rc;
    }
    if (w->active) {
        /* The short run before takes this run's code (its frames do not agree with it). */
        *p = *w;
        p->code = c->code;
        p->agree = 0;
        span_merge(p, c);
        w->active = 0;
        p->active = 1;
    } else if (c->frames < ev->e.min_frames) {
        *w = *c;
        w->active = 1;
    } else {
        *p = *c;
        p->active = 1;
    }
    return TK_OK;
}

StatusCode mtm_events_new(MtmEvents **out, const MtmModel *m, const MtmErgo *e, FILE *fp,
                          Status *st)
{
    MtmEvents *ev = calloc(1, sizeof *ev);
    if (ev) {
        ev->code_tmu = calloc((size_t)m->n_classes, sizeof(double));
        ev->code_count = calloc((size_t)m->n_classes, sizeof(int));
    }
    if (!ev || !ev->code_tmu || !ev->code_count) {
        mtm_events_free(ev);
        return status_fail(st, TK_ENOMEM, "mtm: out of memory");
    }
    ev->m = m;
    ev->e = *e;
    ev->out = fp;
    *out = ev;
    return TK_OK;
}

StatusCode mtm_events_push(MtmEvents *ev, int frame, double time_s, const float *angles,
                           int pred, int neighbour, Status *st)
{
    if (pred >= ev->m->n_classes)
        return status_fail(st, TK_EINVAL, "mtm: frame %d: class %d of %d", frame, pred,
                           ev->m->n_classes);
    if (ev->n_frames && time_s < ev->t_prev)
        return status_fail(st, TK_EINVAL, "mtm: frame %d: time %.6f s before the previous "
                           "frame's %.6f s", frame, time_s, ev->t_prev);
    if (!ev->n_frames)
        ev->t_first = time_s;
    if (time_s - ev->t_first < ev->e.neutral_check_s)
        for (int k = 0; k < POSE_ANGLES; k++)
            if (!isnan(angles[k]))
                ev->neutral_sum[k] += angles[k], ev->neutral_count[k]++;
    ev->t_before_last = ev->n_frames ? ev->t_prev : time_s;
    ev->t_prev = time_s;
    ev->n_frames++;
    pred = pred < 0 ? -1 : pred;
    StatusCode rc = TK_OK;
    Span *c = &ev->run;
    if (c->active)
        c->t_end = time_s;
    if (!c->active || c->code != pred) {
        if (c->active && (rc = close_run(ev, st)) != TK_OK)
            return rc;
        if (pred < 0 && ((rc = emit(ev, &ev->pending, st)) != TK_OK ||
                         (rc = emit(ev, &ev->waiting, st)) != TK_OK))
            return rc;
        span_start(c, pred, frame, time_s);
    }
    span_add_frame(c, &ev->e, frame, time_s, angles, pred, neighbour);
    if (pred >= 0 && c->frames >= ev->e.min_frames && ev->pending.active &&
        ev->pending.code != pred)
        rc = emit(ev, &ev->pending, st);
    return rc;
}

StatusCode mtm_events_finish(MtmEvents *ev, Status *st)
{
    Span *c = &ev->run;
    StatusCode rc = TK_OK;
    if (c->active) {
        /* The last frame lasts as long as the one before it did. */
        c->t_end = c->t_last + (c->t_last - ev->t_before_last);
        rc = close_run(ev, st);
    }
    if (!rc)
        rc = emit(ev, &ev->pending, st);
    if (!rc)
        rc = emit(ev, &ev->waiting, st);
    return rc;
}

const MtmElement *mtm_events_elements(const MtmEvents *ev, int *n)
{
    *n = ev->n_elements;
    return ev->elements;
}

/* Joints whose mean angle over the first neutral_check_s seconds is outside neutral. */
static void neutral_check(FILE *s, const MtmEvents *ev)
{
    const MtmErgo *e = &ev->e;
    fprintf(s, "neutral posture, first %.1f s:", e->neutral_check_s);
    int off = 0, seen = 0;
    for (int k = 0; k < POSE_ANGLES; k++) {
        if (!ev->neutral_count[k])
            continue;
        seen++;
        const double v = ev->neutral_sum[k] / ev->neutral_count[k];
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
    fprintf(s, off ? "\n" : seen ? " every joint neutral\n" : " no joint visible\n");
}

StatusCode mtm_events_summary(const MtmEvents *ev, int cycle_start, FILE *s, Status *st)
{
    const MtmModel *m = ev->m;
    fprintf(s, "%-10s %8s %12s %10s\n", "code", "count", "total TMU", "mean TMU");
    for (int c = 0; c < m->n_classes; c++)
        if (ev->code_count[c])
            fprintf(s, "%-10s %8d %12.1f %10.1f\n", m->class_names[c], ev->code_count[c],
                    ev->code_tmu[c], ev->code_tmu[c] / ev->code_count[c]);
    double exposure[MTM_RISK_COUNT] = {0};
    for (int i = 0; i < ev->n_elements; i++)
        for (int k = 0; k < MTM_RISK_COUNT; k++)
            exposure[k] += ev->elements[i].held_s[k];
    fprintf(s, "exposure (seconds held in flagged elements):");
    for (int k = 0; k < MTM_RISK_COUNT; k++)
        fprintf(s, " %s %.2f;", risk_names[k], exposure[k]);
    fputc('\n', s);

    MtmCycle *cy = NULL;
    int n_cy = 0;
    StatusCode rc = mtm_cycles(ev->elements, ev->n_elements, cycle_start, &cy, &n_cy, st);
    if (rc)
        return rc;
    if (cycle_start >= 0)
        fprintf(s, "work cycles (each starts at %s): %d\n", m->class_names[cycle_start], n_cy);
    else if (n_cy)
        fprintf(s, "work cycles (the repeating sequence of %d elements): %d\n",
                cy[0].last - cy[0].first + 1, n_cy);
    else
        fprintf(s, "work cycles: no repeating sequence of elements (give --cycle-start CODE)\n");
    if (n_cy) {
        fprintf(s, "%-6s %10s %10s %10s", "cycle", "start_s", "end_s", "TMU");
        for (int k = 0; k < MTM_RISK_COUNT; k++)
            fprintf(s, " %s", risk_names[k]);
        fputc('\n', s);
        double mean_tmu = 0, mean_s = 0, mean_held[MTM_RISK_COUNT] = {0};
        for (int c = 0; c < n_cy; c++) {
            fprintf(s, "%-6d %10.3f %10.3f %10.1f", c + 1, cy[c].t_start, cy[c].t_end, cy[c].tmu);
            for (int k = 0; k < MTM_RISK_COUNT; k++) {
                fprintf(s, " %*.2f", (int)strlen(risk_names[k]), cy[c].held_s[k]);
                mean_held[k] += cy[c].held_s[k] / n_cy;
            }
            fputc('\n', s);
            mean_tmu += cy[c].tmu / n_cy;
            mean_s += (cy[c].t_end - cy[c].t_start) / n_cy;
        }
        fprintf(s, "%-6s %10s %10s %10.1f", "mean", "", "", mean_tmu);
        for (int k = 0; k < MTM_RISK_COUNT; k++)
            fprintf(s, " %*.2f", (int)strlen(risk_names[k]), mean_held[k]);
        fprintf(s, "\nmean cycle time %.3f s\n", mean_s);
    }
    free(cy);
    if (ev->n_frames)
        neutral_check(s, ev);
    return TK_OK;
}

void mtm_events_free(MtmEvents *ev)
{
    if (!ev)
        return;
    free(ev->elements);
    free(ev->code_tmu);
    free(ev->code_count);
    free(ev);
}
