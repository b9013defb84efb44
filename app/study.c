/* study.c — `takt study` from keypoints to report: read and check the input (its coordinates
 * spooled to disk, app/study_frames.c), train (or load) the sequence autoencoder, embed every
 * window, cluster the latent vectors, vote a label per frame, cut segments, compute the time
 * study, evaluate against the truth when there is one, and write the report. Nothing is
 * written before the input has passed every check, and on a later failure the files already
 * written are removed, so OUTDIR never holds half a study. */
#include "study.h"
#include "../cluster/cluster.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STUDY_BATCH 256
#define STUDY_ELBOW_KMAX 10
#define STUDY_FIT_SAMPLE 5000 /* rows the density and tree methods are fitted on */
#define STUDY_TSNE_POINTS 1000
#define STUDY_DEFAULT_FPS 30.0
/* Training windows per epoch at most (--train-windows): an input whose training part holds
 * more trains on a sample of blocks of frames (app/study_frames.c), so that neither an epoch
 * nor memory grows with the recording; a shorter one trains on every frame at the stride that
 * keeps within it. */
#define STUDY_TRAIN_WINDOWS 20000
/* Windows embedded at most: the automatic stride grows with the recording beyond it. */
#define STUDY_MAX_WINDOWS 100000

static const char *const method_names[] = {"kmeans", "dbscan", "meanshift", "hierarchical"};

static StatusCode file_sha256(const char *path, char hex[65], Status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    Sha256 s;
    sha256_init(&s);
    /* An 8-hour keypoints file is about a gigabyte: this pass gets its own progress line. */
    struct stat sb;
    Progress p;
    progress_start(&p, "study: sha256", fstat(fileno(f), &sb) == 0 ? sb.st_size / 1e6 : 0,
                   "MB");
    unsigned char buf[1 << 16];
    size_t n, done = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        sha256_update(&s, buf, n);
        done += n;
        if (!(done & ((1u << 24) - 1)))
            progress_update(&p, done / 1e6, NULL);
    }
    progress_end(&p, NULL);
    const int bad = ferror(f);
    fclose(f);
    if (bad)
        return status_fail(st, TK_EIO, "%s: read error", path);
    unsigned char d[32];
    sha256_final(&s, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return TK_OK;
}

/* Coordinates per joint and whether the file carries a label column, from its header. */
static StatusCode input_layout(const char *path, int xy, int *dims, int *labelled, Status *st)
{
    static const char *const text_cols[] = {"label", NULL};
    CsvReader *r;
    StatusCode rc = csv_reader_open(&r, path, text_cols, st);
    if (rc)
        return rc;
    int z = 0;
    *labelled = 0;
    for (int c = 0; c < csv_reader_cols(r); c++) {
        z |= !strcmp(csv_reader_name(r, c), "z0");
        *labelled |= !strcmp(csv_reader_name(r, c), "label");
    }
    csv_reader_close(r);
    *dims = z && !xy ? 3 : 2;
    return TK_OK;
}

/* k names: the lines of path (blank lines and '#' comments skipped), "action i" beyond them. */
static StatusCode read_names(const char *path, int k, char ***names, Status *st)
{
    char **out = calloc((size_t)k, sizeof *out);
    if (!out)
        return status_fail(st, TK_ENOMEM, "names: out of memory");
    *names = out;
    int n = 0;
    if (path) {
        FILE *f = fopen(path, "r");
        if (!f)
            return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
        char line[256];
        while (n < k && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#')
                continue;
            out[n++] = strdup(line);
        }
        fclose(f);
    }
    for (int i = 0; i < k; i++)
        if (!out[i]) {
            char name[32];
            snprintf(name, sizeof name, "action %d", i);
            out[i] = strdup(name);
        }
    for (int i = 0; i < k; i++)
        if (!out[i])
            return status_fail(st, TK_ENOMEM, "names: out of memory");
    return TK_OK;
}

/* The normalisation --ae's model was trained with (its metadata): the frames must be prepared
 * the same way, so an explicit --normalise that disagrees is refused rather than obeyed. */
