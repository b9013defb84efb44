/* study_stats.c — the time study proper: per action how often, how long and what share of the
 * time; and the work cycle, the sequence of actions that repeats back to back. */
#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* mean, median, min, max and population stdev of d[n] (sorted in place); zeros when n = 0. */
static void describe(double *d, int n, double *mean, double *median, double *mn, double *mx,
                     double *sd)
{
    *mean = *median = *mn = *mx = *sd = 0;
    if (!n)
        return;
    qsort(d, (size_t)n, sizeof *d, cmp_double);
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++)
        s += d[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        s2 += (d[i] - *mean) * (d[i] - *mean);
    *sd = sqrt(s2 / n);
    *median = n % 2 ? d[n / 2] : 0.5 * (d[n / 2 - 1] + d[n / 2]);
    *mn = d[0];
    *mx = d[n - 1];
}

void study_action_stats(const StudySegment *segs, int n_segs, int k, double dt, int n_frames,
                        StudyActionStats *stats, double *absent)
{
    double *d = malloc(sizeof *d * (size_t)(n_segs ? n_segs : 1));
    *absent = 0;
    for (int i = 0; i < n_segs; i++)
        if (segs[i].label < 0)
            *absent += (segs[i].end - segs[i].start) * dt;
    for (int c = 0; c < k; c++) {
        StudyActionStats *a = &stats[c];
        memset(a, 0, sizeof *a);
        int n = 0;
        for (int i = 0; i < n_segs; i++)
            if (segs[i].label == c) {
                const double len = (segs[i].end - segs[i].start) * dt;
                a->total += len;
                if (d)
                    d[n] = len;
                n++;
            }
        a->occurrences = n;
        a->share = n_frames ? a->total / (n_frames * dt) : 0;
        if (d)
            describe(d, n, &a->mean, &a->median, &a->min, &a->max, &a->stdev);
    }
    free(d);
}

static int matches(const StudySegment *segs, int n_segs, int at, const int *pattern, int m)
{
    if (at + m > n_segs)
        return 0;
    for (int j = 0; j < m; j++)
        if (segs[at + j].label != pattern[j])
            return 0;
    return 1;
}

/* Back-to-back repetitions of pattern: scanning left to right, a match consumes its segments. */
static int coverage(const StudySegment *segs, int n_segs, const int *pattern, int m, int *count)
{
    *count = 0;
    for (int i = 0; i < n_segs;) {
        if (matches(segs, n_segs, i, pattern, m)) {
            ++*count;
            i += m;
        } else {
            i++;
        }
    }
    return *count * m;
}

/* Candidate patterns start at one of the first segments: a cycle shows within its first few
 * repetitions, and this keeps the search linear in the number of segments. */
#define CYCLE_CANDIDATE_STARTS 64

void study_find_cycle(const StudySegment *segs, int n_segs, double dt, StudyCycle *c)
{
    memset(c, 0, sizeof *c);
    int best_cover = 0;
    for (int m = 2; m <= STUDY_MAX_CYCLE; m++)
        for (int i = 0; i + m <= n_segs && i < CYCLE_CANDIDATE_STARTS; i++) {
            int pattern[STUDY_MAX_CYCLE], ok = 1;
            for (int j = 0; j < m; j++) {
                pattern[j] = segs[i + j].label;
                ok &= pattern[j] >= 0;
            }
            if (!ok)
                continue;
            int count;
            const int cover = coverage(segs, n_segs, pattern, m, &count);
            if (count >= 2 && cover > best_cover) {
                best_cover = cover;
                c->length = m;
                c->count = count;
                memcpy(c->pattern, pattern, sizeof(int) * (size_t)m);
            }
        }
    if (!c->length)
        return;
    double *d = malloc(sizeof *d * (size_t)c->count);
    if (!d)
        return;
    int n = 0;
    for (int i = 0; i < n_segs;) {
        if (matches(segs, n_segs, i, c->pattern, c->length)) {
            d[n++] = (segs[i + c->length - 1].end - segs[i].start) * dt;
            i += c->length;
        } else {
            i++;
        }
    }
    describe(d, n, &c->mean, &c->median, &c->min, &c->max, &c->stdev);
    free(d);
}
