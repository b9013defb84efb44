/* study_frames.c — the input's frames for a study of any length: one streaming pass copies
 * the coordinates to an unlinked scratch file (in $TMPDIR, else /tmp) and keeps only the
 * per-frame bookkeeping in memory (frame number, time, sequence, presence: 13 bytes a frame);
 * every later stage reads back the rows it needs. Training gets either every frame (inputs no
 * larger than the training sample) or a seeded sample of blocks of consecutive frames, so
 * that memory stays flat however long the recording is. */
#include "study.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_ROWS 1024           /* frames per write of pass 1 */
#define MINMAX_ROWS 4096          /* frames per read of the scaling pass */
#define SAMPLE_BLOCK_WINDOWS 201  /* windows a sampled block holds at stride 1 (240 frames) */
/* The sample's own RNG stream, so that drawing it leaves the training's streams alone. */
#define SAMPLE_RNG_STREAM 0x5a4d504cu

void study_frames_close(StudyFrames *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    keypoints_free(&f->meta);
}

/* An unlinked scratch file: it disappears with the process, whatever way that ends. */
static StatusCode scratch_open(int *fd, Status *st)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/takt-study-XXXXXX", dir);
    *fd = mkstemp(path);
    if (*fd < 0)
        return status_fail(st, TK_EIO, "%s: cannot create a scratch file: %s", path,
                           strerror(errno));
    unlink(path);
    return TK_OK;
}

/* Rows of the file, for the ETA only: its size over the mean line length of 64 KB read at
 * the start, a third and two thirds in (lines differ: nobody in view is a short line). */
static double estimate_rows(const char *path)
{
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    if (!fp || fstat(fileno(fp), &sb) != 0) {
        if (fp)
            fclose(fp);
        return 0;
    }
    static char chunk[1 << 16];
    size_t lines = 0, bytes = 0;
    for (int i = 0; i < 3; i++) {
        if (fseeko(fp, sb.st_size / 3 * i, SEEK_SET) != 0)
            break;
        const size_t got = fread(chunk, 1, sizeof chunk, fp);
        for (size_t j = 0; j < got; j++)
            lines += chunk[j] == '\n';
        bytes += got;
    }
    fclose(fp);
    return lines ? (double)sb.st_size * lines / bytes : 0;
}

/* Appends one frame to the per-frame arrays, growing them by doubling. */
static int meta_push(Keypoints *m, int *cap, const KeypointsFrame *fr)
{
    if (m->n_frames == *cap) {
        const int c = *cap ? 2 * *cap : 4096;
        int *frame = realloc(m->frame, sizeof(int) * (size_t)c);
        if (frame)
            m->frame = frame;
        float *time_s = realloc(m->time_s, sizeof(float) * (size_t)c);
        if (time_s)
            m->time_s = time_s;
        int *seq = realloc(m->seq, sizeof(int) * (size_t)c);
        if (seq)
            m->seq = seq;
        unsigned char *present = realloc(m->present, (size_t)c);
        if (present)
            m->present = present;
        if (!frame || !time_s || !seq || !present)
            return 0;
        *cap = c;
    }
    m->frame[m->n_frames] = fr->frame;
    m->time_s[m->n_frames] = fr->time_s;
    m->seq[m->n_frames] = fr->seq;
    m->present[m->n_frames] = fr->present;
    m->n_frames++;
    return 1;
}

/* Rows [first, first + count) of the scratch file from or into buf (row after row of
 * n_features floats), through short reads/writes and interrupted calls. */
static StatusCode transfer_rows(const StudyFrames *f, int first, int count, float *buf,
                                int writing, Status *st)
{
    const int F = f->meta.n_features;
    size_t left = sizeof(float) * (size_t)count * F;
    off_t at = (off_t)sizeof(float) * first * F;
    char *p = (char *)buf;
    while (left) {
        const ssize_t n = writing ? pwrite(f->fd, p, left, at) : pread(f->fd, p, left, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return status_fail(st, TK_EIO, "scratch file: cannot %s frames %d..%d: %s",
                               writing ? "write" : "read", first, first + count - 1,
                               n < 0 ? strerror(errno) : writing ? "disk full" : "short");
        p += n;
        at += n;
        left -= (size_t)n;
    }
    return TK_OK;
}

StatusCode study_frames_write_rows(StudyFrames *f, int first, int count, const float *rows,
                                   Status *st)
{
    return transfer_rows(f, first, count, (float *)rows, 1, st);
}

StatusCode study_frames_open(StudyFrames *f, const char *path, int xy, Status *st)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    KeypointsReader *r;
    StatusCode rc = keypoints_reader_open(&r, path, xy, st);
    if (rc)
        return rc;
    const int F = keypoints_reader_features(r);
    f->meta.n_features = F;
    float *rows = malloc(sizeof(float) * (size_t)SPOOL_ROWS * F);
    if (!rows)
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    if (!rc)
        rc = scratch_open(&f->fd, st);
    Progress p;
    progress_start(&p, "study: read keypoints", estimate_rows(path), "frames");
    int cap = 0, buffered = 0;
    while (!rc) {
        KeypointsFrame fr;
        int got = 0;
        rc = keypoints_reader_next(r, &fr, rows + (size_t)buffered * F, &got, st);
        if (!rc && got && !meta_push(&f->meta, &cap, &fr))
            rc = status_fail(st, TK_ENOMEM, "%s: cannot hold %d frames", path, cap);
        if (!rc && got)
            buffered++;
        if (!rc && (buffered == SPOOL_ROWS || (!got && buffered))) {
            rc = study_frames_write_rows(f, f->meta.n_frames - buffered, buffered, rows, st);
            buffered = 0;
            progress_update(&p, f->meta.n_frames, NULL);
        }
        if (!got)
            break;
    }
    progress_end(&p, NULL);
    free(rows);
    keypoints_reader_close(r);
    if (rc)
        study_frames_close(f);
    return rc;
}