static StatusCode model_normalisation(const StudyOptions *o, StudyNormalise *out, Status *st)
{
    char name[16];
    StatusCode rc = seqae_normalisation(o->ae_path, name, sizeof name, st);
    if (rc)
        return rc;
    const StudyNormalise model = !strcmp(name, "body") ? STUDY_NORMALISE_BODY
                                                       : STUDY_NORMALISE_MINMAX;
    if (o->normalise_given && o->normalise != model)
        return status_fail(st, TK_EINVAL, "%s: trained on %s-normalised frames, not on the "
                           "--normalise %s asked for (leave --normalise out to use the model's)",
                           o->ae_path, name,
                           o->normalise == STUDY_NORMALISE_BODY ? "body" : "minmax");
    *out = model;
    return TK_OK;
}

typedef struct {
    Progress progress;
    int started;
} TrainView;

static void on_train_progress(void *user, const TrainState *s, int step, int steps, float loss)
{
    TrainView *v = user;
    if (!v->started) {
        progress_start(&v->progress, "study: train", (double)s->cfg.epochs * steps, "steps");
        v->started = 1;
    }
    char note[96];
    if (step == 0)
        snprintf(note, sizeof note, "epoch %d/%d  train %.5f", s->epoch, s->cfg.epochs,
                 s->train_loss[s->epoch - 1]);
    else
        snprintf(note, sizeof note, "epoch %d/%d  loss %.5f", s->epoch + 1, s->cfg.epochs, loss);
    progress_update(&v->progress, (double)s->epoch * steps + step, note);
}

/* Latent vector of every window, in batches through the encoder; each window is read back
 * from the frames on disk and scaled, so no more than a batch of windows is ever held. */
static StatusCode embed_windows(const SeqAE *m, const StudyFrames *frames, const MinMax *scale,
                                const int *starts, int n, float *z, Status *st)
{
    const int T = m->cfg.seq_len, L = m->cfg.latent, F = frames->meta.n_features;
    Arena measure, arena = {0};
    SeqAEWork w;
    arena_init_measure(&measure);
    seqae_work_plan(m, &w, &measure, STUDY_BATCH, 0, st);
    StatusCode rc = arena_init(&arena, measure.peak, st);
    if (!rc)
        rc = seqae_work_plan(m, &w, &arena, STUDY_BATCH, 0, st);
    float *x = rc ? NULL : malloc(sizeof(float) * (size_t)STUDY_BATCH * T * F);
    if (!rc && !x)
        rc = status_fail(st, TK_ENOMEM, "embed: out of memory");
    if (!rc) {
        Progress p;
        progress_start(&p, "study: embed", n, "windows");
        for (int i = 0; !rc && i < n; i += STUDY_BATCH) {
            const int B = n - i < STUDY_BATCH ? n - i : STUDY_BATCH;
            for (int b = 0; !rc && b < B; b++)
                rc = study_frames_window(frames, starts[i + b], T, scale,
                                         x + (size_t)b * T * F, st);
            if (!rc)
                seqae_encode(m, &w, x, B, z + (size_t)i * L);
            progress_update(&p, i + B, NULL);
        }
        progress_end(&p, NULL);
    }
    free(x);
    arena_free(&arena);
    return rc;
}

/* Window labels from the chosen method. k-means runs on every window; the density and tree
 * methods, whose cost grows faster than linearly, on an even sample, after which every window
 * joins the nearest mean of a cluster found there (noise of the sample gives no cluster). */
