/* study_votes.c — a label per frame from the labels of the windows that cover it: every
 * window votes for all its frames, so a frame's label reflects the motion around it rather
 * than one window's start. */
#include "study.h"

#include <string.h>

void study_vote_frames(const int *starts, int n_windows, int len, const int *win_label, int k,
                       const Keypoints *fr, int *votes, int *frame_label, float *confidence)
{
    const unsigned char *present = fr->present;
    const int n_frames = fr->n_frames;
    /* The windows covering frame f are those started in (f - len, f] in f's sequence: with
     * the starts in order, one running count per label replaces a count per frame and label.
     * Only a padded window reaches past its sequence's end, so at a sequence's first frame
     * every window entered so far leaves. */
    memset(votes, 0, sizeof(int) * (size_t)k);
    int enter = 0, leave = 0;
    int last = -1; /* the latest voted frame, for frames no window reaches */
    for (int f = 0; f < n_frames; f++) {
        if (f > 0 && fr->seq[f] != fr->seq[f - 1]) {
            leave = enter;
            memset(votes, 0, sizeof(int) * (size_t)k);
        }
        for (; enter < n_windows && starts[enter] <= f; enter++)
            if (win_label[enter] >= 0 && win_label[enter] < k)
                votes[win_label[enter]]++;
        for (; leave < enter && starts[leave] + len <= f; leave++)
            if (win_label[leave] >= 0 && win_label[leave] < k)
                votes[win_label[leave]]--;
        int best = 0, total = 0;
        for (int c = 0; c < k; c++) {
            total += votes[c];
            if (votes[c] > votes[best])
                best = c;
        }
        if (!present[f]) {
            frame_label[f] = -1;
            confidence[f] = 1.0f;
        } else if (total) {
            frame_label[f] = best;
            confidence[f] = (float)votes[best] / (float)total;
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
