/* test_study_augment.c — the speed copies `takt study --augment` trains on (app/study_augment.c):
 * each sequence followed by itself at 0.75x and 1.33x, interpolated frame by frame, under ids
 * that keep windows inside one copy; long sequences cut into negative-id pieces; frames without
 * a person never blended into the body's coordinates. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../app/study.h"

/* One feature per frame, 10 + the row number (a ramp), in sequences of the given lengths. */
static void ramp_frames(Keypoints *k, const int *lengths, int n_seqs)
{
    int n = 0;
    for (int s = 0; s < n_seqs; s++)
        n += lengths[s];
    Status st;
    cr_assert_eq(keypoints_alloc(k, n, 1, &st), TK_OK);
    for (int s = 0, r = 0; s < n_seqs; s++)
        for (int i = 0; i < lengths[s]; i++, r++) {
            k->x[r] = 10.0f + (float)r;
            k->frame[r] = i;
            k->time_s[r] = (float)i / 30.0f;
            k->seq[r] = 5 + s;
            k->present[r] = 1;
        }
}

/* Runs of equal ids in k: their first rows and lengths (at most max). */
static int units(const Keypoints *k, int *first, int *len, int max)
{
    int n = 0;
    for (int a = 0; a < k->n_frames && n < max;) {
        int b = a + 1;
        while (b < k->n_frames && k->seq[b] == k->seq[a])
            b++;
        first[n] = a;
        len[n++] = b - a;
        a = b;
    }
    return n;
}

TestSuite(study_augment);

Test(study_augment, each_sequence_is_followed_by_its_copies_at_two_speeds)
{
    const int lengths[] = {9, 3};
    Keypoints k, aug;
    ramp_frames(&k, lengths, 2);
    Status st = {0};
    cr_assert_eq(study_augment_speeds(&k, &aug, &st), TK_OK, "%s", st.msg);
    /* 9 -> 9, 12 (9 / 0.75), 7 (9 / 1.33 rounded); 3 -> 3, 4, 2. */
    int first[8], len[8];
    const int want_len[] = {9, 12, 7, 3, 4, 2};
    const int want_src[] = {0, 0, 0, 9, 9, 9};
    const int want_src_len[] = {9, 9, 9, 3, 3, 3};
    cr_assert_eq(units(&aug, first, len, 8), 6, "every sequence and its two copies");
    cr_assert_eq(aug.n_frames, 37);
    for (int u = 0; u < 6; u++) {
        cr_expect_eq(len[u], want_len[u], "unit %d: %d frames", u, len[u]);
        cr_expect_geq(aug.seq[first[u]], 0, "a whole sequence keeps a non-negative id");
        /* A ramp resampled linearly is the ramp from the same first to the same last value. */
        const double a = 10.0 + want_src[u], step = (double)(want_src_len[u] - 1) / (len[u] - 1);
        for (int i = 0; i < len[u]; i++)
            cr_expect_float_eq(aug.x[first[u] + i], a + i * step, 1e-4, "unit %d row %d: %g", u,
                               i, aug.x[first[u] + i]);
    }
    /* Each copy is its own sequence: windows_make pads every short one and never lays a
     * window across two of them. */
    int *starts, n;
    cr_assert_eq(windows_make(&aug, 0, aug.n_frames, 8, 1, &starts, &n, &st), TK_OK, "%s",
                 st.msg);
    for (int i = 0; i < n; i++)
        cr_expect_eq(aug.seq[starts[i]], aug.seq[starts[i] + window_frames(&aug, starts[i], 8) - 1],
                     "window at %d crosses into the next copy", starts[i]);
    cr_expect_eq(n, 2 + 5 + 1 + 1 + 1 + 1, "%d windows", n);
    free(starts);
    keypoints_free(&k);
    keypoints_free(&aug);
}

Test(study_augment, a_long_sequence_is_cut_into_pieces_that_are_never_padded)
{
    const int lengths[] = {1000};
    Keypoints k, aug;
    ramp_frames(&k, lengths, 1);
    Status st = {0};
    cr_assert_eq(study_augment_speeds(&k, &aug, &st), TK_OK, "%s", st.msg);
    /* Pieces of 240, 240, 240 and the rest (280), each followed by its two copies. */
    int first[16], len[16];
    cr_assert_eq(units(&aug, first, len, 16), 12);
    const int want[] = {240, 320, 180, 240, 320, 180, 240, 320, 180, 280, 373, 210};
    for (int u = 0; u < 12; u++) {
        cr_expect_eq(len[u], want[u], "unit %d: %d frames", u, len[u]);
        cr_expect_lt(aug.seq[first[u]], 0, "unit %d: a piece's id is negative", u);
    }
    cr_expect_float_eq(aug.x[first[9]], 10.0f + 720, 1e-4, "the last piece starts at row 720");
    cr_expect_float_eq(aug.x[first[9] + 279], 10.0f + 999, 1e-4, "and ends with the sequence");
    keypoints_free(&k);
    keypoints_free(&aug);
}

Test(study_augment, frames_without_a_person_are_never_blended_in)
{
    const int lengths[] = {12};
    Keypoints k, aug;
    ramp_frames(&k, lengths, 1);
    k.x[4] = 0.0f; /* nobody in view: the row stays zeros */
    k.present[4] = 0;
    Status st = {0};
    cr_assert_eq(study_augment_speeds(&k, &aug, &st), TK_OK, "%s", st.msg);
    int absent = 0;
    for (int r = 0; r < aug.n_frames; r++) {
        if (!aug.present[r]) {
            absent++;
            cr_expect_eq(aug.x[r], 0.0f, "row %d without a person holds %g", r, aug.x[r]);
        } else {
            cr_expect_geq(aug.x[r], 10.0f, "row %d blends in the absent frame: %g", r, aug.x[r]);
        }
    }
    cr_expect_geq(absent, 3, "the absent frame is in the original and in both copies");
    keypoints_free(&k);
    keypoints_free(&aug);
}
