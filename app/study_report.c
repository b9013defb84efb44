/* study_report.c — the study as files a person or a program reads: report.json (inputs with
 * their sha256, every parameter, the time study, the cycle, the evaluation), segments.csv and
 * the summary table printed at the end of a run. */
#include "study.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>

static const char *method_names[] = {"kmeans", "dbscan", "meanshift", "hierarchical"};

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A JSON number, or null for what JSON cannot hold. */
static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void write_scores(FILE *f, const StudyScores *s)
{
    fputs("{\"accuracy\": ", f);
    json_number(f, s->accuracy);
    fputs(", \"ari\": ", f);
    json_number(f, s->ari);
    fputs(", \"nmi\": ", f);
    json_number(f, s->nmi);
    fputc('}', f);
}

static void write_input(FILE *f, const char *key, const char *path, const char *sha, int last)
{
    fprintf(f, "    \"%s\": ", key);
    if (path) {
        fputs("{\"path\": ", f);
        json_string(f, path);
        fprintf(f, ", \"sha256\": \"%s\"}", sha);
    } else {
        fputs("null", f);
    }
    fputs(last ? "\n" : ",\n", f);
}

StatusCode study_write_report(const char *path, const StudyResult *r, Status *st)
{
    AtomicFile a;
    StatusCode rc = atomic_open(&a, path, st);
    if (rc)
        return rc;
    FILE *f = a.fp;
    const StudyOptions *o = r->opt;
    fprintf(f, "{\n  \"takt_version\": \"%s\",\n  \"compiler\": \"%s\",\n", TAKT_VERSION,
            __VERSION__);
    fputs("  \"inputs\": {\n", f);
    write_input(f, "keypoints", o->input, r->input_sha256, 0);
    write_input(f, "labels", o->labels_path ? o->labels_path : NULL, r->labels_sha256, 0);
    write_input(f, "autoencoder", o->ae_path, r->ae_sha256, 0);
    write_input(f, "names", o->names_path, r->names_sha256, 1);
    fputs("  },\n", f);
    fprintf(f, "  \"parameters\": {\"method\": \"%s\", \"k\": %d, \"k_from_elbow\": %s, "
               "\"elbow_k_max\": %d, \"window\": %d, \"stride\": %d, ",
            method_names[o->method], r->k, r->k_from_elbow ? "true" : "false", r->elbow_kmax,
            r->window_len, r->stride);
    /* The epochs training was given, whoever chose them (null: a model was reused); early
     * stopping may have run fewer (training.epochs_run). */
    if (o->ae_path)
        fputs("\"epochs\": null, \"epochs_from_budget\": false, ", f);
    else
        fprintf(f, "\"epochs\": %d, \"epochs_from_budget\": %s, ", r->epochs,
                o->epochs ? "false" : "true");
    fprintf(f, "\"normalise\": \"%s\", \"decoder_input\": \"%s\", \"fixed_decoder\": %s, "
               "\"xy_only\": %s, \"fps\": ",
            r->normalise == STUDY_NORMALISE_BODY ? "body" : "minmax",
            seqae_decoder_input_name((SeqAEDecoderInput)r->decoder_input),
            r->fixed_decoder ? "true" : "false", o->xy ? "true" : "false");
    json_number(f, r->fps);
    fputs(", \"min_duration_s\": ", f);
    json_number(f, o->min_duration);
    fprintf(f, ", \"refine\": \"%s\"", r->refined ? "idec" : "none");
    if (r->refined) {
        const IdecConfig *c = &r->idec;
        fputs(", \"idec\": {\"gamma\": ", f);
        json_number(f, c->gamma);
        fprintf(f, ", \"update_interval\": %d, \"tol\": ", c->update_interval);
        json_number(f, c->tol);
        fprintf(f, ", \"max_steps\": %d, \"batch\": %d, \"lr\": ", c->max_steps, c->batch);
        json_number(f, c->lr);
        fputs(", \"labels\": \"nearest refined centre\"}", f);
    }
    fprintf(f, ", \"seed\": %llu, \"threads\": %d},\n", (unsigned long long)o->seed,
            omp_get_max_threads());
    fprintf(f, "  \"data\": {\"frames\": %d, \"features\": %d, \"windows\": %d, "
               "\"duration_s\": ", r->n_frames, r->n_features, r->n_windows);
    json_number(f, r->n_frames * r->dt);
    fprintf(f, "},\n  \"training\": {\"epochs_run\": %d, \"best_loss\": ", r->epochs_run);
    json_number(f, r->best_loss);
    /* Which frames training read: every one, or the blocks a long input is sampled to. */
    fprintf(f, ", \"windows_per_epoch\": %d, \"windows_cap\": %d, \"sampled\": %s, "
               "\"augmented\": %s",
            r->train_windows, r->sample.cap, r->sample.sampled ? "true" : "false",
            r->augmented ? "true" : "false");
    if (r->sample.sampled)
        fprintf(f, ", \"sample\": {\"block_frames\": %d, \"train_blocks\": %d, "
                   "\"validation_blocks\": %d}",
                r->sample.block_len, r->sample.train_blocks, r->sample.val_blocks);
    if (r->refined) {
        const IdecResult *ir = &r->idec_result;
        fprintf(f, ", \"refine\": {\"windows\": %d, \"steps\": %d, \"target_updates\": %d, "
                   "\"last_label_change\": ", r->idec_windows, ir->steps, ir->updates);
        json_number(f, ir->changed);
        fputs(", \"last_mse\": ", f);
        json_number(f, ir->rec_loss);
        fputs(", \"last_kl\": ", f);
        json_number(f, ir->kl_loss);
        fprintf(f, ", \"converged\": %s}", ir->converged ? "true" : "false");
    }
    fputs("},\n  \"elbow\": {\"inertia\": [", f);
    for (int i = 0; i < r->elbow_kmax; i++) {
        if (i)
            fputs(", ", f);
        json_number(f, r->elbow_inertia[i]);
    }
    fputs("]},\n  \"actions\": [\n", f);
    for (int c = 0; c < r->k; c++) {
        const StudyActionStats *s = &r->stats[c];
        fprintf(f, "    {\"id\": %d, \"name\": ", c);
        json_string(f, r->names[c]);
        fprintf(f, ", \"occurrences\": %d, \"total_s\": %.4f, \"mean_s\": %.4f, "
                   "\"median_s\": %.4f, \"min_s\": %.4f, \"max_s\": %.4f, \"stdev_s\": %.4f, "
                   "\"share\": %.6f}%s\n",
                s->occurrences, s->total, s->mean, s->median, s->min, s->max, s->stdev,
                s->share, c + 1 < r->k ? "," : "");
    }
    fprintf(f, "  ],\n  \"absent_s\": %.4f,\n", r->absent);
    const StudyCycle *cy = &r->cycle;
    fputs("  \"cycle\": {\"actions\": [", f);
    for (int i = 0; i < cy->length; i++) {
        if (i)
            fputs(", ", f);
        json_string(f, r->names[cy->pattern[i]]);
    }
    fprintf(f, "], \"count\": %d, \"mean_s\": %.4f, \"median_s\": %.4f, \"min_s\": %.4f, "
               "\"max_s\": %.4f, \"stdev_s\": %.4f},\n",
            cy->count, cy->mean, cy->median, cy->min, cy->max, cy->stdev);
    if (!r->evaluated) {
        fputs("  \"evaluation\": null,\n", f);
    } else {
        const StudyScores *s = &r->scores;
        fputs("  \"evaluation\": {\n    \"accuracy\": ", f);
        json_number(f, s->accuracy);
        fputs(", \"ari\": ", f);
        json_number(f, s->ari);
        fputs(", \"nmi\": ", f);
        json_number(f, s->nmi);
        fputs(",\n    \"per_class\": [\n", f);
        for (int c = 0; c < s->n_classes; c++) {
            fputs("      {\"class\": ", f);
            json_string(f, r->class_names[c]);
            fprintf(f, ", \"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f, \"support\": %ld}%s\n",
                    s->precision[c], s->recall[c], s->f1[c], s->support[c],
                    c + 1 < s->n_classes ? "," : "");
        }
        fputs("    ],\n    \"cluster_to_class\": [", f);
        for (int c = 0; c < s->k; c++) {
            if (c)
                fputs(", ", f);
            if (s->cluster_to_class[c] >= 0)
                json_string(f, r->class_names[s->cluster_to_class[c]]);
            else
                fputs("null", f);
        }
        fputs("],\n    \"baselines\": {\"raw_kmeans\": ", f);
        write_scores(f, &r->raw_scores);
        fprintf(f, ", \"pca_kmeans\": ");
        write_scores(f, &r->pca_scores);
        fprintf(f, ", \"pca_components\": %d},\n", r->pca_components);
        if (r->refined) {
            /* The refined latents labelled by k-means instead of their refined centres. */
            fputs("    \"refined_kmeans\": ", f);
            write_scores(f, &r->refine_kmeans_scores);
            /* The same run's latents before refinement: the study without --refine. */
            fputs(",\n    \"unrefined\": ", f);
            write_scores(f, &r->unrefined_scores);
            fputs(",\n", f);
        }
        const StudyHoldout *h = &r->holdout;
        fprintf(f, "    \"unseen_protocol\": {\"held_out\": \"last 20%% of the frames\", "
                   "\"operations\": %d, \"recognised\": %d, \"share_recognised\": ",
                h->operations, h->recognised);
        json_number(f, h->operations ? (double)h->recognised / h->operations : NAN);
        fputs(", \"frame_accuracy\": ", f);
        json_number(f, h->frame_accuracy);
        fputs("}\n  },\n", f);
    }
    /* No run time in the report: the same input, seed and thread count give the same bytes. */
    fprintf(f, "  \"segments\": %d\n}\n", r->n_segs);
    return atomic_commit(&a, st);
}