static StatusCode cluster_windows(const StudyOptions *o, const float *z, int n, int d, int *k,
                                  int *labels, Status *st)
{
    if (o->method == STUDY_KMEANS) {
        float *centers = malloc(sizeof(float) * (size_t)*k * d);
        if (!centers)
            return status_fail(st, TK_ENOMEM, "cluster: out of memory");
        KMeansParams p = kmeans_params_default(*k);
        p.seed = o->seed;
        p.n_init = 4;
        KMeansResult res = {.centers = centers, .labels = labels};
        StatusCode rc = kmeans_fit(z, n, d, &p, &res, st);
        free(centers);
        return rc;
    }
    const int m = n < STUDY_FIT_SAMPLE ? n : STUDY_FIT_SAMPLE;
    float *sample = malloc(sizeof(float) * (size_t)m * d);
    int *sl = malloc(sizeof(int) * (size_t)m);
    float *centers = NULL, *means = NULL;
    double *Z = NULL;
    int found = 0;
    StatusCode rc = TK_OK;
    if (!sample || !sl)
        rc = status_fail(st, TK_ENOMEM, "cluster: out of memory");
    for (int i = 0; !rc && i < m; i++)
        memcpy(sample + (size_t)i * d, z + (size_t)((long)i * n / m) * d, sizeof(float) * d);
    if (!rc && o->method == STUDY_DBSCAN) {
        DbscanParams p = {.min_samples = 2 * d};
        rc = dbscan_suggest_eps(sample, m, d, p.min_samples, &p.eps, st);
        if (!rc)
            rc = dbscan_fit(sample, m, d, &p, sl, &found, NULL, st);
    } else if (!rc && o->method == STUDY_MEANSHIFT) {
        double bw;
        rc = meanshift_estimate_bandwidth(sample, m, d, 0.3, 500, o->seed, &bw, st);
        MeanShiftParams p = meanshift_params_default(bw);
        p.bin_seeding = 1;
        if (!rc)
            rc = meanshift_fit(sample, m, d, &p, &centers, &found, sl, st);
    } else if (!rc) {
        Z = malloc(sizeof(double) * 4 * (size_t)(m > 1 ? m - 1 : 1));
        if (!Z)
            rc = status_fail(st, TK_ENOMEM, "cluster: out of memory");
        if (!rc)
            rc = hier_linkage(sample, m, d, LINKAGE_WARD, Z, st);
        if (!rc)
            rc = hier_cut_k(Z, m, *k, sl, st);
        found = *k;
    }
    if (!rc && found < 1)
        rc = status_fail(st, TK_EINVAL, "%s found no cluster in %d windows",
                         method_names[o->method], m);
    if (!rc && found > STUDY_MAX_K)
        rc = status_fail(st, TK_EUNSUPPORTED, "%s found %d clusters, more than the %d a study "
                         "reports", method_names[o->method], found, STUDY_MAX_K);
    if (!rc) {
        means = calloc((size_t)found * d, sizeof *means);
        int *count = calloc((size_t)found, sizeof *count);
        if (!means || !count)
            rc = status_fail(st, TK_ENOMEM, "cluster: out of memory");
        for (int i = 0; !rc && i < m; i++)
            if (sl[i] >= 0 && sl[i] < found) {
                count[sl[i]]++;
                for (int j = 0; j < d; j++)
                    means[(size_t)sl[i] * d + j] += sample[(size_t)i * d + j];
            }
        for (int c = 0; !rc && c < found; c++)
            for (int j = 0; j < d; j++)
                means[(size_t)c * d + j] /= count[c] ? count[c] : 1;
        free(count);
    }
    if (!rc) {
        *k = found;
        rc = kmeans_predict(z, n, d, means, found, labels, NULL, st);
    }
    free(sample);
    free(sl);
    free(centers);
    free(means);
    free(Z);
    return rc;
}

/* With --refine idec, the study's k-means on latent vectors z (same k and seed as the
 * study's own clustering), voted, segmented and scored into *out: on the latents before
 * refinement it is what the same run without --refine reports, on the refined ones the other
 * way to label them than IDEC's nearest refined centre. */
static StatusCode score_kmeans_labels(const StudyOptions *o, const float *z, int n, int d,
                                      const int *starts, int len, const Keypoints *k,
                                      const int *truth, int min_frames, const StudyResult *r,
                                      StudyScores *out, Status *st)
{
    int *win = malloc(sizeof(int) * (size_t)n), *votes = malloc(sizeof(int) * (size_t)r->k);
    int *pred = malloc(sizeof(int) * (size_t)k->n_frames);
    float *conf = malloc(sizeof(float) * (size_t)k->n_frames);
    StudySegment *segs = NULL;
    int n_segs = 0, clusters = r->k;
    StatusCode rc = win && votes && pred && conf
                        ? TK_OK
                        : status_fail(st, TK_ENOMEM, "evaluation: out of memory");
    if (!rc)
        rc = cluster_windows(o, z, n, d, &clusters, win, st);
    if (!rc) {
        study_vote_frames(starts, n, len, win, clusters, k, votes, pred, conf);
        rc = study_segments(pred, conf, k->n_frames, min_frames, &segs, &n_segs, st);
    }
    if (!rc)
        rc = study_score(truth, r->n_classes, pred, clusters, k->n_frames, out, st);
    free(segs);
    free(pred);
    free(win);
    free(votes);
    free(conf);
    return rc;
}

