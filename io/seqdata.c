/* seqdata — labelled sequence data sets for the skeleton classifiers: loading the three
 * layouts takt reads (a folder per class of BVH files as HARNets has it, the labelled CSVs of
 * ../shared/data, a `takt pose` keypoints CSV cut by a segments CSV), splits by subject or by
 * a list of seq_ids, fitting every sequence to a fixed number of time steps, and per-feature
 * normalisation fitted on the training sequences only. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"

/* A feature whose spread over the training frames is below this (relative to its magnitude,
 * at least 1) is treated as constant: normalisation maps it to 0. BVH files with 6 channels
 * per joint carry position channels that vary only by exporter noise (~1e-6 cm). */
#define SEQ_CONSTANT_SPREAD 1e-5

/* ---------------------------------------------------------------- building a set */

void seqset_free(SeqSet *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->seqs[i].x);
        free(s->seqs[i].source);
    }
    free(s->seqs);
    for (int c = 0; c < s->n_classes; c++)
        free(s->class_names[c]);
    free(s->class_names);
    memset(s, 0, sizeof *s);
}

/* Appends an empty sequence; NULL when out of memory. */
static Sequence *seqset_add(SeqSet *s, int *cap)
{
    if (s->n == *cap) {
        int n = *cap ? *cap * 2 : 64;
        Sequence *q = realloc(s->seqs, (size_t)n * sizeof *q);
        if (!q)
            return NULL;
        s->seqs = q;
        *cap = n;
    }
    Sequence *q = &s->seqs[s->n++];
    memset(q, 0, sizeof *q);
    q->subject = -1;
    return q;
}

/* Makes room for one more frame of F features in q (capacity in frames in *cap). */
static float *sequence_push_frame(Sequence *q, int *cap, int F)
{
    if (q->n_frames == *cap) {
        int n = *cap ? *cap * 2 : 64;
        float *x = realloc(q->x, (size_t)n * F * sizeof *x);
        if (!x)
            return NULL;
        q->x = x;
        *cap = n;
    }
    return q->x + (size_t)q->n_frames++ * F;
}

static StatusCode set_class_names_numeric(SeqSet *s, int n_classes, Status *st)
{
    s->class_names = calloc((size_t)(n_classes > 0 ? n_classes : 1), sizeof *s->class_names);
    if (!s->class_names)
        return status_fail(st, TK_ENOMEM, "out of memory for %d class names", n_classes);
    s->n_classes = n_classes;
    for (int c = 0; c < n_classes; c++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", c);
        if (!(s->class_names[c] = strdup(buf)))
            return status_fail(st, TK_ENOMEM, "out of memory for class names");
    }
    return TK_OK;
}

/* ---------------------------------------------------------------- folder of BVH files */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_bvh_extension(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".bvh") == 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entries of dir (sorted) that are directories (want_dirs) or .bvh files. */
static StatusCode list_dir(const char *dir, int want_dirs, char ***out, int *count, Status *st)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return status_fail(st, TK_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0;
    StatusCode code = TK_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0)
            continue;
        int keep = want_dirs ? S_ISDIR(sb.st_mode)
                             : S_ISREG(sb.st_mode) && has_bvh_extension(e->d_name);
        if (!keep)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown) {
                code = status_fail(st, TK_ENOMEM, "%s: out of memory listing the folder", dir);
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name))) {
            code = status_fail(st, TK_ENOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (code != TK_OK) {
        free_names(names, n);
        return code;
    }
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, compare_names);
    *out = names;
    *count = n;
    return TK_OK;
}

int seq_bvh_feature_count(const Bvh *b, SeqBvhFeatures features)
{
    switch (features) {
    case SEQ_BVH_POSITIONS:
        return 3 * b->n_joints;
    case SEQ_BVH_CHANNELS:
        return b->n_channels;
    case SEQ_BVH_ROTATIONS:
        return bvh_rotation_count(b);
    case SEQ_BVH_POSITIONS_ROTATIONS:
        return 3 * b->n_joints + bvh_rotation_count(b);
    }
    return 0;
}

