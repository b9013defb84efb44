/* mtm_data.c — the inputs of `takt mtm`: labelled feature tables (codes checked), and joint
 * angles for every frame of a keypoints CSV, matched by name to what a model was trained on. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pose/pose.h"
#include "mtm.h"

int mtm_code_valid(const char *code)
{
    if (!code[0])
        return 0;
    int digits = 1;
    for (const char *p = code; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    if (digits)
        return 1;
    if (!isalpha((unsigned char)code[0]))
        return 0;
    for (const char *p = code; *p; p++)
        if (!isalnum((unsigned char)*p))
            return 0;
    return 1;
}

StatusCode mtm_table_load(MtmTable *t, const char *path, Status *st)
{
    memset(t, 0, sizeof *t);
    StatusCode rc = features_load(&t->f, path, NULL, st);
    if (rc)
        return rc;
    if (t->f.label_col < 0) {
        features_free(&t->f);
        return status_fail(st, TK_EINVAL, "%s: no 'label' column (the MTM-2 code of each row)",
                           path);
    }
    char **labels = t->f.table.text[t->f.label_col];
    for (int i = 0; i < t->f.n; i++)
        if (!mtm_code_valid(labels[i])) {
            status_fail(st, TK_EFORMAT, "%s: data row %d: label '%s' is not an MTM-2 code "
                        "(letters and digits, e.g. R30A) or a class number", path, i + 1,
                        labels[i]);
            features_free(&t->f);
            return TK_EFORMAT;
        }
    t->y = malloc(sizeof(int) * (size_t)(t->f.n > 0 ? t->f.n : 1));
    t->feature_names = malloc(sizeof(char *) * (size_t)t->f.d);
    if (!t->y || !t->feature_names) {
        mtm_table_free(t);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    for (int j = 0; j < t->f.d; j++)
        t->feature_names[j] = t->f.table.names[t->f.columns[j]];
    rc = labels_to_ids(labels, t->f.n, t->y, &t->class_names, &t->n_classes, st);
    if (!rc && t->n_classes < 2)
        rc = status_fail(st, TK_EINVAL, "%s: only one class; a classifier needs two or more", path);
    if (rc) {
        mtm_table_free(t);
        return rc;
    }
    return TK_OK;
}

void mtm_table_free(MtmTable *t)
{
    features_free(&t->f);
    free(t->y);
    free(t->class_names);
    free(t->feature_names);
    memset(t, 0, sizeof *t);
}

void mtm_angle_frames_free(MtmAngleFrames *a)
{
    free(a->frame);
    free(a->time_s);
    free(a->feat);
    memset(a, 0, sizeof *a);
}

/* Grows the three arrays to hold `need` frames. */
static int reserve(MtmAngleFrames *a, int need, int *cap)
{
    if (need <= *cap)
        return 1;
    const int c = *cap ? *cap * 2 : 1024;
    int *fr = realloc(a->frame, sizeof(int) * (size_t)c);
    if (fr)
        a->frame = fr;
    double *ts = realloc(a->time_s, sizeof(double) * (size_t)c);
    if (ts)
        a->time_s = ts;
    float *ft = realloc(a->feat, sizeof(float) * (size_t)c * POSE_ANGLE_FEATURES);
    if (ft)
        a->feat = ft;
    if (!fr || !ts || !ft)
        return 0;
    *cap = c;
    return 1;
}