StatusCode study_write_segments(const char *path, const StudyResult *r, Status *st)
{
    AtomicFile a;
    StatusCode rc = atomic_open(&a, path, st);
    if (rc)
        return rc;
    fputs("start,end,duration,action,confidence\n", a.fp);
    for (int i = 0; i < r->n_segs; i++) {
        const StudySegment *s = &r->segs[i];
        /* Names are the user's: commas would break the columns. */
        const char *name = s->label >= 0 ? r->names[s->label] : "absent";
        fprintf(a.fp, "%.4f,%.4f,%.4f,", s->start * r->dt, s->end * r->dt,
                (s->end - s->start) * r->dt);
        for (const char *p = name; *p; p++)
            fputc(*p == ',' || *p == '"' ? ' ' : *p, a.fp);
        fprintf(a.fp, ",%.4f\n", s->confidence);
    }
    return atomic_commit(&a, st);
}

void study_print_summary(FILE *out, const StudyResult *r)
{
    fprintf(out, "\n%-24s %6s %10s %9s %9s %9s %9s %7s\n", "action", "count", "total s",
            "mean s", "median s", "min s", "max s", "share");
    for (int c = 0; c < r->k; c++) {
        const StudyActionStats *s = &r->stats[c];
        fprintf(out, "%-24.24s %6d %10.2f %9.2f %9.2f %9.2f %9.2f %6.1f%%\n", r->names[c],
                s->occurrences, s->total, s->mean, s->median, s->min, s->max, 100 * s->share);
    }
    fprintf(out, "%-24s %6s %10.2f\n", "absent", "", r->absent);
    if (r->cycle.length) {
        fprintf(out, "cycle (%d times):", r->cycle.count);
        for (int i = 0; i < r->cycle.length; i++)
            fprintf(out, "%s %s", i ? " ->" : "", r->names[r->cycle.pattern[i]]);
        fprintf(out, "; cycle time mean %.2f s, median %.2f s, min %.2f s, max %.2f s\n",
                r->cycle.mean, r->cycle.median, r->cycle.min, r->cycle.max);
    } else {
        fprintf(out, "cycle: no sequence of actions repeats\n");
    }
    if (r->evaluated)
        fprintf(out, "evaluation: accuracy %.3f  ARI %.3f  NMI %.3f | raw k-means %.3f | "
                     "PCA k-means %.3f | unseen part: %d/%d operations recognised\n",
                r->scores.accuracy, r->scores.ari, r->scores.nmi, r->raw_scores.accuracy,
                r->pca_scores.accuracy, r->holdout.recognised, r->holdout.operations);
    if (r->evaluated && r->refined)
        fprintf(out, "IDEC: before refinement accuracy %.3f; refined latents by k-means "
                     "instead of IDEC's centres %.3f\n",
                r->unrefined_scores.accuracy, r->refine_kmeans_scores.accuracy);
}