StatusCode seq_bvh_features(const Bvh *b, SeqBvhFeatures features, float *out, Status *st)
{
    const int F = seq_bvh_feature_count(b, features);
    const size_t frames = (size_t)b->n_frames;
    if (features == SEQ_BVH_CHANNELS) {
        if (frames)
            memcpy(out, b->motion, frames * F * sizeof *out);
        return TK_OK;
    }
    if (features == SEQ_BVH_ROTATIONS) {
        bvh_rotations(b, out);
        return TK_OK;
    }
    if (features == SEQ_BVH_POSITIONS)
        return bvh_positions(b, 0, out, st);
    /* positions then rotations in each frame, as HARNets joins bvh-converter's two CSVs */
    const int P = 3 * b->n_joints, R = F - P;
    float *pos = malloc((frames * P + frames * R + 1) * sizeof *pos);
    if (!pos)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for features", b->path);
    float *rot = pos + frames * P;
    StatusCode code = bvh_positions(b, 0, pos, st);
    if (code == TK_OK) {
        bvh_rotations(b, rot);
        for (size_t f = 0; f < frames; f++) {
            memcpy(out + f * F, pos + f * P, (size_t)P * sizeof *out);
            memcpy(out + f * F + P, rot + f * R, (size_t)R * sizeof *out);
        }
    }
    free(pos);
    return code;
}

/* One BVH file as a sequence of class `label`. */
static StatusCode load_bvh_sequence(SeqSet *s, int *cap, const char *path, int label,
                                    SeqBvhFeatures features, Status *st)
{
    Bvh b;
    StatusCode code = bvh_read(&b, path, st);
    if (code != TK_OK)
        return code;
    const int F = seq_bvh_feature_count(&b, features);
    if (b.n_frames == 0) {
        bvh_free(&b);
        return status_fail(st, TK_EFORMAT, "%s: no frames (Frames: 0)", path);
    }
    if (s->n == 0) {
        s->n_features = F;
    } else if (F != s->n_features) {
        code = status_fail(st, TK_EFORMAT,
                           "%s: %d features per frame (%d joints, %d channels), but %s has %d: "
                           "every file of a data set needs the same skeleton",
                           path, F, b.n_joints, b.n_channels, s->seqs[0].source, s->n_features);
        bvh_free(&b);
        return code;
    }
    Sequence *q = seqset_add(s, cap);
    if (!q) {
        bvh_free(&b);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    q->label = label;
    q->seq_id = s->n - 1;
    q->n_frames = b.n_frames;
    q->source = strdup(path);
    q->x = malloc(((size_t)b.n_frames * F + 1) * sizeof *q->x);
    if (!q->source || !q->x)
        code = status_fail(st, TK_ENOMEM, "%s: out of memory for %d frames", path, b.n_frames);
    else
        code = seq_bvh_features(&b, features, q->x, st);
    bvh_free(&b);
    return code;
}

StatusCode seqset_load_bvh_folder(SeqSet *s, const char *dir, SeqBvhFeatures features,
                                  Status *st)
{
    memset(s, 0, sizeof *s);
    char **classes;
    int n_dirs, cap = 0, names_cap = 0;
    StatusCode code = list_dir(dir, 1, &classes, &n_dirs, st);
    if (code != TK_OK)
        return code;
    for (int c = 0; c < n_dirs && code == TK_OK; c++) {
        char class_dir[4096];
        snprintf(class_dir, sizeof class_dir, "%s/%s", dir, classes[c]);
        char **files;
        int n_files;
        if ((code = list_dir(class_dir, 0, &files, &n_files, st)) != TK_OK)
            break;
        if (n_files > 0) {
            /* a folder without BVH files (plots, notes) is not a class */
            if (s->n_classes == names_cap) {
                names_cap = names_cap ? names_cap * 2 : 16;
                char **grown = realloc(s->class_names, (size_t)names_cap * sizeof *grown);
                if (!grown) {
                    free_names(files, n_files);
                    code = status_fail(st, TK_ENOMEM, "%s: out of memory", dir);
                    break;
                }
                s->class_names = grown;
            }
            if (!(s->class_names[s->n_classes] = strdup(classes[c]))) {
                free_names(files, n_files);
                code = status_fail(st, TK_ENOMEM, "%s: out of memory", dir);
                break;
            }
            s->n_classes++;
        }
        for (int f = 0; f < n_files && code == TK_OK; f++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", class_dir, files[f]);
            code = load_bvh_sequence(s, &cap, path, s->n_classes - 1, features, st);
        }
        free_names(files, n_files);
    }
    free_names(classes, n_dirs);
    if (code == TK_OK && s->n == 0)
        code = status_fail(st, TK_EFORMAT,
                           "%s: no class folders with .bvh files (expected DIR/<class>/NAME.bvh)",
                           dir);
    if (code != TK_OK)
        seqset_free(s);
    return code;
}

/* ---------------------------------------------------------------- labelled CSV */

/* "<id> <name>" lines of labels.txt into s->class_names (at least n_classes entries). */
static StatusCode read_label_names(SeqSet *s, const char *path, int n_classes, Status *st)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return set_class_names_numeric(s, n_classes, st);
    char line[1024];
    int max_id = n_classes - 1, lineno = 0;
    /* first pass for the largest id, so that classes absent from the data keep their name */
    while (fgets(line, sizeof line, fp)) {
        int id;
        if (sscanf(line, "%d", &id) == 1 && id > max_id && id < 1000000)
            max_id = id;
    }
    StatusCode code = set_class_names_numeric(s, max_id + 1, st);
    rewind(fp);
    while (code == TK_OK && fgets(line, sizeof line, fp)) {
        int id, used;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[strspn(line, " \t")])
            continue;
        if (sscanf(line, "%d %n", &id, &used) != 1 || id < 0 || id > max_id || !line[used]) {
            code = status_fail(st, TK_EFORMAT, "%s: line %d: expected '<id> <name>'", path,
                               lineno);
            break;
        }
        char *name = strdup(line + used);
        if (!name) {
            code = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
            break;
        }
        free(s->class_names[id]);
        s->class_names[id] = name;
    }
    fclose(fp);
    return code;
}

