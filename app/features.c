/* features.c — the data the clustering verbs work on: a numeric CSV whose columns are the
 * features, minus the columns that describe rows rather than measure them (label, seq_id,
 * frame and time_s, plus any the --ignore list names), which are read as text and never enter
 * the computation. Also turns label strings into class ids for plots and evaluation. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#define IGNORE_MAX 64

static const char *const default_ignored[] = {"label", "seq_id", "frame", "time_s", NULL};

void features_free(Features *f) {
    csv_free(&f->table);
    free(f->x);
    free(f->columns);
    memset(f, 0, sizeof *f);
}

/* Splits "a,b,c" into names (pointers into buf); returns how many, -1 beyond `max`. */
static int split_list(const char *list, char *buf, size_t size, const char **names, int max) {
    snprintf(buf, size, "%s", list);
    int n = 0;
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ","))
        if (*p) {
            if (n == max)
                return -1;
            names[n++] = p;
        }
    return n;
}

StatusCode features_load(Features *f, const char *path, const char *ignore, Status *st) {
    memset(f, 0, sizeof *f);
    f->label_col = -1;
    char buf[1024];
    const char *names[IGNORE_MAX + 1];
    int n_defaults = 0;
    for (; default_ignored[n_defaults]; n_defaults++)
        names[n_defaults] = default_ignored[n_defaults];
    const int n_extra = ignore ? split_list(ignore, buf, sizeof buf, names + n_defaults,
                                            IGNORE_MAX - n_defaults)
                               : 0;
    if (n_extra < 0)
        return status_fail(st, TK_EINVAL, "--ignore names more than %d columns",
                           IGNORE_MAX - n_defaults);
    names[n_defaults + n_extra] = NULL;
    /* Columns named on the command line must exist; checked on the header before the rows,
     * whose cells could fail first for a column that was meant to be ignored. */
    if (n_extra > 0) {
        CsvReader *r;
        StatusCode code = csv_reader_open(&r, path, NULL, st);
        if (code != TK_OK)
            return code;
        for (int i = n_defaults; i < n_defaults + n_extra; i++) {
            int found = 0;
            for (int c = 0; c < csv_reader_cols(r) && !found; c++)
                found = !strcmp(csv_reader_name(r, c), names[i]);
            if (!found) {
                csv_reader_close(r);
                return status_fail(st, TK_EINVAL,
                                   "%s: --ignore names '%s', which is not a column", path,
                                   names[i]);
            }
        }
        csv_reader_close(r);
    }
    StatusCode code = csv_read(&f->table, path, names, st);
    if (code != TK_OK)
        return code;
    const CsvTable *t = &f->table;
    f->label_col = csv_column(t, "label");
    f->columns = malloc(sizeof *f->columns * (size_t)t->cols);
    if (!f->columns) {
        features_free(f);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    for (int c = 0; c < t->cols; c++)
        if (!t->text || !t->text[c])
            f->columns[f->d++] = c;
    f->n = t->rows;
    if (f->n == 0 || f->d == 0) {
        StatusCode empty = status_fail(st, TK_EINVAL, "%s: empty data: %d rows, %d feature "
                                       "columns", path, f->n, f->d);
        features_free(f);
        return empty;
    }
    f->x = malloc(sizeof *f->x * (size_t)f->n * f->d);
    if (!f->x) {
        features_free(f);
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d x %d features", path,
                           f->n, f->d);
    }
    for (int i = 0; i < f->n; i++)
        for (int j = 0; j < f->d; j++)
            f->x[(size_t)i * f->d + j] = t->data[(size_t)i * t->cols + f->columns[j]];
    return TK_OK;
}

/* ---------------------------------------------------------------- labels */

static int is_integer_text(const char *s) {
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Integers in numeric order when every label is one (*all_integers), otherwise in byte
 * order. */
static int compare_labels(const void *a, const void *b, void *all_integers) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (*(const int *)all_integers) {
        long u = strtol(x, NULL, 10), v = strtol(y, NULL, 10);
        return (u > v) - (u < v);
    }
    return strcmp(x, y);
}

StatusCode labels_to_ids(char **strings, int n, int *ids, char ***names, int *n_names,
                         Status *st) {
    *names = NULL;
    *n_names = 0;
    char **sorted = malloc(sizeof *sorted * (size_t)(n > 0 ? n : 1));
    if (!sorted)
        return status_fail(st, TK_ENOMEM, "labels: out of memory for %d rows", n);
    memcpy(sorted, strings, sizeof *sorted * (size_t)n);
    int all_integers = 1;
    for (int i = 0; i < n; i++)
        all_integers &= is_integer_text(strings[i]);
    qsort_r(sorted, (size_t)n, sizeof *sorted, compare_labels, &all_integers);
    int distinct = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || compare_labels(&sorted[i], &sorted[distinct - 1], &all_integers) != 0)
            sorted[distinct++] = sorted[i];
    for (int i = 0; i < n; i++) {
        /* Binary search of the sorted distinct labels. */
        int lo = 0, hi = distinct - 1;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            if (compare_labels(&sorted[mid], &strings[i], &all_integers) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        ids[i] = lo;
    }
    *names = sorted;
    *n_names = distinct;
    return TK_OK;
}