StatusCode study_frames_rows(const StudyFrames *f, int first, int count, const MinMax *scale,
                             float *out, Status *st)
{
    const int F = f->meta.n_features;
    StatusCode rc = transfer_rows(f, first, count, out, 0, st);
    if (rc)
        return rc;
    if (scale) {
        Keypoints view = {.n_frames = count, .n_features = F, .x = out,
                          .present = f->meta.present + first};
        minmax_apply(scale, &view);
    }
    return TK_OK;
}

StatusCode study_frames_window(const StudyFrames *f, int first, int len, const MinMax *scale,
                               float *out, Status *st)
{
    const size_t F = (size_t)f->meta.n_features;
    const int n = window_frames(&f->meta, first, len);
    StatusCode rc = study_frames_rows(f, first, n, scale, out, st);
    for (int t = n; !rc && t < len; t++)
        memcpy(out + (size_t)t * F, out + (size_t)(n - 1) * F, sizeof(float) * F);
    return rc;
}

StatusCode study_frames_load(const StudyFrames *f, Keypoints *k, Status *st)
{
    const Keypoints *m = &f->meta;
    const int n = m->n_frames, F = m->n_features;
    StatusCode rc = keypoints_alloc(k, n, F, st);
    if (rc)
        return rc;
    memcpy(k->frame, m->frame, sizeof(int) * (size_t)n);
    memcpy(k->time_s, m->time_s, sizeof(float) * (size_t)n);
    memcpy(k->seq, m->seq, sizeof(int) * (size_t)n);
    memcpy(k->present, m->present, (size_t)n);
    rc = study_frames_rows(f, 0, n, NULL, k->x, st);
    if (rc)
        keypoints_free(k);
    return rc;
}

StatusCode study_frames_minmax(const StudyFrames *f, int begin, int end, MinMax *s, Status *st)
{
    const int F = f->meta.n_features;
    StatusCode rc = minmax_alloc(s, F, st);
    float *rows = rc ? NULL : malloc(sizeof(float) * (size_t)MINMAX_ROWS * F);
    if (!rc && !rows)
        rc = status_fail(st, TK_ENOMEM, "scaling: out of memory");
    Progress p;
    progress_start(&p, "study: scale", end - begin, "frames");
    int seen = 0;
    for (int r = begin; !rc && r < end; r += MINMAX_ROWS) {
        const int n = end - r < MINMAX_ROWS ? end - r : MINMAX_ROWS;
        rc = study_frames_rows(f, r, n, NULL, rows, st);
        Keypoints view = {.n_frames = n, .n_features = F, .x = rows,
                          .present = f->meta.present + r};
        if (!rc)
            minmax_accumulate(s, &view, 0, n, &seen);
        progress_update(&p, r + n - begin, NULL);
    }
    progress_end(&p, NULL);
    free(rows);
    if (rc)
        minmax_free(s);
    else
        minmax_finish(s, seen);
    return rc;
}

void study_sample_plan(int n_frames, int cap, int len, int stride, StudySample *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->cap = cap;
    /* Blocks are as long as SAMPLE_BLOCK_WINDOWS windows at stride 1 need, shorter when the
     * cap is small, so that the training blocks (7 per validation block, the 70/10 split) stay
     * within the cap. The cap counts windows at stride 1: a coarser stride reads the same
     * frames into fewer windows, so that memory stays bounded whatever the stride. */
    int per_block = cap / 7 < SAMPLE_BLOCK_WINDOWS ? cap / 7 : SAMPLE_BLOCK_WINDOWS;
    if (per_block < 1)
        per_block = 1;
    plan->block_len = len + per_block - 1;
    plan->windows_per_block = (per_block - 1) / stride + 1;
    int val_blocks = cap / (7 * per_block);
    if (val_blocks < 1)
        val_blocks = 1;
    /* Train, validation and as many empty frames again as the split's last 20 % needs: an
     * input no longer than that trains whole. */
    if (10L * val_blocks * plan->block_len >= n_frames)
        return;
    int a, b;
    split_70_10_20(n_frames, &a, &b);
    const int train_tiles = a / plan->block_len, val_tiles = (b - a) / plan->block_len;
    if (val_blocks > val_tiles)
        val_blocks = val_tiles;
    if (val_blocks > train_tiles / 7)
        val_blocks = train_tiles / 7;
    plan->val_blocks = val_blocks;
    plan->train_blocks = 7 * val_blocks;
    plan->frames = 10 * val_blocks * plan->block_len;
    plan->sampled = val_blocks > 0;
}

