/* study_segments.c — frames to segments: runs of one label, with runs shorter than the minimum
 * duration absorbed by their neighbour, since an action of a few frames is flicker between two
 * clusters rather than something a worker did. */
#include "study.h"

#include <stdlib.h>

StatusCode study_segments(int *frame_label, const float *confidence, int n_frames,
                          int min_frames, StudySegment **segs, int *n_segs, Status *st)
{
    /* Grown by doubling: an 8-hour recording has far fewer segments than frames. */
    int cap = 256, n = 0;
    StudySegment *s = malloc(sizeof *s * (size_t)cap);
    if (!s)
        return status_fail(st, TK_ENOMEM, "segments: out of memory");
    for (int f = 0; f < n_frames; f++) {
        if (n == cap) {
            StudySegment *grown = realloc(s, sizeof *s * (size_t)cap * 2);
            if (!grown) {
                free(s);
                return status_fail(st, TK_ENOMEM, "segments: cannot hold %d", 2 * cap);
            }
            s = grown;
            cap *= 2;
        }
        if (n && s[n - 1].label == frame_label[f]) {
            s[n - 1].end = f + 1;
        } else if (n && s[n - 1].end - s[n - 1].start < min_frames) {
            /* the previous run was too short: it becomes part of this one (or of the run
             * before it when that has this label, so that the two merge). */
            const int short_start = s[n - 1].start;
            if (n >= 2 && s[n - 2].label == frame_label[f]) {
                n--;
                s[n - 1].end = f + 1;
            } else if (n >= 2) {
                n--;
                s[n - 1].end = f; /* absorbed by the run before */
                s[n++] = (StudySegment){f, f + 1, frame_label[f], 0};
            } else {
                s[0] = (StudySegment){short_start, f + 1, frame_label[f], 0};
            }
        } else {
            s[n++] = (StudySegment){f, f + 1, frame_label[f], 0};
        }
    }
    /* A short last run joins the one before. */
    if (n >= 2 && s[n - 1].end - s[n - 1].start < min_frames) {
        s[n - 2].end = s[n - 1].end;
        n--;
    }
    for (int i = 0; i < n; i++) {
        double c = 0;
        for (int f = s[i].start; f < s[i].end; f++) {
            frame_label[f] = s[i].label;
            c += confidence[f];
        }
        s[i].confidence = c / (s[i].end - s[i].start);
    }
    *segs = s;
    *n_segs = n;
    return TK_OK;
}