StatusCode mtm_keypoints_angles(const char *path, float min_visibility, MtmAngleFrames *a,
                                Status *st)
{
    memset(a, 0, sizeof *a);
    CsvReader *r;
    StatusCode rc = csv_reader_open(&r, path, NULL, st);
    if (rc)
        return rc;
    const int cols = csv_reader_cols(r);
    int col_frame = -1, col_time = -1, col_pose = -1, col_lm[4 * POSE_LANDMARKS];
    for (int k = 0; k < 4 * POSE_LANDMARKS; k++)
        col_lm[k] = -1;
    for (int c = 0; c < cols; c++) {
        const char *name = csv_reader_name(r, c);
        int j;
        char axis;
        if (!strcmp(name, "frame"))
            col_frame = c;
        else if (!strcmp(name, "time_s"))
            col_time = c;
        else if (!strcmp(name, "pose"))
            col_pose = c;
        else if (sscanf(name, "%c%d", &axis, &j) == 2 && j >= 0 && j < POSE_LANDMARKS &&
                 strchr("xyzv", axis))
            col_lm[4 * j + (int)(strchr("xyzv", axis) - "xyzv")] = c;
    }
    /* The joints the angles need: shoulders, elbows, wrists, pinkies, hips. */
    static const int needed[] = {11, 12, 13, 14, 15, 16, 17, 18, 23, 24};
    for (size_t k = 0; k < sizeof needed / sizeof *needed; k++)
        for (int q = 0; q < 4; q++)
            if (col_lm[4 * needed[k] + q] < 0) {
                csv_reader_close(r);
                return status_fail(st, TK_EFORMAT, "%s: no column %c%d (a keypoints CSV of "
                                   "`takt pose`: frame,time_s,pose,x0,y0,z0,v0,...)", path,
                                   "xyzv"[q], needed[k]);
            }
    float *values = malloc(sizeof(float) * (size_t)cols);
    float lm[4 * POSE_LANDMARKS] = {0};
    int cap = 0, got = 1;
    if (!values)
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    while (!rc) {
        rc = csv_reader_next(r, values, NULL, &got, st);
        if (rc || !got)
            break;
        if (!reserve(a, a->n + 1, &cap)) {
            rc = status_fail(st, TK_ENOMEM, "%s: out of memory at %d frames", path, a->n);
            break;
        }
        const int i = a->n++;
        a->frame[i] = col_frame >= 0 ? (int)values[col_frame] : i;
        a->time_s[i] = col_time >= 0 ? values[col_time] : i / 30.0;
        for (int k = 0; k < 4 * POSE_LANDMARKS; k++)
            lm[k] = col_lm[k] >= 0 ? values[col_lm[k]] : 0.0f;
        PoseAngles pa;
        pose_angles_compute(lm, min_visibility, &pa);
        const int nobody = col_pose >= 0 && values[col_pose] == 0.0f;
        for (int k = 0; k < POSE_ANGLE_FEATURES; k++)
            a->feat[(size_t)i * POSE_ANGLE_FEATURES + k] = nobody ? NAN : pa.value[k];
        if (i > 0 && a->time_s[i] < a->time_s[i - 1]) {
            rc = status_fail(st, TK_EFORMAT, "%s: line %ld: time_s goes backwards", path,
                             csv_reader_line(r));
            break;
        }
    }
    free(values);
    csv_reader_close(r);
    if (rc)
        mtm_angle_frames_free(a);
    return rc;
}

float mtm_as_in_csv(double v)
{
    char text[64];
    snprintf(text, sizeof text, "%.6f", v);
    return strtof(text, NULL);
}

void mtm_pose_features(const PoseFrameResult *r, float min_visibility, float *feat)
{
    float lm[4 * POSE_LANDMARKS] = {0};
    for (int i = 0; r->found && i < POSE_LANDMARKS; i++) {
        const PoseLandmark *l = &r->lm.landmarks[i];
        lm[4 * i] = mtm_as_in_csv(l->x);
        lm[4 * i + 1] = mtm_as_in_csv(l->y);
        lm[4 * i + 2] = mtm_as_in_csv(l->z);
        lm[4 * i + 3] = mtm_as_in_csv(l->visibility);
    }
    PoseAngles pa;
    pose_angles_compute(lm, min_visibility, &pa);
    for (int k = 0; k < POSE_ANGLE_FEATURES; k++)
        feat[k] = r->found ? pa.value[k] : NAN;
}

StatusCode mtm_feature_map(const MtmModel *m, const char *model_path, int *map, Status *st)
{
    for (int j = 0; j < m->d; j++) {
        map[j] = -1;
        for (int k = 0; k < POSE_ANGLE_FEATURES; k++)
            if (!strcmp(m->feature_names[j], pose_angle_name(k)))
                map[j] = k;
        if (map[j] < 0)
            return status_fail(st, TK_EINVAL, "%s: the model was trained on feature '%s', which "
                               "is not a joint-angle feature (expected names: l_elbow, r_elbow, "
                               "l_shoulder, r_shoulder, l_wrist, r_wrist, l_wrist_x, l_wrist_y, "
                               "r_wrist_x, r_wrist_y)", model_path, m->feature_names[j]);
    }
    return TK_OK;
}