/* A table such as sequences.csv whose columns other than `numeric` may hold text (file
 * names, action names). *absent = 1, with TK_OK, when the file does not exist. */
static StatusCode read_index_table(CsvTable *t, const char *path, const char *const *numeric,
                                   int *absent, Status *st)
{
    FILE *fp = fopen(path, "r");
    *absent = fp == NULL;
    if (!fp)
        return TK_OK;
    char header[4096];
    int got = fgets(header, sizeof header, fp) != NULL;
    fclose(fp);
    if (!got)
        return status_fail(st, TK_EFORMAT, "%s: line 1: expected a header line", path);
    header[strcspn(header, "\r\n")] = '\0';
    const char *text_cols[128];
    int n_text = 0;
    for (char *p = strtok(header, ","); p && n_text < 127; p = strtok(NULL, ",")) {
        int is_numeric = 0;
        for (const char *const *n = numeric; *n; n++)
            is_numeric |= !strcmp(p, *n);
        if (!is_numeric)
            text_cols[n_text++] = p;
    }
    text_cols[n_text] = NULL;
    return csv_read(t, path, text_cols, st);
}

/* sequences.csv beside the data: its subject column, when it has one, into every sequence. */
static StatusCode read_subjects(SeqSet *s, const char *path, Status *st)
{
    static const char *const numeric[] = {"seq_id", "subject", NULL};
    CsvTable t;
    int absent;
    StatusCode code = read_index_table(&t, path, numeric, &absent, st);
    if (code != TK_OK || absent)
        return code;
    int id_col = csv_column(&t, "seq_id"), subject_col = csv_column(&t, "subject");
    if (subject_col < 0) {
        csv_free(&t);
        return TK_OK;
    }
    if (id_col < 0) {
        csv_free(&t);
        return status_fail(st, TK_EFORMAT, "%s: has a subject column but no seq_id column",
                           path);
    }
    /* seq_ids are usually 0..n-1 in order; fall back to a search otherwise */
    for (int r = 0; r < t.rows; r++) {
        int id = (int)t.data[(size_t)r * t.cols + id_col];
        int subject = (int)t.data[(size_t)r * t.cols + subject_col];
        int i = id >= 0 && id < s->n && s->seqs[id].seq_id == id ? id : -1;
        for (int k = 0; i < 0 && k < s->n; k++)
            if (s->seqs[k].seq_id == id)
                i = k;
        if (i >= 0)
            s->seqs[i].subject = subject;
    }
    csv_free(&t);
    return TK_OK;
}

/* The folder part of path ("." when none) into dir. */
static void dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, size, ".");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