/* Output files written so far, removed again when a later step fails. */
typedef struct {
    char paths[16][4200];
    int n;
} Written;

static const char *out_path(Written *w, const char *dir, const char *name)
{
    snprintf(w->paths[w->n], sizeof w->paths[w->n], "%s/%s", dir, name);
    return w->paths[w->n++];
}

static StatusCode make_dir(const char *dir, Status *st)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat sb;
        if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
            return TK_OK;
        return status_fail(st, TK_EIO, "%s: exists and is not a folder", dir);
    }
    return status_fail(st, TK_EIO, "%s: cannot create: %s", dir, strerror(errno));
}

static StatusCode write_plots(const StudyResult *r, const TrainState *ts, const float *z,
                              int latent, const int *win, Written *w, Status *st)
{
    const char *dir = r->opt->outdir;
    const char *const *names = (const char *const *)r->names;
    PlotSegment *ps = malloc(sizeof *ps * (size_t)(r->n_segs ? r->n_segs : 1));
    if (!ps)
        return status_fail(st, TK_ENOMEM, "timeline: out of memory");
    for (int i = 0; i < r->n_segs; i++)
        ps[i] = (PlotSegment){r->segs[i].start * r->dt, r->segs[i].end * r->dt, r->segs[i].label};
    TimelineOptions to = {{1200, 0, "Actions over time", "time (s)", NULL}, names, r->k};
    StatusCode rc = plot_timeline(out_path(w, dir, "timeline.png"), &to, ps, r->n_segs, st);
    free(ps);

    double kx[STUDY_MAX_K];
    for (int i = 0; i < r->elbow_kmax; i++)
        kx[i] = i + 1;
    const PlotSeries elbow = {"inertia", kx, r->elbow_inertia, r->elbow_kmax, 1};
    LinePlotOptions eo = {{0, 0, "Elbow: k-means inertia of the latent windows", "k", "inertia"},
                          0, r->k, "k used"};
    if (!rc)
        rc = plot_lines(out_path(w, dir, "elbow.png"), &eo, &elbow, 1, st);

    if (!rc && ts) {
        const int n = ts->epoch;
        double ex[256], tr[256], va[256];
        const int m = n < 256 ? n : 256;
        for (int e = 0; e < m; e++) {
            ex[e] = e + 1;
            tr[e] = ts->train_loss[e];
            va[e] = ts->val_loss[e];
        }
        const PlotSeries s[2] = {{"training loss", ex, tr, m, 1}, {"validation loss", ex, va, m, 1}};
        LinePlotOptions lo = {{0, 0, "SeqAE reconstruction loss (MSE)", "epoch", "loss"}, 1, NAN,
                              NULL};
        rc = plot_lines(out_path(w, dir, "loss.png"), &lo, s, 2, st);
    }

    /* t-SNE of an even sample of the windows: its cost grows faster than the data. */
    const int n = r->n_windows < STUDY_TSNE_POINTS ? r->n_windows : STUDY_TSNE_POINTS;
    float *x = malloc(sizeof(float) * (size_t)n * latent), *e = malloc(sizeof(float) * 2 * n);
    int *lab = malloc(sizeof(int) * (size_t)n);
    if (!rc && (!x || !e || !lab))
        rc = status_fail(st, TK_ENOMEM, "t-SNE: out of memory");
    if (!rc) {
        for (int i = 0; i < n; i++) {
            const long src = (long)i * r->n_windows / n;
            memcpy(x + (size_t)i * latent, z + (size_t)src * latent, sizeof(float) * latent);
            lab[i] = win[src];
        }
        const double perplexity = n > 91 ? 30.0 : (n - 1) / 3.0;
        rc = app_tsne(x, n, latent, perplexity, 0, 500, r->opt->seed, e, NULL, st);
    }
    if (!rc)
        rc = app_tsne_plot(out_path(w, dir, "tsne.png"), "t-SNE of the latent windows", e, n,
                           lab, names, r->k, st);
    free(x);
    free(e);
    free(lab);

    if (!rc && r->evaluated) {
        const StudyScores *s = &r->scores;
        double *cm = malloc(sizeof(double) * (size_t)s->n_classes * (s->k + 1));
        const char **cols = malloc(sizeof(char *) * (size_t)(s->k + 1));
        if (!cm || !cols)
            rc = status_fail(st, TK_ENOMEM, "confusion: out of memory");
        if (!rc) {
            for (size_t i = 0; i < (size_t)s->n_classes * (s->k + 1); i++)
                cm[i] = (double)s->confusion[i];
            for (int c = 0; c < s->k; c++)
                cols[c] = names[c];
            cols[s->k] = "absent";
            HeatmapOptions ho = {{0, 0, "Confusion: true class (rows) by action (columns)",
                                  "action", "true class"},
                                 (const char *const *)r->class_names, cols, 1, 1};
            rc = plot_heatmap(out_path(w, dir, "confusion.png"), &ho, cm, s->n_classes,
                              s->k + 1, st);
        }
        free(cm);
        free(cols);
    }
    return rc;
}

