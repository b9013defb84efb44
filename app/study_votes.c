/* study_votes.c — a label per frame from the labels of the windows that cover it: every
 * window votes for all its frames, so a frame's label reflects the motion around it rather
 * than one window's start. */
#include "study.h"

#include <string.h>

void study_vote_frames(const int *starts, int n_windows, int len, const int *win_label, int k,
                       const unsigned char *present, int n_frames, int *votes, int *frame_label,
                       float *confidence)
{
    memset(votes, 0, sizeof(int) * (size_t)n_frames * k);
    for (int i = 0; i < n_windows; i++) {
        if (win_label[i] < 0 || win_label[i] >= k)
            continue;
        const int end = starts[i] + len < n_frames ? starts[i] + len : n_frames;
        for (int f = starts[i]; f < end; f++)
            votes[(size_t)f * k + win_label[i]]++;
    }
    int last = -1; /* the latest voted frame, for frames no window reaches */
    for (int f = 0; f < n_frames; f++) {
        const int *v = votes + (size_t)f * k;
        int best = 0, total = 0;
        for (int c = 0; c < k; c++) {
            total += v[c];
            if (v[c] > v[best])
                best = c;
        }
        if (!present[f]) {
            frame_label[f] = -1;
            confidence[f] = 1.0f;
        } else if (total) {
            frame_label[f] = best;
            confidence[f] = (float)v[best] / (float)total;
            last = best;
        } else {
            frame_label[f] = last; /* may stay -2 below if nothing was voted yet */
            if (last < 0)
                frame_label[f] = -2;
            confidence[f] = 0.0f;
        }
    }
    /* Leading uncovered frames take the first voted label after them. */
    int next = -1;
    for (int f = n_frames - 1; f >= 0; f--) {
        if (frame_label[f] == -2)
            frame_label[f] = next >= 0 ? next : 0;
        else if (frame_label[f] >= 0 && confidence[f] > 0.0f)
            next = frame_label[f];
    }
}
