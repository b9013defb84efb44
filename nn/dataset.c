/* dataset.c — what the autoencoder learns from: keypoint frames read from CSV, per-feature
 * min-max scaling fitted on the training block, the 70/10/20 contiguous split, and sliding
 * windows that never cross a sequence boundary. A sequence shorter than a window still gets
 * one, padded with its last frame: in the labelled sets about half the frames are in such
 * sequences (utkinect 51 %, msr_action3d 41 % at 40 frames), and without a window of their own
 * they would only ever take a neighbour's label. */
#include "nn.h"

#include <stdlib.h>
#include <string.h>

void keypoints_free(Keypoints *k)
{
    free(k->x);
    free(k->frame);
    free(k->time_s);
    free(k->seq);
    free(k->present);
    memset(k, 0, sizeof *k);
}

StatusCode keypoints_alloc(Keypoints *k, int n_frames, int n_features, Status *st)
{
    memset(k, 0, sizeof *k);
    k->n_frames = n_frames;
    k->n_features = n_features;
    const size_t n = n_frames > 0 ? (size_t)n_frames : 1;
    k->x = calloc(n * (size_t)(n_features > 0 ? n_features : 1), sizeof(float));
    k->frame = calloc(n, sizeof(int));
    k->time_s = calloc(n, sizeof(float));
    k->seq = calloc(n, sizeof(int));
    k->present = calloc(n, 1);
    if (!k->x || !k->frame || !k->time_s || !k->seq || !k->present) {
        keypoints_free(k);
        return status_fail(st, TK_ENOMEM, "cannot hold %d frames of %d coordinates", n_frames,
                           n_features);
    }
    return TK_OK;
}

StatusCode keypoints_read(Keypoints *k, const char *path, int xy_only, Status *st)
{
    memset(k, 0, sizeof *k);
    KeypointsReader *r;
    StatusCode rc = keypoints_reader_open(&r, path, xy_only, st);
    if (rc)
        return rc;
    const int n = keypoints_reader_features(r);
    k->n_features = n;
    int cap = 0;
    for (;;) {
        if (k->n_frames == cap) {
            /* Doubling keeps the copies linear in the file's length. */
            cap = cap ? 2 * cap : 1024;
            float *x = realloc(k->x, sizeof(float) * (size_t)cap * n);
            if (x)
                k->x = x;
            int *frame = realloc(k->frame, sizeof(int) * (size_t)cap);
            if (frame)
                k->frame = frame;
            float *time_s = realloc(k->time_s, sizeof(float) * (size_t)cap);
            if (time_s)
                k->time_s = time_s;
            int *seq = realloc(k->seq, sizeof(int) * (size_t)cap);
            if (seq)
                k->seq = seq;
            unsigned char *present = realloc(k->present, (size_t)cap);
            if (present)
                k->present = present;
            if (!x || !frame || !time_s || !seq || !present) {
                rc = status_fail(st, TK_ENOMEM, "%s: cannot hold %d frames", path, cap);
                break;
            }
        }
        KeypointsFrame f;
        int got = 0;
        rc = keypoints_reader_next(r, &f, k->x + (size_t)k->n_frames * n, &got, st);
        if (rc || !got)
            break;
        k->frame[k->n_frames] = f.frame;
        k->time_s[k->n_frames] = f.time_s;
        k->seq[k->n_frames] = f.seq;
        k->present[k->n_frames] = f.present;
        k->n_frames++;
    }
    keypoints_reader_close(r);
    if (rc)
        keypoints_free(k);
    return rc;
}

StatusCode minmax_alloc(MinMax *s, int n, Status *st)
{
    s->n = n;
    s->min = malloc(sizeof(float) * (size_t)n);
    s->max = malloc(sizeof(float) * (size_t)n);
    if (!s->min || !s->max) {
        minmax_free(s);
        return status_fail(st, TK_ENOMEM, "min-max scaling: cannot allocate %d features", n);
    }
    return TK_OK;
}

void minmax_accumulate(MinMax *s, const Keypoints *k, int begin, int end, int *seen)
{
    const int n = k->n_features;
    for (int r = begin; r < end; r++) {
        if (!k->present[r])
            continue;
        const float *row = k->x + (size_t)r * n;
        for (int j = 0; j < n; j++) {
            if (!*seen || row[j] < s->min[j])
                s->min[j] = row[j];
            if (!*seen || row[j] > s->max[j])
                s->max[j] = row[j];
        }
        *seen = 1;
    }
}

void minmax_finish(MinMax *s, int seen)
{
    if (!seen) /* nobody in view in the whole block: an identity scaling keeps zeros zeros */
        for (int j = 0; j < s->n; j++) {
            s->min[j] = 0.0f;
            s->max[j] = 1.0f;
        }
}

StatusCode minmax_fit(MinMax *s, const Keypoints *k, int begin, int end, Status *st)
{
    StatusCode rc = minmax_alloc(s, k->n_features, st);
    if (rc)
        return rc;
    int seen = 0;
    minmax_accumulate(s, k, begin, end, &seen);
    minmax_finish(s, seen);
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

StatusCode keypoints_scaled_copy(const Keypoints *k, const MinMax *s, Keypoints *out, Status *st)
{
    const size_t values = (size_t)k->n_frames * k->n_features;
    *out = *k;
    out->x = malloc((values ? values : 1) * sizeof(float));
    if (!out->x)
        return status_fail(st, TK_ENOMEM, "cannot copy %d frames for scaling", k->n_frames);
    memcpy(out->x, k->x, values * sizeof(float));
    minmax_apply(s, out);
    return TK_OK;
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
    /* One run of rows per sequence id; windows are laid from each run's first row. Counted
     * first, so that a long recording at a coarse stride holds only the starts it uses. */
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !(*starts = malloc(sizeof(int) * (size_t)(n ? n : 1))))
            return status_fail(st, TK_ENOMEM, "windows: cannot allocate %d starts", n);
        n = 0;
        for (int a = begin; a < end;) {
            int b = a + 1;
            while (b < end && k->seq[b] == k->seq[a])
                b++;
            for (int r = a; r + len <= b; r += stride) {
                if (pass == 1)
                    (*starts)[n] = r;
                n++;
            }
            /* Only a whole sequence: a longer one cut by begin or end, or by whoever made k
             * (a negative id), is not padded into. */
            const int whole = k->seq[a] >= 0 && (a == 0 || k->seq[a - 1] != k->seq[a]) &&
                              (b == k->n_frames || k->seq[b] != k->seq[a]);
            if (b - a < len && whole) {
                if (pass == 1)
                    (*starts)[n] = a;
                n++;
            }
            a = b;
        }
    }
    *count = n;
    return TK_OK;
}

int window_frames(const Keypoints *k, int start, int len)
{
    int n = 1;
    while (n < len && start + n < k->n_frames && k->seq[start + n] == k->seq[start])
        n++;
    return n;
}

void windows_gather(const Keypoints *k, const int *starts, const int *idx, int B, int len,
                    float *out)
{
    const size_t F = (size_t)k->n_features, w = (size_t)len * F;
    for (int b = 0; b < B; b++) {
        const int start = starts[idx ? idx[b] : b], n = window_frames(k, start, len);
        float *o = out + b * w;
        memcpy(o, k->x + (size_t)start * F, (size_t)n * F * sizeof(float));
        for (int t = n; t < len; t++)
            memcpy(o + (size_t)t * F, o + (size_t)(n - 1) * F, F * sizeof(float));
    }
}