StatusCode study_run(const StudyOptions *o, Status *st)
{
    StudyResult r;
    memset(&r, 0, sizeof r);
    r.opt = o;
    r.method_name = method_names[o->method];
    r.best_loss = NAN;
    StudyFrames frames = {.fd = -1};
    Keypoints *k = &frames.meta; /* per-frame bookkeeping; the coordinates stay on disk */
    TrainState ts;
    memset(&ts, 0, sizeof ts);
    int trained = 0, labelled = 0;
    SeqAE loaded;
    MinMax loaded_scale = {0};
    memset(&loaded, 0, sizeof loaded);
    const SeqAE *model = NULL;
    const MinMax *scale = NULL;
    int *truth = NULL, *starts = NULL, *win = NULL, *frame = NULL, *votes = NULL, *pred = NULL;
    float *z = NULL, *conf = NULL, *centers = NULL;
    Written written = {.n = 0};
    /* The frames trained on, kept for --refine idec until it has run. */
    Keypoints data;
    int have_data = 0, train_stride = 1;

    StatusCode rc = TK_OK;
    if (o->refine_idec && o->ae_path)
        rc = status_fail(st, TK_EINVAL, "--refine idec fine-tunes the autoencoder the study "
                         "trains, not one given by --ae");
    else if (o->refine_idec && o->method != STUDY_KMEANS)
        rc = status_fail(st, TK_EINVAL, "--refine idec clusters with its own k-means centres, "
                         "not with --method %s", method_names[o->method]);
    if (!rc)
        rc = file_sha256(o->input, r.input_sha256, st);
    r.normalise = o->normalise;
    if (!rc && o->ae_path)
        rc = model_normalisation(o, &r.normalise, st);
    if (!rc)
        rc = input_layout(o->input, o->xy, &r.dims, &labelled, st);
    if (!rc)
        rc = study_frames_open(&frames, o->input, o->xy, st);
    if (!rc && r.normalise == STUDY_NORMALISE_BODY)
        rc = study_frames_body_normalise(&frames, r.dims, st);
    if (!rc) {
        r.n_frames = k->n_frames;
        r.n_features = k->n_features;
        int present = 0;
        for (int f = 0; f < k->n_frames; f++)
            present += k->present[f];
        const int T = 40;
        if (k->n_frames < T)
            rc = status_fail(st, TK_EINVAL, "%s: %d frames, fewer than one window of %d",
                             o->input, k->n_frames, T);
        else if (!present)
            rc = status_fail(st, TK_EINVAL, "%s: nobody is in view in any of its %d frames",
                             o->input, k->n_frames);
    }
    if (!rc) {
        r.fps = o->fps > 0 ? o->fps : STUDY_DEFAULT_FPS;
        if (o->fps <= 0 && !labelled && k->n_frames > 1 &&
            k->time_s[k->n_frames - 1] > k->time_s[0])
            r.fps = (k->n_frames - 1) / (double)(k->time_s[k->n_frames - 1] - k->time_s[0]);
        r.dt = 1.0 / r.fps;
    }
    /* The truth is read now so that a bad file fails before any work, and kept aside: it only
     * meets the clusters in the evaluation. */
    const char *truth_path = o->labels_path ? o->labels_path : labelled ? o->input : NULL;
    if (!rc && truth_path) {
        truth = malloc(sizeof(int) * (size_t)k->n_frames);
        rc = truth ? study_read_truth(truth_path, k, truth, &r.class_names, &r.n_classes, st)
                   : status_fail(st, TK_ENOMEM, "%s: out of memory", truth_path);
        if (!rc && o->labels_path)
            rc = file_sha256(o->labels_path, r.labels_sha256, st);
        r.evaluated = !rc;
    }
    if (!rc && o->names_path)
        rc = file_sha256(o->names_path, r.names_sha256, st);
    if (!rc && o->ae_path) {
        rc = seqae_load(&loaded, &loaded_scale, o->ae_path, st);
        if (!rc && loaded.cfg.features != k->n_features)
            rc = status_fail(st, TK_EINVAL, "%s: %d coordinates per frame, the model %s takes %d",
                             o->input, k->n_features, o->ae_path, loaded.cfg.features);
        if (!rc)
            rc = file_sha256(o->ae_path, r.ae_sha256, st);
        model = &loaded;
        scale = &loaded_scale;
        r.decoder_input = loaded.cfg.decoder_input;
        r.fixed_decoder = loaded.cfg.fixed_decoder;
    } else if (!rc) {
        TrainConfig cfg = train_default_config();
        cfg.epochs = o->epochs;
        cfg.seed = o->seed;
        cfg.decoder_input = (SeqAEDecoderInput)o->decoder_input;
        cfg.fixed_decoder = o->fixed_decoder;
        const int cap = o->train_windows ? o->train_windows : STUDY_TRAIN_WINDOWS;
        study_sample_plan(k->n_frames, cap, cfg.seq_len, o->stride ? o->stride : 1, &r.sample);
        if (r.sample.sampled) {
            cfg.stride = o->stride ? o->stride : 1;
            rc = study_frames_sample(&frames, &r.sample, o->seed, &data, st);
        } else {
            cfg.stride = o->stride ? o->stride : (k->n_frames * 7 / 10 + cap - 1) / cap;
            rc = study_frames_load(&frames, &data, st);
            if (!rc && o->augment) {
                Keypoints speeds;
                rc = study_augment_speeds(&data, &speeds, st);
                keypoints_free(&data);
                if (!rc)
                    data = speeds;
                r.augmented = !rc;
            }
        }
        have_data = !rc;
        train_stride = cfg.stride;
        if (!rc && !o->epochs)
            rc = study_train_epochs(&data, &cfg, &cfg.epochs, st);
        r.epochs = cfg.epochs;
        if (!rc)
            rc = train_state_new(&ts, &cfg, &data, st);
        trained = !rc;
        r.decoder_input = o->decoder_input;
        r.fixed_decoder = o->fixed_decoder;
        if (!rc && (r.sample.sampled || r.augmented)) {
            /* The scaling of the whole training part, not of the blocks drawn from it or of
             * the speed copies: the baselines, which share it, see the frames as without them. */
            int a, b;
            MinMax whole;
            split_70_10_20(k->n_frames, &a, &b);
            rc = study_frames_minmax(&frames, 0, a, &whole, st);
            if (!rc) {
                minmax_free(&ts.scale);
                ts.scale = whole;
            }
        }
        TrainView view = {0};
        TrainIo io = {.callback = on_train_progress, .user = &view};
        int stopped = 0;
        if (!rc)
            rc = train_run(&ts, &data, &io, &stopped, st);
        if (view.started)
            progress_end(&view.progress, NULL);
        if (have_data && !o->refine_idec) {
            keypoints_free(&data);
            have_data = 0;
        }
        r.train_windows = ts.n_train;
        r.epochs_run = ts.epoch;
        r.best_loss = ts.best_val;
        model = &ts.model;
        scale = &ts.scale;
    }
    const int T = model ? model->cfg.seq_len : 40, L = model ? model->cfg.latent : 0;
    r.window_len = T;
    r.stride = o->stride ? o->stride
                         : (k->n_frames + STUDY_MAX_WINDOWS - 1) / STUDY_MAX_WINDOWS;
    if (!rc)
        rc = windows_make(k, 0, k->n_frames, T, r.stride, &starts, &r.n_windows, st);
    if (!rc && r.n_windows < 2)
        rc = status_fail(st, TK_EINVAL, "%s: %d windows of %d frames within one sequence; a "
                         "study needs at least 2", o->input, r.n_windows, T);
    if (!rc) {
        z = malloc(sizeof(float) * (size_t)r.n_windows * L);
        win = malloc(sizeof(int) * (size_t)r.n_windows);
        if (!z || !win)
            rc = status_fail(st, TK_ENOMEM, "%s: cannot hold %d latent vectors", o->input,
                             r.n_windows);
    }
    if (!rc)
        rc = embed_windows(model, &frames, scale, starts, r.n_windows, z, st);

    /* The elbow is always drawn; it chooses k only when asked to. */
    if (!rc) {
        r.elbow_kmax = r.n_windows - 1 < STUDY_ELBOW_KMAX ? r.n_windows - 1 : STUDY_ELBOW_KMAX;
        const int m = r.n_windows < STUDY_FIT_SAMPLE ? r.n_windows : STUDY_FIT_SAMPLE;
        float *sample = malloc(sizeof(float) * (size_t)m * L);
        double sil[STUDY_MAX_K];
        if (!sample)
            rc = status_fail(st, TK_ENOMEM, "elbow: out of memory");
        for (int i = 0; !rc && i < m; i++)
            memcpy(sample + (size_t)i * L, z + (size_t)((long)i * r.n_windows / m) * L,
                   sizeof(float) * L);
        ElbowParams ep = {.k_max = r.elbow_kmax, .km = kmeans_params_default(1),
                          .silhouette_sample = 1000};
        ep.km.seed = o->seed;
        ElbowResult er = {.inertia = r.elbow_inertia, .silhouette = sil};
        Progress p;
        progress_start(&p, "study: elbow", r.elbow_kmax, "k");
        if (!rc)
            rc = elbow_fit(sample, m, L, &ep, &er, st);
        progress_end(&p, NULL);
        free(sample);
        r.k_from_elbow = o->k == 0;
        r.k = o->k ? o->k : er.knee_k;
    }
    if (!rc && r.k > r.n_windows)
        rc = status_fail(st, TK_EINVAL, "--k %d: more clusters than the %d windows", r.k,
                         r.n_windows);
    const int min_frames = (int)lround(o->min_duration * r.fps);
    if (!rc && o->refine_idec && r.evaluated)
        rc = score_kmeans_labels(o, z, r.n_windows, L, starts, T, k, truth, min_frames, &r,
                                 &r.unrefined_scores, st);
    if (!rc && o->refine_idec) {
        r.idec = idec_default_config(r.k);
        r.idec.seed = o->seed;
        if (o->idec_gamma > 0)
            r.idec.gamma = (float)o->idec_gamma;
        if (o->idec_steps > 0)
            r.idec.max_steps = o->idec_steps;
        centers = malloc(sizeof(float) * (size_t)r.k * L);
        int a, b;
        split_70_10_20(data.n_frames, &a, &b);
        /* A sample's last 20 % holds no frames (study_frames_sample). */
        rc = centers ? study_refine_idec(&ts.model, &data, r.sample.sampled ? b : data.n_frames,
                                         train_stride, &ts.scale, &r.idec, centers,
                                         &r.idec_windows, &r.idec_result, st)
                     : status_fail(st, TK_ENOMEM, "refine: out of memory");
        keypoints_free(&data);
        have_data = 0;
        if (!rc)
            rc = embed_windows(model, &frames, scale, starts, r.n_windows, z, st);
        r.refined = !rc;
    }
    if (!rc) {
        Progress p;
        progress_start(&p, "study: cluster", r.n_windows, "windows");
        /* IDEC's labels, argmax Q, are the nearest centres: Q falls with the distance. */
        rc = r.refined ? kmeans_predict(z, r.n_windows, L, centers, r.k, win, NULL, st)
                       : cluster_windows(o, z, r.n_windows, L, &r.k, win, st);
        progress_end(&p, NULL);
    }
    if (!rc) {
        votes = malloc(sizeof(int) * (size_t)r.k);
        frame = malloc(sizeof(int) * (size_t)k->n_frames);
        conf = malloc(sizeof(float) * (size_t)k->n_frames);
        r.stats = calloc((size_t)r.k, sizeof *r.stats);
        if (!votes || !frame || !conf || !r.stats)
            rc = status_fail(st, TK_ENOMEM, "%s: out of memory for %d frames", o->input,
                             k->n_frames);
    }
    if (!rc) {
        study_vote_frames(starts, r.n_windows, T, win, r.k, k, votes, frame, conf);
        rc = study_segments(frame, conf, k->n_frames, min_frames, &r.segs, &r.n_segs, st);
    }
    if (!rc) {
        study_action_stats(r.segs, r.n_segs, r.k, r.dt, k->n_frames, r.stats, &r.absent);
        study_find_cycle(r.segs, r.n_segs, r.dt, &r.cycle);
        rc = read_names(o->names_path, r.k, &r.names, st);
    }
    if (!rc && r.evaluated) {
        Progress p;
        progress_start(&p, "study: evaluate + baselines", 3, "steps");
        pred = malloc(sizeof(int) * (size_t)k->n_frames);
        rc = pred ? study_score(truth, r.n_classes, frame, r.k, k->n_frames, &r.scores, st)
                  : status_fail(st, TK_ENOMEM, "evaluation: out of memory");
        r.pca_components = L < T * k->n_features ? L : T * k->n_features;
        if (!rc)
            rc = study_baseline(&frames, scale, starts, r.n_windows, T, r.k, 0, min_frames,
                                o->seed, pred, st);
        if (!rc)
            rc = study_score(truth, r.n_classes, pred, r.k, k->n_frames, &r.raw_scores, st);
        progress_update(&p, 1, NULL);
        if (!rc)
            rc = study_baseline(&frames, scale, starts, r.n_windows, T, r.k, r.pca_components,
                                min_frames, o->seed, pred, st);
        if (!rc)
            rc = study_score(truth, r.n_classes, pred, r.k, k->n_frames, &r.pca_scores, st);
        progress_update(&p, 2, NULL);
        if (!rc)
            rc = study_holdout(z, r.n_windows, L, starts, T, k, truth, r.n_classes, r.k,
                               min_frames, o->seed, &r.holdout, st);
        if (!rc && r.refined)
            rc = score_kmeans_labels(o, z, r.n_windows, L, starts, T, k, truth, min_frames, &r,
                                     &r.refine_kmeans_scores, st);
        progress_end(&p, NULL);
    }

    /* Outputs, now that everything is known. */
    if (!rc)
        rc = make_dir(o->outdir, st);
    if (!rc)
        rc = write_plots(&r, trained ? &ts : NULL, z, L, win, &written, st);
    if (!rc) {
        Progress p;
        progress_start(&p, "study: write report", 4, "files");
        rc = study_strips(out_path(&written, o->outdir, "strips.png"), &frames, scale, r.dims,
                          z, L, starts, r.n_windows, T, win, r.k, (const char *const *)r.names,
                          st);
        progress_update(&p, 1, NULL);
        if (!rc && trained)
            rc = seqae_save(&ts.model, &ts.scale,
                            r.normalise == STUDY_NORMALISE_BODY ? "body" : "minmax",
                            out_path(&written, o->outdir, "model.tkw"), st);
        progress_update(&p, 2, NULL);
        if (!rc)
            rc = study_write_segments(out_path(&written, o->outdir, "segments.csv"), &r, st);
        progress_update(&p, 3, NULL);
        if (!rc)
            rc = study_write_report(out_path(&written, o->outdir, "report.json"), &r, st);
        progress_end(&p, rc ? "failed" : NULL);
    }
    if (rc) {
        for (int i = 0; i < written.n; i++)
            unlink(written.paths[i]);
    } else if (!o->quiet) {
        study_print_summary(stdout, &r);
        printf("report: %s/report.json\n", o->outdir);
    }

    if (r.names)
        study_free_names(r.names, r.k);
    if (r.class_names)
        study_free_names(r.class_names, r.n_classes);
    study_scores_free(&r.scores);
    study_scores_free(&r.raw_scores);
    study_scores_free(&r.pca_scores);
    study_scores_free(&r.refine_kmeans_scores);
    study_scores_free(&r.unrefined_scores);
    free(r.segs);
    free(r.stats);
    free(truth);
    free(starts);
    free(win);
    free(frame);
    free(votes);
    free(pred);
    free(z);
    free(conf);
    free(centers);
    if (have_data)
        keypoints_free(&data);
    if (trained)
        train_state_free(&ts);
    if (o->ae_path) {
        seqae_free(&loaded);
        minmax_free(&loaded_scale);
    }
    study_frames_close(&frames);
    return rc;
}
