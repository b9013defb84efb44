/* cmd_eval.c — `takt eval PRED.csv TRUE.csv`: how well predicted labels (clusters, by
 * default matched to the true classes one-to-one with the Hungarian method; --no-match for a
 * classifier's output) agree with the truth: ARI, NMI, matched accuracy, per-class
 * precision/recall/F1 with macro and weighted averages, and a confusion-matrix PNG.
 *
 * Clusters left without a class by the matching (more clusters than classes) go to an extra
 * column "(unmatched)": their rows count as errors, as they would for any one-to-one
 * matching. */
#include "../cluster/cluster.h"
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_VERB "eval"

static void eval_usage(void) {
    printf("usage: takt eval PRED.csv TRUE.csv [options]\n\n"
           "Compares predicted labels with true ones, row by row. Each file's labels are its\n"
           "column 'label' (or 'cluster', or its only column); labels may be numbers or text.\n\n"
           "  --confusion FILE.png   confusion matrix (true rows, predicted columns)\n"
           "  --no-match             compare labels as they are (a classifier's output) instead\n"
           "                         of matching clusters to classes (Hungarian method)\n"
           "  --pred-col NAME        the label column of PRED.csv\n"
           "  --true-col NAME        the label column of TRUE.csv\n");
}

typedef struct {
    CsvTable table;
    char **labels; /* the label column's strings (rows of table) */
} LabelFile;

/* Finds the label column from the header alone, then reads the file with it as text. */
static StatusCode read_labels(LabelFile *lf, const char *path, const char *column, Status *st) {
    memset(lf, 0, sizeof *lf);
    CsvReader *r;
    StatusCode code = csv_reader_open(&r, path, NULL, st);
    if (code != TK_OK)
        return code;
    char name[256] = "";
    const int cols = csv_reader_cols(r);
    const char *wanted[3] = {column, column ? NULL : "label", column ? NULL : "cluster"};
    for (int w = 0; w < 3 && !name[0]; w++)
        for (int c = 0; c < cols && wanted[w]; c++)
            if (!strcmp(csv_reader_name(r, c), wanted[w]))
                snprintf(name, sizeof name, "%s", wanted[w]);
    if (!name[0] && !column && cols == 1)
        snprintf(name, sizeof name, "%s", csv_reader_name(r, 0));
    csv_reader_close(r);
    if (!name[0])
        return column ? status_fail(st, TK_EINVAL, "%s: no column '%s'", path, column)
                      : status_fail(st, TK_EINVAL, "%s: no column 'label' or 'cluster' (name "
                                    "the label column with --pred-col/--true-col)", path);
    const char *text_cols[2] = {name, NULL};
    code = csv_read(&lf->table, path, text_cols, st);
    if (code != TK_OK)
        return code;
    if (lf->table.rows == 0) {
        csv_free(&lf->table);
        return status_fail(st, TK_EINVAL, "%s: no rows", path);
    }
    lf->labels = lf->table.text[csv_column(&lf->table, name)];
    return TK_OK;
}

/* The class each predicted id stands for: itself (--no-match, names looked up among the
 * classes) or its Hungarian partner; n_classes = "(unmatched)". */
static StatusCode map_predictions(const int *truth, const int *pred, int n, int n_classes,
                                  int n_pred, char **pred_names, char **class_names, int match,
                                  int *mapped, int *n_unmatched, Status *st) {
    int *to_class = malloc(sizeof *to_class * (size_t)n_pred);
    double *cost = calloc((size_t)n_pred * n_classes, sizeof *cost);
    if (!to_class || !cost) {
        free(to_class);
        free(cost);
        return status_fail(st, TK_ENOMEM, "out of memory for %d x %d labels", n_pred,
                           n_classes);
    }
    StatusCode code = TK_OK;
    if (match) {
        /* Maximising the rows on the diagonal = minimising minus the counts. */
        for (int i = 0; i < n; i++)
            cost[(size_t)pred[i] * n_classes + truth[i]] -= 1;
        code = hungarian(cost, n_pred, n_classes, to_class, st);
    } else {
        for (int p = 0; p < n_pred; p++) {
            to_class[p] = -1;
            for (int c = 0; c < n_classes; c++)
                if (!strcmp(pred_names[p], class_names[c]))
                    to_class[p] = c;
        }
    }
    *n_unmatched = 0;
    for (int p = 0; p < n_pred; p++)
        *n_unmatched += to_class[p] < 0;
    for (int i = 0; i < n && code == TK_OK; i++)
        mapped[i] = to_class[pred[i]] < 0 ? n_classes : to_class[pred[i]];
    free(to_class);
    free(cost);
    return code;
}

