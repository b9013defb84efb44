/* keypoints_stream.c — keypoint frames one at a time, for recordings too long to hold (an
 * 8-hour shift is 864,000 frames): the header of a `takt pose` keypoints CSV or a labelled CSV
 * is understood once, then every call returns the next frame's coordinates and bookkeeping
 * through io's streaming CsvReader, in constant memory. keypoints_read is built on it. */
#include "nn.h"
#include "../io/io.h"

#include <stdlib.h>
#include <string.h>

/* Frame rate assumed for files without a time column (the labelled CSVs of shared/data). */
#define DEFAULT_FPS 30.0f

struct KeypointsReader {
    CsvReader *csv;
    int labelled;
    int c_seq, c_frame, c_time, c_pose;
    int n_features;
    int *cols;      /* n_features input columns kept */
    float *values;  /* one CSV row */
};

void keypoints_reader_close(KeypointsReader *r)
{
    if (!r)
        return;
    csv_reader_close(r->csv);
    free(r->cols);
    free(r->values);
    free(r);
}

StatusCode keypoints_reader_open(KeypointsReader **out, const char *path, int xy_only,
                                 Status *st)
{
    /* A labelled CSV may name its classes in words; the label is never read here. */
    static const char *const text_cols[] = {"label", NULL};
    *out = NULL;
    KeypointsReader *r = calloc(1, sizeof *r);
    if (!r)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    StatusCode rc = csv_reader_open(&r->csv, path, text_cols, st);
    if (rc) {
        free(r);
        return rc;
    }
    const int cols = csv_reader_cols(r->csv);
    r->c_seq = r->c_frame = r->c_time = r->c_pose = -1;
    int has_label = 0;
    for (int c = 0; c < cols; c++) {
        const char *name = csv_reader_name(r->csv, c);
        if (!strcmp(name, "seq_id"))
            r->c_seq = c;
        else if (!strcmp(name, "frame"))
            r->c_frame = c;
        else if (!strcmp(name, "time_s"))
            r->c_time = c;
        else if (!strcmp(name, "pose"))
            r->c_pose = c;
        else if (!strcmp(name, "label"))
            has_label = 1;
    }
    r->labelled = r->c_seq >= 0 && r->c_frame >= 0 && has_label;
    if (!r->labelled && (r->c_frame < 0 || r->c_time < 0 || r->c_pose < 0)) {
        keypoints_reader_close(r);
        return status_fail(st, TK_EFORMAT,
                           "%s: line 1: neither a keypoints CSV (frame,time_s,pose,x0,y0,z0,v0,"
                           "...) nor a labelled CSV (seq_id,frame,label,x0,y0,...)",
                           path);
    }
    r->cols = malloc(sizeof(int) * (size_t)cols);
    r->values = malloc(sizeof(float) * (size_t)cols);
    if (!r->cols || !r->values) {
        keypoints_reader_close(r);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    for (int c = 0; c < cols; c++) {
        const char axis = csv_coordinate_axis(csv_reader_name(r->csv, c));
        if (axis == 'x' || axis == 'y' || (axis == 'z' && !xy_only))
            r->cols[r->n_features++] = c;
    }
    if (r->n_features == 0) {
        keypoints_reader_close(r);
        return status_fail(st, TK_EFORMAT, "%s: line 1: no coordinate columns (x0, y0, ...)",
                           path);
    }
    *out = r;
    return TK_OK;
}

int keypoints_reader_features(const KeypointsReader *r)
{
    return r->n_features;
}

StatusCode keypoints_reader_next(KeypointsReader *r, KeypointsFrame *f, float *x, int *got,
                                 Status *st)
{
    StatusCode rc = csv_reader_next(r->csv, r->values, NULL, got, st);
    if (rc || !*got)
        return rc;
    const float *row = r->values;
    f->frame = (int)row[r->c_frame];
    f->time_s = r->labelled ? row[r->c_frame] / DEFAULT_FPS : row[r->c_time];
    f->seq = r->labelled ? (int)row[r->c_seq] : 0;
    f->present = r->labelled || row[r->c_pose] != 0.0f;
    for (int j = 0; j < r->n_features; j++)
        x[j] = f->present ? row[r->cols[j]] : 0.0f;
    return TK_OK;
}
