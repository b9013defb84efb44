/* dataset.c — what the autoencoder learns from: keypoint frames read from CSV, per-feature
 * min-max scaling fitted on the training block, the 70/10/20 contiguous split, and sliding
 * windows that never cross a sequence boundary. */
#include "nn.h"
#include "../io/io.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Frame rate assumed for files without a time column (the labelled CSVs of shared/data). */
#define DEFAULT_FPS 30.0f

void keypoints_free(Keypoints *k)
{
    free(k->x);
    free(k->frame);
    free(k->time_s);
    free(k->seq);
    free(k->present);
    memset(k, 0, sizeof *k);
}

StatusCode keypoints_read(Keypoints *k, const char *path, int xy_only, Status *st)
{
    memset(k, 0, sizeof *k);
    CsvTable t;
    StatusCode rc = csv_read(&t, path, NULL, st);
    if (rc)
        return rc;
    const int c_seq = csv_column(&t, "seq_id"), c_frame = csv_column(&t, "frame");
    const int c_time = csv_column(&t, "time_s"), c_pose = csv_column(&t, "pose");
    const int labelled = c_seq >= 0 && c_frame >= 0 && csv_column(&t, "label") >= 0;
    if (!labelled && (c_frame < 0 || c_time < 0 || c_pose < 0)) {
        csv_free(&t);
        return status_fail(st, TK_EFORMAT,
                           "%s: line 1: neither a keypoints CSV (frame,time_s,pose,x0,y0,z0,v0,"
                           "...) nor a labelled CSV (seq_id,frame,label,x0,y0,...)",
                           path);
    }
    int *cols = malloc(sizeof(int) * (size_t)t.cols);
    int n = 0;
    for (int c = 0; cols && c < t.cols; c++) {
        const char axis = csv_coordinate_axis(t.names[c]);
        if (axis == 'x' || axis == 'y' || (axis == 'z' && !xy_only))
            cols[n++] = c;
    }
    if (!cols || n == 0) {
        free(cols);
        csv_free(&t);
        return status_fail(st, cols ? TK_EFORMAT : TK_ENOMEM,
                           "%s: line 1: no coordinate columns (x0, y0, ...)", path);
    }
    k->n_frames = t.rows;
    k->n_features = n;
    k->x = malloc(sizeof(float) * (size_t)t.rows * n);
    k->frame = malloc(sizeof(int) * (size_t)(t.rows ? t.rows : 1));
    k->time_s = malloc(sizeof(float) * (size_t)(t.rows ? t.rows : 1));
    k->seq = malloc(sizeof(int) * (size_t)(t.rows ? t.rows : 1));
    k->present = malloc((size_t)(t.rows ? t.rows : 1));
    if (!k->x || !k->frame || !k->time_s || !k->seq || !k->present) {
        free(cols);
        csv_free(&t);
        keypoints_free(k);
        return status_fail(st, TK_ENOMEM, "%s: cannot hold %d frames", path, t.rows);
    }
    for (int r = 0; r < t.rows; r++) {
        const float *row = t.data + (size_t)r * t.cols;
        k->frame[r] = (int)row[c_frame];
        k->time_s[r] = labelled ? row[c_frame] / DEFAULT_FPS : row[c_time];
        k->seq[r] = labelled ? (int)row[c_seq] : 0;
        k->present[r] = labelled || row[c_pose] != 0.0f;
        for (int j = 0; j < n; j++)
            k->x[(size_t)r * n + j] = k->present[r] ? row[cols[j]] : 0.0f;
    }
    free(cols);
    csv_free(&t);
    return TK_OK;
}

StatusCode minmax_fit(MinMax *s, const Keypoints *k, int begin, int end, Status *st)
{
    const int n = k->n_features;
    s->n = n;
    s->min = malloc(sizeof(float) * (size_t)n);
    s->max = malloc(sizeof(float) * (size_t)n);
    if (!s->min || !s->max) {
        minmax_free(s);
        return status_fail(st, TK_ENOMEM, "min-max scaling: cannot allocate %d features", n);
    }
    int seen = 0;
    for (int r = begin; r < end; r++) {
        if (!k->present[r])
            continue;
        const float *row = k->x + (size_t)r * n;
        for (int j = 0; j < n; j++) {
            if (!seen || row[j] < s->min[j])
                s->min[j] = row[j];
            if (!seen || row[j] > s->max[j])
                s->max[j] = row[j];
        }
        seen = 1;
    }
    if (!seen) /* nobody in view in the whole block: an identity scaling keeps zeros zeros */
        for (int j = 0; j < n; j++) {
            s->min[j] = 0.0f;
            s->max[j] = 1.0f;
        }
    return TK_OK;
}

void minmax_apply(const MinMax *s, Keypoints *k)
{
    for (int r = 0; r < k->n_frames; r++) {
        if (!k->present[r])
            continue;
        float *row = k->x + (size_t)r * k->n_features;
        for (int j = 0; j < s->n; j++) {
            const float range = s->max[j] - s->min[j];
            /* A constant feature carries no information: 0 rather than a division by 0. */
            row[j] = range > 0.0f ? (row[j] - s->min[j]) / range : 0.0f;
        }
    }
}

void minmax_free(MinMax *s)
{
    free(s->min);
    free(s->max);
    memset(s, 0, sizeof *s);
}

void split_70_10_20(int n, int *a, int *b)
{
    *a = (int)((long long)n * 7 / 10);
    *b = (int)((long long)n * 8 / 10);
}

StatusCode windows_make(const Keypoints *k, int begin, int end, int len, int stride, int **starts,
                        int *count, Status *st)
{
    *starts = NULL;
    *count = 0;
    if (len < 1 || stride < 1)
        return status_fail(st, TK_EINVAL, "windows: length %d and stride %d must be >= 1", len,
                           stride);
    const int most = end > begin ? end - begin : 1; /* starts are distinct rows */
    int *s = malloc(sizeof(int) * (size_t)most);
    if (!s)
        return status_fail(st, TK_ENOMEM, "windows: cannot allocate %d starts", most);
    int n = 0;
    /* One run of rows per sequence id; windows are laid from each run's first row. */
    for (int a = begin; a < end;) {
        int b = a + 1;
        while (b < end && k->seq[b] == k->seq[a])
            b++;
        for (int r = a; r + len <= b; r += stride)
            s[n++] = r;
        a = b;
    }
    *starts = s;
    *count = n;
    return TK_OK;
}

void windows_gather(const Keypoints *k, const int *starts, const int *idx, int B, int len,
                    float *out)
{
    const size_t w = (size_t)len * k->n_features;
    for (int b = 0; b < B; b++)
        memcpy(out + b * w, k->x + (size_t)starts[idx ? idx[b] : b] * k->n_features,
               w * sizeof(float));
}