static void print_report(const ClassReport *r, char **names, int n_rows, int unmatched) {
    int w = 12;
    for (int c = 0; c < n_rows; c++) {
        const int len = (int)strlen(c < n_rows - unmatched ? names[c] : "(unmatched)");
        w = len > w ? len : w;
    }
    printf("\n%-*s  precision  recall     f1  support\n", w, "class");
    for (int c = 0; c < n_rows; c++)
        printf("%-*s  %9.4f  %6.4f  %6.4f  %7ld\n", w,
               c < n_rows - unmatched ? names[c] : "(unmatched)", r->precision[c], r->recall[c],
               r->f1[c], r->support[c]);
    long total = 0;
    for (int c = 0; c < n_rows; c++)
        total += r->support[c];
    printf("%-*s  %9.4f  %6.4f  %6.4f  %7ld\n", w, "macro avg", r->macro_precision,
           r->macro_recall, r->macro_f1, total);
    printf("%-*s  %9.4f  %6.4f  %6.4f  %7ld\n", w, "weighted avg", r->weighted_precision,
           r->weighted_recall, r->weighted_f1, total);
}

static StatusCode write_confusion(const char *png, const int *truth, const int *mapped, int n,
                                  int n_classes, int n_cols, char **names, int match,
                                  Status *st) {
    /* metric_confusion wants a square matrix over every label that occurs. */
    long *cm = calloc((size_t)n_cols * n_cols, sizeof *cm);
    double *cells = malloc(sizeof *cells * (size_t)n_classes * n_cols);
    const char **col_names = malloc(sizeof *col_names * (size_t)n_cols);
    StatusCode code = cm && cells && col_names
                          ? metric_confusion(truth, mapped, n, n_cols, cm, st)
                          : status_fail(st, TK_ENOMEM, "out of memory");
    if (code == TK_OK) {
        for (int t = 0; t < n_classes; t++)
            for (int p = 0; p < n_cols; p++)
                cells[t * n_cols + p] = (double)cm[(size_t)t * n_cols + p];
        for (int p = 0; p < n_cols; p++)
            col_names[p] = p < n_classes ? names[p] : "(unmatched)";
        HeatmapOptions o = {{0, 0, match ? "Confusion matrix (clusters matched to classes)"
                                         : "Confusion matrix",
                             "predicted", "true"},
                            (const char *const *)names, col_names, 1, 1};
        const int side = 160 + 70 * (n_cols > n_classes ? n_cols : n_classes);
        o.style.width = side < 700 ? 700 : side > 2400 ? 2400 : side;
        o.style.height = o.style.width * 6 / 7;
        code = plot_heatmap(png, &o, cells, n_classes, n_cols, st);
    }
    free(cm);
    free(cells);
    free(col_names);
    return code;
}

