/* test_study_features.c — body-centred coordinates (app/study_features.c) on hand-made
 * skeletons: the geometry of one frame worked out by hand, invariance to where the person
 * stands and how large they appear, undetected joints and absent frames left alone, and one
 * size per sequence. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../app/study.h"
#include "testutil.h"

/* The frames as a labelled CSV (seq_id,frame,label,x0,y0[,z0],...; seq NULL: one sequence),
 * opened as the study opens its input, body-normalised, and read back into k. */
static void normalise_csv(int n_frames, int features, int dims, const float *x, const int *seq,
                          Keypoints *k)
{
    static char text[16384];
    int len = snprintf(text, sizeof text, "seq_id,frame,label");
    for (int j = 0; j < features; j++)
        len += snprintf(text + len, sizeof text - len, ",%c%d", "xyz"[j % dims], j / dims);
    for (int r = 0; r < n_frames; r++) {
        len += snprintf(text + len, sizeof text - len, "\n%d,%d,0", seq ? seq[r] : 0, r);
        for (int j = 0; j < features; j++)
            len += snprintf(text + len, sizeof text - len, ",%.9g", x[r * features + j]);
    }
    snprintf(text + len, sizeof text - len, "\n");
    cr_assert_lt(len, (int)sizeof text - 2);
    StudyFrames f;
    Status st = {0};
    cr_assert_eq(study_frames_open(&f, test_scratch_write("in.csv", text), 0, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(study_frames_body_normalise(&f, dims, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(study_frames_load(&f, k, &st), TK_OK, "%s", st.msg);
    study_frames_close(&f);
}

TestSuite(study_features, .init = test_scratch_begin, .fini = test_scratch_end);

Test(study_features, a_square_skeleton_is_centred_and_scaled_to_unit_spread)
{
    /* Corners of a 2 x 2 square around (2, 2): every joint sqrt(2) from the centre, so each
     * coordinate becomes +-1/sqrt(2). */
    const float square[8] = {1, 1, 3, 1, 3, 3, 1, 3};
    Keypoints k;
    normalise_csv(1, 8, 2, square, NULL, &k);
    const float h = (float)(1.0 / sqrt(2.0));
    const float want[8] = {-h, -h, h, -h, h, h, -h, h};
    for (int i = 0; i < 8; i++)
        cr_assert_float_eq(k.x[i], want[i], 1e-6f, "coordinate %d: %g, want %g", i, k.x[i],
                           want[i]);
    keypoints_free(&k);
}

Test(study_features, output_ignores_where_the_person_stands_and_their_size)
{
    /* Three frames of a moving 3-D stick figure, and a copy shifted differently every frame
     * and drawn 2.5 times larger, as another subject elsewhere in the room would be. */
    enum { F = 12, N = 3 };
    const float pose[N * F] = {0.1f, 0.05f, 0, 0, 1, 0, 0.5f, 1.5f, 0.2f, -0.4f, 1.4f, 0,
                               0.1f, 0.05f, 0, 0, 1, 0, 0.7f, 1.2f, 0.3f, -0.4f, 1.5f, 0,
                               0.2f, 0.05f, 0, 0, 1, 0.1f, 0.9f, 1.0f, 0.4f, -0.3f, 1.6f, 0};
    float moved[N * F];
    for (int r = 0; r < N; r++)
        for (int j = 0; j < F; j++)
            moved[r * F + j] = 2.5f * pose[r * F + j] + 10.0f * (r + 1) + 3.0f * (j % 3);
    Keypoints a, b;
    normalise_csv(N, F, 3, pose, NULL, &a);
    normalise_csv(N, F, 3, moved, NULL, &b);
    for (int i = 0; i < N * F; i++)
        cr_assert_float_eq(a.x[i], b.x[i], 1e-5f, "value %d: %g vs %g", i, a.x[i], b.x[i]);
    /* The motion itself survives: frame 1 differs from frame 0. */
    float diff = 0;
    for (int i = 0; i < F; i++)
        diff += fabsf(a.x[F + i] - a.x[i]);
    cr_assert_gt(diff, 0.1f);
    keypoints_free(&a);
    keypoints_free(&b);
}

Test(study_features, undetected_joints_do_not_pull_the_centre)
{
    /* The square plus an undetected joint at (0, 0), OpenPose's convention: it stays (0, 0)
     * and the square comes out as without it. */
    const float x[10] = {1, 1, 3, 1, 3, 3, 1, 3, 0, 0};
    Keypoints k;
    normalise_csv(1, 10, 2, x, NULL, &k);
    const float h = (float)(1.0 / sqrt(2.0));
    cr_assert_float_eq(k.x[0], -h, 1e-6f, "%g", k.x[0]);
    cr_assert_float_eq(k.x[5], h, 1e-6f, "%g", k.x[5]);
    cr_assert_eq(k.x[8], 0.0f);
    cr_assert_eq(k.x[9], 0.0f);
    keypoints_free(&k);
}

Test(study_features, frames_with_nobody_in_view_stay_zero)
{
    /* A keypoints CSV as `takt pose` writes it: frame 1 has no person (pose 0). */
    const char *csv = "frame,time_s,pose,x0,y0,z0,v0,x1,y1,z1,v1\n"
                      "0,0.000,1,1,1,0,1,3,3,0,1\n"
                      "1,0.033,0,0,0,0,0,0,0,0,0\n"
                      "2,0.067,1,2,1,0,1,4,3,0,1\n";
    StudyFrames f;
    Status st = {0};
    Keypoints k;
    cr_assert_eq(study_frames_open(&f, test_scratch_write("pose.csv", csv), 0, &st), TK_OK,
                 "%s", st.msg);
    cr_assert_eq(study_frames_body_normalise(&f, 3, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(study_frames_load(&f, &k, &st), TK_OK, "%s", st.msg);
    study_frames_close(&f);
    cr_assert_eq(k.present[1], 0);
    for (int i = 6; i < 12; i++)
        cr_assert_eq(k.x[i], 0.0f, "absent frame value %d: %g", i, k.x[i]);
    /* Frames 0 and 2 are the same body one pixel apart: the same output. */
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(k.x[i], k.x[12 + i], 1e-6f);
    cr_assert_float_eq(k.x[0], -(float)(1.0 / sqrt(2.0)), 1e-6f, "%g", k.x[0]);
    keypoints_free(&k);
}

Test(study_features, one_size_per_sequence_keeps_a_reach_from_shrinking_the_body)
{
    /* Sequence 0: a two-joint body of spread 1, 1, then 3 (an arm reaching out); its median
     * spread is 1, so the reaching frame stays 3 times wider instead of being shrunk back.
     * Sequence 1: the same body drawn 10 times larger comes out the same size. */
    const float x[16] = {-1, 5, 1, 5, -1, 5, 1, 5, -3, 5, 3, 5, -10, 5, 10, 5};
    const int seq[4] = {0, 0, 0, 1};
    Keypoints k;
    normalise_csv(4, 4, 2, x, seq, &k);
    cr_assert_float_eq(k.x[2], 1.0f, 1e-6f, "%g", k.x[2]);
    cr_assert_float_eq(k.x[10], 3.0f, 1e-6f, "%g", k.x[10]);
    cr_assert_float_eq(k.x[14], 1.0f, 1e-6f, "%g", k.x[14]);
    cr_assert_float_eq(k.x[15], 0.0f, 1e-6f, "%g", k.x[15]);
    keypoints_free(&k);
}

Test(study_features, coordinates_that_are_not_whole_joints_are_refused)
{
    StudyFrames f;
    Status st = {0};
    cr_assert_eq(study_frames_open(&f, test_scratch_write("odd.csv", "seq_id,frame,label,x0,y0,"
                                                          "x1\n0,0,0,1,2,3\n"), 0, &st),
                 TK_OK, "%s", st.msg);
    cr_assert_eq(study_frames_body_normalise(&f, 2, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "3 coordinates"), "message: %s", st.msg);
    study_frames_close(&f);
}