StatusCode seqset_load_labelled_csv(SeqSet *s, const char *path, Status *st)
{
    memset(s, 0, sizeof *s);
    CsvReader *r;
    StatusCode code = csv_reader_open(&r, path, NULL, st);
    if (code != TK_OK)
        return code;
    const int cols = csv_reader_cols(r);
    int id_col = -1, frame_col = -1, label_col = -1;
    for (int c = 0; c < cols; c++) {
        const char *name = csv_reader_name(r, c);
        if (!strcmp(name, "seq_id"))
            id_col = c;
        else if (!strcmp(name, "frame"))
            frame_col = c;
        else if (!strcmp(name, "label"))
            label_col = c;
    }
    if (id_col < 0 || frame_col < 0 || label_col < 0) {
        csv_reader_close(r);
        return status_fail(st, TK_EFORMAT,
                           "%s: line 1: expected the columns seq_id, frame and label", path);
    }
    s->n_features = cols - 3;
    float *row = malloc((size_t)cols * sizeof *row);
    int *feature_cols = malloc((size_t)cols * sizeof *feature_cols);
    if (!row || !feature_cols) {
        free(row);
        free(feature_cols);
        csv_reader_close(r);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    for (int c = 0, k = 0; c < cols; c++)
        if (c != id_col && c != frame_col && c != label_col)
            feature_cols[k++] = c;
    int cap = 0, frames_cap = 0, max_label = -1;
    Sequence *q = NULL;
    float last_frame = 0;
    for (;;) {
        int got;
        if ((code = csv_reader_next(r, row, NULL, &got, st)) != TK_OK || !got)
            break;
        const long line = csv_reader_line(r);
        const float id = row[id_col], frame = row[frame_col], label = row[label_col];
        if (id != floorf(id) || id < 0 || id > 2e9f || label != floorf(label) || label < 0 ||
            label > 1e6f) {
            code = status_fail(st, TK_EFORMAT,
                               "%s: line %ld: seq_id and label must be whole numbers >= 0",
                               path, line);
            break;
        }
        if (!q || q->seq_id != (int)id) {
            for (int i = 0; i < s->n; i++)
                if (s->seqs[i].seq_id == (int)id) {
                    code = status_fail(st, TK_EFORMAT,
                                       "%s: line %ld: seq_id %d appears again after seq_id %d "
                                       "(the rows of one sequence must be contiguous)",
                                       path, line, (int)id, q->seq_id);
                    break;
                }
            if (code != TK_OK)
                break;
            if (!(q = seqset_add(s, &cap))) {
                code = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
                break;
            }
            q->seq_id = (int)id;
            q->label = (int)label;
            frames_cap = 0;
        } else if (frame <= last_frame) {
            code = status_fail(st, TK_EFORMAT,
                               "%s: line %ld: frame %g of seq_id %d does not follow frame %g",
                               path, line, frame, q->seq_id, last_frame);
            break;
        } else if ((int)label != q->label) {
            code = status_fail(st, TK_EFORMAT,
                               "%s: line %ld: label %d inside seq_id %d, whose label is %d",
                               path, line, (int)label, q->seq_id, q->label);
            break;
        }
        last_frame = frame;
        if (q->label > max_label)
            max_label = q->label;
        float *x = sequence_push_frame(q, &frames_cap, s->n_features);
        if (!x) {
            code = status_fail(st, TK_ENOMEM, "%s: out of memory at line %ld", path, line);
            break;
        }
        for (int k = 0; k < s->n_features; k++)
            x[k] = row[feature_cols[k]];
    }
    free(row);
    free(feature_cols);
    csv_reader_close(r);
    if (code == TK_OK && s->n == 0)
        code = status_fail(st, TK_EFORMAT, "%s: no rows", path);
    if (code == TK_OK) {
        char dir[4096], side[4200];
        dir_of(path, dir, sizeof dir);
        snprintf(side, sizeof side, "%s/labels.txt", dir);
        code = read_label_names(s, side, max_label + 1, st);
        if (code == TK_OK) {
            snprintf(side, sizeof side, "%s/sequences.csv", dir);
            code = read_subjects(s, side, st);
        }
    }
    if (code != TK_OK)
        seqset_free(s);
    return code;
}

/* ---------------------------------------------------------------- BVH files by index */

StatusCode seqset_load_bvh_index(SeqSet *s, const char *index_csv, const char *bvh_dir,
                                 SeqBvhFeatures features, Status *st)
{
    memset(s, 0, sizeof *s);
    static const char *const numeric[] = {"seq_id", "label", "subject", NULL};
    CsvTable t;
    int absent;
    StatusCode code = read_index_table(&t, index_csv, numeric, &absent, st);
    if (code != TK_OK)
        return code;
    if (absent)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", index_csv, strerror(ENOENT));
    int id_col = csv_column(&t, "seq_id"), file_col = csv_column(&t, "file");
    int label_col = csv_column(&t, "label"), subject_col = csv_column(&t, "subject");
    char dir[4096];
    dir_of(index_csv, dir, sizeof dir);
    if (id_col < 0 || file_col < 0 || label_col < 0)
        code = status_fail(st, TK_EFORMAT,
                           "%s: line 1: expected the columns seq_id, file and label", index_csv);
    int cap = 0, max_label = -1;
    for (int r = 0; r < t.rows && code == TK_OK; r++) {
        const float *row = t.data + (size_t)r * t.cols;
        const float label = row[label_col], id = row[id_col];
        if (label != floorf(label) || label < 0 || label > 1e6f || id != floorf(id) ||
            id < 0 || id > 2e9f) {
            code = status_fail(st, TK_EFORMAT,
                               "%s: row %d: seq_id and label must be whole numbers >= 0",
                               index_csv, r + 1);
            break;
        }
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", bvh_dir ? bvh_dir : dir, t.text[file_col][r]);
        if ((code = load_bvh_sequence(s, &cap, path, (int)label, features, st)) != TK_OK)
            break;
        Sequence *q = &s->seqs[s->n - 1];
        q->seq_id = (int)id;
        if (subject_col >= 0)
            q->subject = (int)row[subject_col];
        if (q->label > max_label)
            max_label = q->label;
    }
    csv_free(&t);
    if (code == TK_OK && s->n == 0)
        code = status_fail(st, TK_EFORMAT, "%s: no sequences", index_csv);
    if (code == TK_OK) {
        char side[4200];
        snprintf(side, sizeof side, "%s/labels.txt", dir);
        code = read_label_names(s, side, max_label + 1, st);
    }
    if (code != TK_OK)
        seqset_free(s);
    return code;
}

/* ---------------------------------------------------------------- keypoints + segments */

static int is_whole_number(const char *t)
{
    if (!*t)
        return 0;
    for (; *t; t++)
        if (!isdigit((unsigned char)*t))
            return 0;
    return 1;
}

/* Class ids of the segments' labels: the numbers themselves when every label is a whole
 * number, else the position of the name in sorted order. */
static StatusCode segment_labels(SeqSet *s, const CsvTable *seg, int label_col, int *labels,
                                 Status *st)
{
    char **text = seg->text[label_col];
    int numeric = 1, max_label = -1;
    for (int r = 0; r < seg->rows; r++)
        numeric &= is_whole_number(text[r]) && strlen(text[r]) < 7;
    if (numeric) {
        for (int r = 0; r < seg->rows; r++) {
            labels[r] = atoi(text[r]);
            if (labels[r] > max_label)
                max_label = labels[r];
        }
        return set_class_names_numeric(s, max_label + 1, st);
    }
    char **sorted = malloc((size_t)seg->rows * sizeof *sorted);
    if (!sorted)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", seg->path);
    memcpy(sorted, text, (size_t)seg->rows * sizeof *sorted);
    qsort(sorted, (size_t)seg->rows, sizeof *sorted, compare_names);
    int n = 0;
    for (int r = 0; r < seg->rows; r++)
        if (n == 0 || strcmp(sorted[n - 1], sorted[r]))
            sorted[n++] = sorted[r];
    StatusCode code = TK_OK;
    s->class_names = calloc((size_t)n, sizeof *s->class_names);
    if (!s->class_names)
        code = status_fail(st, TK_ENOMEM, "%s: out of memory", seg->path);
    for (int c = 0; c < n && code == TK_OK; c++) {
        if (!(s->class_names[c] = strdup(sorted[c])))
            code = status_fail(st, TK_ENOMEM, "%s: out of memory", seg->path);
        s->n_classes = c + 1;
    }
    for (int r = 0; r < seg->rows && code == TK_OK; r++) {
        const char *key = text[r];
        const char **hit = bsearch(&key, sorted, (size_t)n, sizeof *sorted, compare_names);
        labels[r] = (int)(hit - (const char **)sorted);
    }
    free(sorted);
    return code;
}

/* The segments CSV read into seg and s (one empty sequence per segment, labels, class names;
 * frames come later through segments_push). source names where the frames come from. */
typedef struct {
    CsvTable seg;
    int start_col, end_col;
    int whole;       /* no segments CSV: every frame goes to the one sequence */
    int *frames_cap; /* per sequence, for sequence_push_frame */
} Segments;

static void segments_free(Segments *g)
{
    free(g->frames_cap);
    csv_free(&g->seg);
}

static StatusCode segments_read(Segments *g, SeqSet *s, const char *segments_csv,
                                const char *source, Status *st)
{
    memset(g, 0, sizeof *g);
    memset(s, 0, sizeof *s);
    if (!segments_csv) {
        g->whole = 1;
        g->frames_cap = calloc(1, sizeof *g->frames_cap);
        s->seqs = calloc(1, sizeof *s->seqs);
        if (!g->frames_cap || !s->seqs || !(s->seqs[0].source = strdup(source)))
            return status_fail(st, TK_ENOMEM, "%s: out of memory", source);
        s->n = 1;
        s->seqs[0].subject = -1;
        return set_class_names_numeric(s, 1, st);
    }
    static const char *const seg_text[] = {"label", NULL};
    StatusCode code = csv_read(&g->seg, segments_csv, seg_text, st);
    if (code != TK_OK)
        return code;
    const CsvTable *seg = &g->seg;
    g->start_col = csv_column(seg, "start_frame");
    g->end_col = csv_column(seg, "end_frame");
    const int label_col = csv_column(seg, "label");
    if (g->start_col < 0 || g->end_col < 0 || label_col < 0)
        return status_fail(st, TK_EFORMAT,
                           "%s: line 1: expected the columns start_frame, end_frame and label",
                           segments_csv);
    if (seg->rows == 0)
        return status_fail(st, TK_EFORMAT, "%s: no segments", segments_csv);
    int *labels = malloc((size_t)seg->rows * sizeof *labels);
    g->frames_cap = calloc((size_t)seg->rows, sizeof *g->frames_cap);
    s->seqs = calloc((size_t)seg->rows, sizeof *s->seqs);
    if (!labels || !g->frames_cap || !s->seqs)
        code = status_fail(st, TK_ENOMEM, "%s: out of memory", segments_csv);
    if (code == TK_OK)
        code = segment_labels(s, seg, label_col, labels, st);
    for (int i = 0; i < seg->rows && code == TK_OK; i++) {
        float a = seg->data[(size_t)i * seg->cols + g->start_col];
        float b = seg->data[(size_t)i * seg->cols + g->end_col];
        if (a != floorf(a) || b != floorf(b) || a < 0 || b < a) {
            code = status_fail(st, TK_EFORMAT,
                               "%s: segment %d: start_frame %g and end_frame %g must be whole "
                               "numbers with 0 <= start <= end",
                               segments_csv, i + 1, a, b);
            break;
        }
        Sequence *q = &s->seqs[s->n++];
        q->seq_id = i;
        q->label = labels[i];
        q->subject = -1;
        if (!(q->source = strdup(source)))
            code = status_fail(st, TK_ENOMEM, "out of memory");
    }
    free(labels);
    return code;
}

/* Frame `frame` with s->n_features values goes to every segment that holds it. */
static StatusCode segments_push(Segments *g, SeqSet *s, float frame, const float *values,
                                const char *source, Status *st)
{
    const CsvTable *seg = &g->seg;
    for (int i = 0; i < s->n; i++) {
        const float a = g->whole ? frame : seg->data[(size_t)i * seg->cols + g->start_col];
        const float b = g->whole ? frame : seg->data[(size_t)i * seg->cols + g->end_col];
        if (frame < a || frame > b)
            continue;
        float *x = sequence_push_frame(&s->seqs[i], &g->frames_cap[i], s->n_features);
        if (!x)
            return status_fail(st, TK_ENOMEM, "%s: out of memory", source);
        memcpy(x, values, sizeof(float) * (size_t)s->n_features);
    }
    return TK_OK;
}

static StatusCode segments_check_filled(const Segments *g, const SeqSet *s, const char *source,
                                        Status *st)
{
    const CsvTable *seg = &g->seg;
    if (g->whole)
        return s->seqs[0].n_frames ? TK_OK
                                   : status_fail(st, TK_EFORMAT, "%s: no frames", source);
    for (int i = 0; i < s->n; i++)
        if (s->seqs[i].n_frames == 0)
            return status_fail(st, TK_EFORMAT, "%s: segment %d (frames %g-%g) has no frames in %s",
                               seg->path, i + 1, seg->data[(size_t)i * seg->cols + g->start_col],
                               seg->data[(size_t)i * seg->cols + g->end_col], source);
    return TK_OK;
}

StatusCode seqset_load_keypoints(SeqSet *s, const char *keypoints_csv, const char *segments_csv,
                                 int columns, Status *st)
{
    Segments g;
    CsvReader *r = NULL;
    int *kp_cols = NULL;
    float *row = NULL, *values = NULL;
    StatusCode code = segments_read(&g, s, segments_csv, keypoints_csv, st);
    if (code == TK_OK)
        code = csv_reader_open(&r, keypoints_csv, NULL, st);
    if (code != TK_OK)
        goto done;
    const int cols = csv_reader_cols(r);
    int frame_col = -1;
    kp_cols = malloc((size_t)cols * sizeof *kp_cols);
    row = malloc((size_t)cols * sizeof *row);
    values = malloc((size_t)cols * sizeof *values);
    if (!kp_cols || !row || !values) {
        code = status_fail(st, TK_ENOMEM, "%s: out of memory", keypoints_csv);
        goto done;
    }
    for (int c = 0; c < cols; c++) {
        const char *name = csv_reader_name(r, c);
        const char axis = csv_coordinate_axis(name);
        const int keep = axis == 'x' || axis == 'y' ||
                         (axis == 'z' && !(columns & SEQ_KEYPOINTS_XY)) ||
                         (axis == 'v' && (columns & SEQ_KEYPOINTS_VISIBILITY));
        if (!strcmp(name, "frame"))
            frame_col = c;
        else if (keep)
            kp_cols[s->n_features++] = c;
    }
    if (frame_col < 0 || s->n_features == 0) {
        code = status_fail(st, TK_EFORMAT,
                           "%s: line 1: expected a frame column and coordinate columns "
                           "(x0,y0[,z0],...)",
                           keypoints_csv);
        goto done;
    }
    float last_frame = -1;
    for (;;) {
        int got;
        if ((code = csv_reader_next(r, row, NULL, &got, st)) != TK_OK || !got)
            break;
        const float frame = row[frame_col];
        if (frame <= last_frame) {
            code = status_fail(st, TK_EFORMAT, "%s: line %ld: frame %g does not follow frame %g",
                               keypoints_csv, csv_reader_line(r), frame, last_frame);
            break;
        }
        last_frame = frame;
        for (int k = 0; k < s->n_features; k++)
            values[k] = row[kp_cols[k]];
        if ((code = segments_push(&g, s, frame, values, keypoints_csv, st)) != TK_OK)
            break;
    }
    if (code == TK_OK)
        code = segments_check_filled(&g, s, keypoints_csv, st);
done:
    if (r)
        csv_reader_close(r);
    free(row);
    free(values);
    free(kp_cols);
    segments_free(&g);
    if (code != TK_OK)
        seqset_free(s);
    return code;
}

StatusCode seqset_cut_frames(SeqSet *s, const float *x, const int *frame, int n_frames, int F,
                             const char *segments_csv, const char *source, Status *st)
{
    Segments g;
    StatusCode code = segments_read(&g, s, segments_csv, source, st);
    s->n_features = F;
    for (int r = 0; r < n_frames && code == TK_OK; r++) {
        if (r && frame[r] <= frame[r - 1])
            code = status_fail(st, TK_EINVAL, "%s: frame %d does not follow frame %d", source,
                               frame[r], frame[r - 1]);
        else
            code = segments_push(&g, s, (float)frame[r], x + (size_t)r * F, source, st);
    }
    if (code == TK_OK)
        code = segments_check_filled(&g, s, source, st);
    segments_free(&g);
    if (code != TK_OK)
        seqset_free(s);
    return code;
}

StatusCode seqset_load(SeqSet *s, const char *path, SeqBvhFeatures features, Status *st)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return status_fail(st, TK_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return seqset_load_bvh_folder(s, path, features, st);
    return seqset_load_labelled_csv(s, path, st);
}

/* ---------------------------------------------------------------- splits */

StatusCode seqset_split_even_subjects(const SeqSet *s, unsigned char *is_val, Status *st)
{
    for (int i = 0; i < s->n; i++) {
        if (s->seqs[i].subject < 0)
            return status_fail(st, TK_EINVAL,
                               "seq_id %d has no subject (a sequences.csv with a subject "
                               "column beside the data gives them)",
                               s->seqs[i].seq_id);
        is_val[i] = s->seqs[i].subject % 2 == 0;
    }
    return TK_OK;
}

StatusCode seqset_split_file(const SeqSet *s, const char *path, unsigned char *is_val,
                             Status *st)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    memset(is_val, 0, (size_t)s->n);
    char line[4096];
    int lineno = 0;
    StatusCode code = TK_OK;
    while (code == TK_OK && fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '#')
            continue;
        for (char *p = strtok(line, " \t\r\n,"); p && code == TK_OK; p = strtok(NULL, " \t\r\n,")) {
            char *end;
            long id = strtol(p, &end, 10);
            int i = -1;
            for (int k = 0; *end == '\0' && k < s->n && i < 0; k++)
                if (s->seqs[k].seq_id == id)
                    i = k;
            if (*end != '\0')
                code = status_fail(st, TK_EFORMAT, "%s: line %d: '%.32s' is not a seq_id",
                                   path, lineno, p);
            else if (i < 0)
                code = status_fail(st, TK_EFORMAT,
                                   "%s: line %d: seq_id %ld is not in the data set", path,
                                   lineno, id);
            else
                is_val[i] = 1;
        }
    }
    fclose(fp);
    return code;
}