int cmd_eval(int argc, char **argv) {
    if (app_wants_help(argc, argv)) {
        eval_usage();
        return EXIT_OK;
    }
    const char *paths[2] = {NULL, NULL}, *cols[2] = {NULL, NULL}, *png = NULL;
    int n_paths = 0, match = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--confusion")) {
            if (!(png = app_option_value(EVAL_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--pred-col")) {
            if (!(cols[0] = app_option_value(EVAL_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--true-col")) {
            if (!(cols[1] = app_option_value(EVAL_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--no-match")) {
            match = 0;
        } else if (a[0] == '-' && a[1]) {
            return app_usage_error(EVAL_VERB, "unknown option '%s'", a);
        } else if (n_paths == 2) {
            return app_usage_error(EVAL_VERB, "a third file '%s' (PRED.csv TRUE.csv expected)",
                                   a);
        } else {
            paths[n_paths++] = a;
        }
    }
    if (n_paths < 2)
        return app_usage_error(EVAL_VERB, "missing %s", n_paths ? "TRUE.csv" : "PRED.csv");

    Status st = {0};
    LabelFile files[2];
    if (read_labels(&files[0], paths[0], cols[0], &st) != TK_OK)
        return app_fail(&st);
    if (read_labels(&files[1], paths[1], cols[1], &st) != TK_OK) {
        csv_free(&files[0].table);
        return app_fail(&st);
    }
    const int n = files[0].table.rows;
    int *pred = malloc(sizeof *pred * (size_t)n), *truth = malloc(sizeof *truth * (size_t)n);
    int *mapped = malloc(sizeof *mapped * (size_t)n);
    char **pred_names = NULL, **class_names = NULL;
    int n_pred = 0, n_classes = 0, n_unmatched = 0;
    ClassReport report = {0};
    double ari = 0, nmi = 0, acc = 0;
    StatusCode code = TK_OK;
    if (files[1].table.rows != n)
        code = status_fail(&st, TK_EINVAL, "%s has %d rows but %s has %d", paths[0], n,
                           paths[1], files[1].table.rows);
    else if (!pred || !truth || !mapped)
        code = status_fail(&st, TK_ENOMEM, "out of memory for %d rows", n);
    if (code == TK_OK)
        code = labels_to_ids(files[0].labels, n, pred, &pred_names, &n_pred, &st);
    if (code == TK_OK)
        code = labels_to_ids(files[1].labels, n, truth, &class_names, &n_classes, &st);
    if (code == TK_OK)
        code = map_predictions(truth, pred, n, n_classes, n_pred, pred_names, class_names,
                               match, mapped, &n_unmatched, &st);
    const int n_cols = n_classes + (n_unmatched > 0);
    if (code == TK_OK) {
        report.precision = calloc((size_t)n_cols, sizeof(double));
        report.recall = calloc((size_t)n_cols, sizeof(double));
        report.f1 = calloc((size_t)n_cols, sizeof(double));
        report.support = calloc((size_t)n_cols, sizeof(long));
        if (!report.precision || !report.recall || !report.f1 || !report.support)
            code = status_fail(&st, TK_ENOMEM, "out of memory");
    }
    if (code == TK_OK)
        code = metric_ari(truth, pred, n, &ari, &st);
    if (code == TK_OK)
        code = metric_nmi(truth, pred, n, &nmi, &st);
    if (code == TK_OK)
        code = match ? metric_matched_accuracy(truth, pred, n, &acc, &st) : TK_OK;
    if (code == TK_OK)
        code = metric_report(truth, mapped, n, n_cols, &report, &st);
    if (code == TK_OK && png)
        code = write_confusion(png, truth, mapped, n, n_classes, n_cols, class_names, match,
                               &st);
    if (code == TK_OK) {
        printf("rows: %d   classes: %d   predicted labels: %d\n", n, n_classes, n_pred);
        printf("ARI:      %.4f\n", ari);
        printf("NMI:      %.4f\n", nmi);
        if (match)
            printf("accuracy: %.4f (clusters matched to classes, Hungarian)\n", acc);
        else
            printf("accuracy: %.4f\n", report.accuracy);
        if (n_unmatched > 0)
            printf("%d predicted label%s matched no class; their rows count as errors\n",
                   n_unmatched, n_unmatched > 1 ? "s" : "");
        print_report(&report, class_names, n_cols, n_unmatched > 0);
    }
    free(report.precision);
    free(report.recall);
    free(report.f1);
    free(report.support);
    free(pred);
    free(truth);
    free(mapped);
    free(pred_names);
    free(class_names);
    csv_free(&files[0].table);
    csv_free(&files[1].table);
    return code == TK_OK ? EXIT_OK : app_fail(&st);
}
