/* test_angles.c — the MTM-2 joint angles: hand-made skeletons with known angles (straight arm
 * 180, right angle 90), invisible joints marked rather than guessed, and MediaPipe's own
 * reference landmarks (../shared/pose) against the textbook acos formula computed here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pose/pose.h"
#include "testutil.h"

/* A T-pose-like skeleton, every joint visible: both arms straight out sideways. */
static void skeleton_straight(float *lm)
{
    memset(lm, 0, sizeof(float) * 4 * POSE_LANDMARKS);
    for (int j = 0; j < POSE_LANDMARKS; j++)
        lm[4 * j + 3] = 1.0f;
#define SET(j, x, y) (lm[4 * (j)] = (x), lm[4 * (j) + 1] = (y))
    SET(11, 0.6f, 0.3f); SET(13, 0.7f, 0.3f); SET(15, 0.8f, 0.3f); SET(17, 0.9f, 0.3f);
    SET(12, 0.4f, 0.3f); SET(14, 0.3f, 0.3f); SET(16, 0.2f, 0.3f); SET(18, 0.1f, 0.3f);
    SET(23, 0.6f, 0.6f); SET(24, 0.4f, 0.6f);
}

Test(angles, straight_arms_and_right_angles)
{
    float lm[4 * POSE_LANDMARKS];
    skeleton_straight(lm);
    PoseAngles a;
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert(a.valid);
    cr_assert_float_eq(a.value[ANGLE_L_ELBOW], 180.0f, 1e-4);
    cr_assert_float_eq(a.value[ANGLE_R_ELBOW], 180.0f, 1e-4);
    cr_assert_float_eq(a.value[ANGLE_L_WRIST], 180.0f, 1e-4);
    /* Arm horizontal, trunk vertical: the shoulder angle is a right angle. */
    cr_assert_float_eq(a.value[ANGLE_L_SHOULDER], 90.0f, 1e-4);
    cr_assert_float_eq(a.value[ANGLE_R_SHOULDER], 90.0f, 1e-4);
    cr_assert_float_eq(a.value[POSE_ANGLES + 0], 0.8f, 1e-6);  /* l_wrist_x */
    cr_assert_float_eq(a.value[POSE_ANGLES + 3], 0.3f, 1e-6);  /* r_wrist_y */

    /* Forearm bent up at the left elbow: 90 degrees; bent back on itself: 0; 45 degrees. */
    SET(15, 0.7f, 0.1f);
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert_float_eq(a.value[ANGLE_L_ELBOW], 90.0f, 1e-4);
    SET(15, 0.65f, 0.3f);
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert_float_eq(a.value[ANGLE_L_ELBOW], 0.0f, 1e-4);
    SET(15, 0.6f, 0.2f);
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert_float_eq(a.value[ANGLE_L_ELBOW], 45.0f, 1e-3);
    /* Arm hanging down beside the trunk: shoulder angle 0. */
    SET(13, 0.6f, 0.5f);
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert_float_eq(a.value[ANGLE_L_SHOULDER], 0.0f, 1e-4);
}

Test(angles, invisible_joints_are_marked_not_guessed)
{
    float lm[4 * POSE_LANDMARKS];
    skeleton_straight(lm);
    lm[4 * 14 + 3] = 0.3f; /* right elbow hardly visible */
    PoseAngles a;
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert_not(a.valid);
    cr_assert(isnan(a.value[ANGLE_R_ELBOW]));
    cr_assert(isnan(a.value[ANGLE_R_SHOULDER]));
    cr_assert_not(a.valid_mask & (1u << ANGLE_R_ELBOW));
    cr_assert(a.valid_mask & (1u << ANGLE_L_ELBOW));
    cr_assert(isnan(a.value[ANGLE_R_WRIST])); /* elbow-wrist-pinky needs the elbow too */
    cr_assert(a.valid_mask & (1u << ANGLE_L_WRIST));
    cr_assert(a.valid_mask & (1u << (POSE_ANGLES + 2))); /* the wrist itself is visible */
}