/* ---------------------------------------------------------------- fixed length */

void seq_resample(const float *x, int n_frames, int F, int T, float *out)
{
    for (int t = 0; t < T; t++) {
        /* numpy.interp at numpy.linspace(0, n_frames - 1, T) */
        double pos = T > 1 ? (double)t * (n_frames - 1) / (T - 1) : 0.0;
        int i0 = (int)pos;
        if (i0 > n_frames - 1)
            i0 = n_frames - 1;
        int i1 = i0 + 1 < n_frames ? i0 + 1 : i0;
        double w = pos - i0;
        const float *a = x + (size_t)i0 * F, *b = x + (size_t)i1 * F;
        float *o = out + (size_t)t * F;
        for (int k = 0; k < F; k++)
            o[k] = (float)((1.0 - w) * a[k] + w * b[k]);
    }
}

void seq_crop(const float *x, int n_frames, int F, int T, float *out)
{
    for (int t = 0; t < T; t++) {
        int i = t < n_frames ? t : n_frames - 1;
        memcpy(out + (size_t)t * F, x + (size_t)i * F, (size_t)F * sizeof *out);
    }
}

/* ---------------------------------------------------------------- normalisation */

void seqnorm_free(SeqNorm *m)
{
    free(m->shift);
    free(m->scale);
    memset(m, 0, sizeof *m);
}

