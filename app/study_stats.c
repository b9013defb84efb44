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

static int matches(const int *labels, int n, int at, const int *pattern, int m)
{
    if (at + m > n)
        return 0;
    for (int j = 0; j < m; j++)
        if (labels[at + j] != pattern[j])
            return 0;
    return 1;
}

/* Repetitions of pattern: scanning left to right, a match consumes its labels, and labels that
 * match nothing (a stray segment) are stepped over, so noise between two cycles does not hide
 * them; starts (may be NULL) gets where each begins. */
static int coverage(const int *labels, int n, const int *pattern, int m, int *starts, int *count)
{
    *count = 0;
    for (int i = 0; i < n;) {
        if (matches(labels, n, i, pattern, m)) {
            if (starts)
                starts[*count] = i;
            ++*count;
            i += m;
        } else {
            i++;
        }
    }
    return *count * m;
}

/* Whether the pattern's end repeats its start (it has a period p < m: "0 1 2 0 1" has period
 * 3). Neighbouring segments always differ, so such a pattern cannot follow itself back to back:
 * it is a shorter cycle plus part of the next one, and would otherwise win by covering a
 * trailing partial cycle ("012 012 012 01" gives "01201" twice). */
static int has_shorter_period(const int *pattern, int m)
{
    for (int p = 1; p < m; p++) {
        int same = 1;
        for (int j = 0; j + p < m && same; j++)
            same = pattern[j] == pattern[j + p];
        if (same)
            return 1;
    }
    return 0;
}

/* Candidate patterns start at one of the first labels: a cycle shows within its first few
 * repetitions, and this keeps the search linear in the number of labels. */
#define CYCLE_CANDIDATE_STARTS 64

int study_cycle_pattern(const int *labels, int n, int *pattern, int *starts, int *count)
{
    int best_cover = 0, best_m = 0;
    *count = 0;
    for (int m = 2; m <= STUDY_MAX_CYCLE; m++)
        for (int i = 0; i + m <= n && i < CYCLE_CANDIDATE_STARTS; i++) {
            int ok = 1;
            for (int j = 0; j < m; j++)
                ok &= labels[i + j] >= 0;
            if (!ok || has_shorter_period(labels + i, m))
                continue;
            int c;
            const int cover = coverage(labels, n, labels + i, m, NULL, &c);
            if (c >= 2 && cover > best_cover) {
                best_cover = cover;
                best_m = m;
                memcpy(pattern, labels + i, sizeof(int) * (size_t)m);
            }
        }
    if (best_m)
        coverage(labels, n, pattern, best_m, starts, count);
    return best_m;
}

void study_find_cycle(const StudySegment *segs, int n_segs, double dt, StudyCycle *c)
{
    memset(c, 0, sizeof *c);
    int *labels = malloc(sizeof(int) * (size_t)(n_segs ? n_segs : 1));
    int *starts = malloc(sizeof(int) * (size_t)(n_segs ? n_segs : 1));
    double *d = malloc(sizeof *d * (size_t)(n_segs ? n_segs : 1));
    if (labels && starts && d) {
        for (int i = 0; i < n_segs; i++)
            labels[i] = segs[i].label;
        c->length = study_cycle_pattern(labels, n_segs, c->pattern, starts, &c->count);
        for (int r = 0; r < c->count; r++)
            d[r] = (segs[starts[r] + c->length - 1].end - segs[starts[r]].start) * dt;
        describe(d, c->count, &c->mean, &c->median, &c->min, &c->max, &c->stdev);
    }
    free(labels);
    free(starts);
    free(d);
}