Test(angles, zero_length_limb_is_invalid)
{
    float lm[4 * POSE_LANDMARKS];
    skeleton_straight(lm);
    SET(13, 0.6f, 0.3f); /* left elbow on the shoulder */
    PoseAngles a;
    pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
    cr_assert(isnan(a.value[ANGLE_L_ELBOW]));
    cr_assert_not(a.valid);
    cr_assert_eq(strcmp(pose_angle_name(ANGLE_R_SHOULDER), "r_shoulder"), 0);
    cr_assert_null(pose_angle_name(POSE_ANGLE_FEATURES));
}

/* The 33 x [x, y, z, visibility] landmarks of model `model` in a reference JSON of
 * ../shared/pose/reference/mediapipe_wasm; 0 when absent or null. */
static int reference_landmarks(const char *json, const char *model, float *lm)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\"", model);
    const char *p = strstr(json, key);
    if (!p || !(p = strstr(p, "\"landmarks\"")))
        return 0;
    p = strchr(p, ':') + 1;
    while (*p == ' ' || *p == '\n')
        p++;
    if (*p != '[')
        return 0;
    for (int i = 0; i < 4 * POSE_LANDMARKS; i++) {
        while (*p && strchr("[], \n", *p))
            p++;
        char *end;
        lm[i] = strtof(p, &end);
        if (end == p)
            return 0;
        p = end;
    }
    return 1;
}

/* The textbook formula, independent of angles.c's atan2 form. */
static double acos_angle(const float *lm, int a, int b, int c)
{
    const double ux = lm[4 * a] - lm[4 * b], uy = lm[4 * a + 1] - lm[4 * b + 1];
    const double vx = lm[4 * c] - lm[4 * b], vy = lm[4 * c + 1] - lm[4 * b + 1];
    double cosv = (ux * vx + uy * vy) / (sqrt(ux * ux + uy * uy) * sqrt(vx * vx + vy * vy));
    cosv = cosv > 1 ? 1 : cosv < -1 ? -1 : cosv;
    return acos(cosv) * 180.0 / M_PI;
}

Test(angles, mediapipe_reference_landmarks)
{
    static const char *const images[] = {"astronaut_collins", "businessman_standing",
                                         "business_woman_upper", "squat_video_f010",
                                         "obama_portrait"};
    /* MediaPipe's indices, written out here rather than taken from angles.c. */
    static const int joints[POSE_ANGLES][3] = {{11, 13, 15}, {12, 14, 16}, {23, 11, 13},
                                               {24, 12, 14}, {13, 15, 17}, {14, 16, 18}};
    int checked = 0, marked = 0;
    for (size_t f = 0; f < sizeof images / sizeof *images; f++) {
        char rel[256], buf[1024];
        snprintf(rel, sizeof rel, "pose/reference/mediapipe_wasm/%s.json", images[f]);
        if (!test_shared_path(buf, sizeof buf, rel))
            cr_skip_test("../shared not found (pose reference landmarks)");
        size_t size;
        char *json = test_read_file(buf, &size);
        cr_assert_not_null(json);
        json = realloc(json, size + 1);
        json[size] = 0;
        float lm[4 * POSE_LANDMARKS];
        const int ok = reference_landmarks(json, "full", lm);
        free(json);
        if (!ok)
            continue;
        PoseAngles a;
        pose_angles_compute(lm, POSE_VISIBILITY_MIN, &a);
        for (int i = 0; i < POSE_ANGLES; i++) {
            const int *j = joints[i];
            const int vis = lm[4 * j[0] + 3] >= 0.5f && lm[4 * j[1] + 3] >= 0.5f &&
                            lm[4 * j[2] + 3] >= 0.5f;
            if (!vis) {
                cr_assert(isnan(a.value[i]), "%s angle %d: invisible joint not marked",
                          images[f], i);
                marked++;
                continue;
            }
            const double want = acos_angle(lm, j[0], j[1], j[2]);
            cr_assert(fabs(a.value[i] - want) < 1e-3, "%s angle %d: %f, acos formula %f",
                      images[f], i, a.value[i], want);
            checked++;
        }
    }
    cr_assert_gt(checked, 10, "only %d reference angles checked", checked);
    cr_log_info("reference angles: %d checked, %d marked invisible", checked, marked);
}