StatusCode seqnorm_fit(SeqNorm *m, const SeqSet *s, const unsigned char *is_val,
                       SeqNormKind kind, Status *st)
{
    memset(m, 0, sizeof *m);
    const int F = s->n_features;
    m->kind = kind;
    m->n = F;
    m->shift = malloc(((size_t)F + 1) * sizeof *m->shift);
    m->scale = malloc(((size_t)F + 1) * sizeof *m->scale);
    double *acc = calloc(3 * ((size_t)F + 1), sizeof *acc);
    if (!m->shift || !m->scale || !acc) {
        free(acc);
        seqnorm_free(m);
        return status_fail(st, TK_ENOMEM, "out of memory for %d features", F);
    }
    double *mean = acc, *lo = acc + F, *hi = acc + 2 * F;
    for (int k = 0; k < F; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    /* two passes (mean, then squared deviations) keep the variance exact for constants */
    long frames = 0;
    for (int i = 0; i < s->n; i++) {
        const Sequence *q = &s->seqs[i];
        if (is_val && is_val[i])
            continue;
        for (int f = 0; f < q->n_frames; f++) {
            const float *x = q->x + (size_t)f * F;
            for (int k = 0; k < F; k++) {
                mean[k] += x[k];
                lo[k] = fmin(lo[k], x[k]);
                hi[k] = fmax(hi[k], x[k]);
            }
        }
        frames += q->n_frames;
    }
    if (frames == 0) {
        free(acc);
        seqnorm_free(m);
        return status_fail(st, TK_EINVAL, "no training frames to fit the normalisation on");
    }
    for (int k = 0; k < F; k++)
        mean[k] /= (double)frames;
    double *var = calloc((size_t)F + 1, sizeof *var);
    if (!var) {
        free(acc);
        seqnorm_free(m);
        return status_fail(st, TK_ENOMEM, "out of memory for %d features", F);
    }
    if (kind == SEQ_NORM_ZSCORE)
        for (int i = 0; i < s->n; i++) {
            const Sequence *q = &s->seqs[i];
            if (is_val && is_val[i])
                continue;
            for (int f = 0; f < q->n_frames; f++)
                for (int k = 0; k < F; k++) {
                    double d = q->x[(size_t)f * F + k] - mean[k];
                    var[k] += d * d;
                }
        }
    for (int k = 0; k < F; k++) {
        const double magnitude = fmax(1.0, fmax(fabs(lo[k]), fabs(hi[k])));
        if (kind == SEQ_NORM_ZSCORE) {
            double sd = sqrt(var[k] / (double)frames);
            m->shift[k] = (float)mean[k];
            m->scale[k] = sd > SEQ_CONSTANT_SPREAD * magnitude ? (float)(1.0 / sd) : 0.0f;
        } else {
            double range = hi[k] - lo[k];
            m->shift[k] = (float)lo[k];
            m->scale[k] = range > SEQ_CONSTANT_SPREAD * magnitude ? (float)(1.0 / range) : 0.0f;
        }
    }
    free(var);
    free(acc);
    return TK_OK;
}

void seqnorm_apply(const SeqNorm *m, float *x, size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < m->n; k++)
            x[r * m->n + k] = (x[r * m->n + k] - m->shift[k]) * m->scale[k];
}

void seqset_batch(const SeqSet *s, const int *idx, int n, int T, SeqFit fit,
                  const SeqNorm *norm, float *out)
{
    const int F = s->n_features;
    for (int b = 0; b < n; b++) {
        const Sequence *q = &s->seqs[idx[b]];
        float *o = out + (size_t)b * T * F;
        if (fit == SEQ_FIT_RESAMPLE)
            seq_resample(q->x, q->n_frames, F, T, o);
        else
            seq_crop(q->x, q->n_frames, F, T, o);
        if (norm)
            seqnorm_apply(norm, o, (size_t)T);
    }
}