/* count distinct tiles of [0, tiles) drawn without replacement, in time order. */
static StatusCode draw_tiles(Rng *rng, int tiles, int count, int *chosen, Status *st)
{
    int *all = malloc(sizeof(int) * (size_t)(tiles ? tiles : 1));
    if (!all)
        return status_fail(st, TK_ENOMEM, "training sample: out of memory");
    for (int i = 0; i < tiles; i++)
        all[i] = i;
    rng_shuffle_int(rng, all, (size_t)tiles);
    /* Insertion sort of the few drawn: the sample keeps the recording's order. */
    for (int i = 0; i < count; i++) {
        int j = i;
        for (; j > 0 && chosen[j - 1] > all[i]; j--)
            chosen[j] = chosen[j - 1];
        chosen[j] = all[i];
    }
    free(all);
    return TK_OK;
}

StatusCode study_frames_sample(const StudyFrames *f, const StudySample *plan, uint64_t seed,
                               Keypoints *sample, Status *st)
{
    const Keypoints *m = &f->meta;
    const int F = m->n_features, L = plan->block_len, n = plan->frames;
    memset(sample, 0, sizeof *sample);
    sample->n_frames = n;
    sample->n_features = F;
    sample->x = calloc((size_t)n * F, sizeof(float));
    sample->frame = calloc((size_t)n, sizeof(int));
    sample->time_s = calloc((size_t)n, sizeof(float));
    sample->seq = calloc((size_t)n, sizeof(int));
    sample->present = calloc((size_t)n, 1);
    const int blocks = plan->train_blocks + plan->val_blocks;
    int *chosen = malloc(sizeof(int) * (size_t)(blocks ? blocks : 1));
    StatusCode rc = TK_OK;
    if (!sample->x || !sample->frame || !sample->time_s || !sample->seq || !sample->present ||
        !chosen)
        rc = status_fail(st, TK_ENOMEM, "training sample: cannot hold %d frames", n);
    int a, b;
    split_70_10_20(m->n_frames, &a, &b);
    Rng rng;
    rng_seed(&rng, seed, SAMPLE_RNG_STREAM);
    if (!rc)
        rc = draw_tiles(&rng, a / L, plan->train_blocks, chosen, st);
    if (!rc)
        rc = draw_tiles(&rng, (b - a) / L, plan->val_blocks, chosen + plan->train_blocks, st);
    Progress p;
    progress_start(&p, "study: training sample", blocks, "blocks");
    int id = 0;
    for (int i = 0; !rc && i < blocks; i++) {
        const int first = (i < plan->train_blocks ? 0 : a) + chosen[i] * L, at = i * L;
        rc = study_frames_rows(f, first, L, NULL, sample->x + (size_t)at * F, st);
        /* New sequence ids for every block, and wherever the input's own change inside one,
         * so that no window joins two blocks or two of the input's sequences. */
        for (int r = 0; !rc && r < L; r++) {
            if (r == 0 || m->seq[first + r] != m->seq[first + r - 1])
                id++;
            sample->frame[at + r] = m->frame[first + r];
            sample->time_s[at + r] = m->time_s[first + r];
            sample->seq[at + r] = id;
            sample->present[at + r] = m->present[first + r];
        }
        /* A sequence the block's edge cuts is a piece of a longer one: a negative id keeps
         * windows_make from padding it as if it were a short sequence of its own. */
        const int head = first > 0 && m->seq[first - 1] == m->seq[first];
        const int tail = first + L < m->n_frames && m->seq[first + L] == m->seq[first + L - 1];
        const int head_id = sample->seq[at], tail_id = sample->seq[at + L - 1];
        for (int r = 0; !rc && r < L; r++) {
            const int s = sample->seq[at + r];
            if ((head && s == head_id) || (tail && s == tail_id))
                sample->seq[at + r] = -s;
        }
        progress_update(&p, i + 1, NULL);
    }
    progress_end(&p, NULL);
    /* The last 20 % (the split's test block, which training never reads): empty frames. */
    for (int r = blocks * L; r < n; r++)
        sample->seq[r] = id + 1;
    free(chosen);
    if (rc)
        keypoints_free(sample);
    return rc;
}
