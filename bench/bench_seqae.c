/* bench_seqae.c — `takt bench seqae` and `takt bench harclf`: workloads A and B of
 * shared/bench/README.md beside PyTorch (anchors/seqae_torch.py) on the same data in the same
 * run, at 1 thread (pinned, the anchor on the same CPU) and at all threads.
 *   A  SeqAE training, batch 64, batches 0.. of seqae_20k in file order (regenerated here),
 *      10 warm-up + 50 timed steps (fwd + bwd + Adam): train_seq_per_s; encoder + latent on
 *      batches of 256: encode_seq_per_s; peak RSS of this process after the 1-thread run.
 *   B  LSTM classifier (2 x LSTM(66->64) -> Linear(64->8)), T = 200, batch 8, cross-entropy,
 *      Adam 1e-3, on harclf_128 from ../shared/bench (random data of the same shape when
 *      ../shared is absent; throughput does not depend on the values). */
#include "bench.h"

#include "../io/io.h"
#include "../nn/nn.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct {
    int warmup, steps, encode_reps;
} Plan;

/* The team's reference folder: $TAKT_SHARED, else ../shared (as the tests find it). */
static const char *shared_path(char *buf, size_t size, const char *rel)
{
    const char *dir = getenv("TAKT_SHARED");
    snprintf(buf, size, "%s/%s", dir ? dir : "../shared", rel);
    return buf;
}

/* Reads exactly `bytes` from a file; 0 when it is missing or of another size. */
static int read_exact(const char *path, void *dst, size_t bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    const int ok = fread(dst, 1, bytes, f) == bytes && fgetc(f) == EOF;
    fclose(f);
    return ok;
}

static Plan plan_for(const BenchConfig *cfg)
{
    return cfg->quick ? (Plan){2, 5, 3} : (Plan){10, 50, 20};
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* A fresh temporary file for the anchor, opened for writing; path gets its name. */
static StatusCode temp_open(int *fd, char *path, size_t size, Status *st)
{
    snprintf(path, size, "/tmp/takt-bench-XXXXXX");
    *fd = mkstemp(path);
    return *fd < 0 ? status_fail(st, TK_EIO, "cannot create a temporary file for the anchor")
                   : TK_OK;
}

/* Appends bytes to the temporary file; on failure closes and removes it. */
static StatusCode temp_write(int fd, const void *data, size_t bytes, const char *path,
                             Status *st)
{
    if (write(fd, data, bytes) == (ssize_t)bytes)
        return TK_OK;
    close(fd);
    unlink(path);
    return status_fail(st, TK_EIO, "%s: short write", path);
}

/* Writes floats to a fresh temporary file for the anchor; path gets its name. */
static StatusCode temp_file(const void *data, size_t bytes, char *path, size_t size, Status *st)
{
    int fd;
    StatusCode rc = temp_open(&fd, path, size, st);
    if (!rc)
        rc = temp_write(fd, data, bytes, path, st);
    if (!rc)
        close(fd);
    return rc;
}

/* The anchor's copy of seqae_20k rows 0..count-1, generated and written 64 rows at a time
 * through chunk [64 x T x F]: in one buffer they took 40 MB, which was then this process's
 * peak RSS, the figure reported for our training. */
static StatusCode seqae_anchor_file(int count, float *chunk, char *path, size_t size,
                                    Status *st)
{
    int fd;
    StatusCode rc = temp_open(&fd, path, size, st);
    const size_t row = SEQAE20K_T * SEQAE20K_F;
    for (int first = 0; !rc && first < count; first += 64) {
        const int n = count - first < 64 ? count - first : 64;
        seqae20k_rows(first, n, chunk);
        rc = temp_write(fd, chunk, (size_t)n * row * sizeof(float), path, st);
    }
    if (!rc)
        close(fd);
    return rc;
}

/* Runs the anchor and picks "metric value" lines; NAN for metrics it did not print. */
static void run_anchor(const char *args, int cpu, int threads, const char *const *metrics,
                       double *values, int n, int *broken)
{
    for (int i = 0; i < n; i++)
        values[i] = NAN;
    if (*broken)
        return;
    static char out[16384];
    Status st = {0};
    if (bench_run_anchor("seqae_torch.py", args, cpu, threads, out, sizeof out, &st) != TK_OK) {
        bench_note("no PyTorch anchor: %s", st.msg);
        *broken = 1;
        return;
    }
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        double v;
        if (sscanf(line, "%63s %lf", name, &v) == 2)
            for (int i = 0; i < n; i++)
                if (!strcmp(name, metrics[i]))
                    values[i] = v;
    }
}

static void print_rate(const BenchConfig *cfg, const char *bench, const char *case_name,
                       int threads, const char *metric, double value, const char *unit,
                       double anchor, const char *anchor_name, int higher_is_better)
{
    const BenchRow row = {.bench = bench, .case_name = case_name, .threads = threads,
                          .metric = metric, .value = value, .unit = unit, .peak = NAN,
                          .anchor = anchor, .anchor_name = anchor_name,
                          .higher_is_better = higher_is_better};
    bench_print_row(cfg, &row);
}

/* ---------------------------------------------------------------- A: SeqAE */

/* Sequences per second of training steps on batches in file order; only the steps are timed
 * (each batch is regenerated just before its step, so the data never has to be held). */
static double seqae_train_rate(SeqAE *m, SeqAEWork *w, Adam *adam, float *batch, const Plan *p)
{
    enum { B = 64 };
    double timed = 0;
    for (int i = 0; i < p->warmup + p->steps; i++) {
        seqae20k_rows(i * B, B, batch);
        const double start = time_now();
        memset(m->grads, 0, m->n_params * sizeof(float));
        seqae_step(m, w, batch, B, 1);
        adam_step(adam, m->params, m->grads);
        if (i >= p->warmup)
            timed += time_now() - start;
    }
    return p->steps * B / timed;
}

static double seqae_encode_rate(SeqAE *m, SeqAEWork *w, const float *x, float *z, const Plan *p)
{
    enum { B = 256 };
    const size_t row = SEQAE20K_T * SEQAE20K_F;
    for (int i = 0; i < 2; i++)
        seqae_encode(m, w, x + (size_t)(i % 2) * B * row, B, z);
    const double start = time_now();
    for (int i = 0; i < p->encode_reps; i++)
        seqae_encode(m, w, x + (size_t)(i % 2) * B * row, B, z);
    return p->encode_reps * (double)B / (time_now() - start);
}

StatusCode bench_seqae(const BenchConfig *cfg, Status *st)
{
    const Plan p = plan_for(cfg);
    const size_t row = SEQAE20K_T * SEQAE20K_F;
    const SeqAEConfig mc = seqae_default_config();
    SeqAE m;
    StatusCode rc = seqae_init(&m, &mc, st);
    if (rc)
        return rc;
    Arena train_arena = {0}, enc_arena = {0}, measure;
    SeqAEWork tw, ew;
    arena_init_measure(&measure);
    seqae_work_plan(&m, &tw, &measure, 64, 1, st);
    rc = arena_init(&train_arena, measure.peak, st);
    if (!rc)
        rc = seqae_work_plan(&m, &tw, &train_arena, 64, 1, st);
    arena_init_measure(&measure);
    if (!rc)
        seqae_work_plan(&m, &ew, &measure, 256, 0, st);
    if (!rc)
        rc = arena_init(&enc_arena, measure.peak, st);
    if (!rc)
        rc = seqae_work_plan(&m, &ew, &enc_arena, 256, 0, st);
    float *batch = malloc(64 * row * sizeof(float));
    float *enc_x = malloc(512 * row * sizeof(float));
    float *z = malloc(256 * (size_t)mc.latent * sizeof(float));
    float *mom = malloc(m.n_params * sizeof(float)), *var = malloc(m.n_params * sizeof(float));
    if (!rc && (!batch || !enc_x || !z || !mom || !var))
        rc = status_fail(st, TK_ENOMEM, "seqae: cannot allocate the benchmark buffers");
    char data_path[64] = "";
    int anchor_broken = cfg->no_anchor;
    /* The anchor reads the same rows: as many as warm-up and timed steps use. */
    const int anchor_rows = 64 * (p.warmup + p.steps) > 512 ? 64 * (p.warmup + p.steps) : 512;
    if (!rc && !anchor_broken) {
        if (seqae_anchor_file(anchor_rows, batch, data_path, sizeof data_path, st) != TK_OK) {
            bench_note("seqae: no anchor data file: %s", st->msg);
            anchor_broken = 1;
        }
    }
    if (!rc)
        seqae20k_rows(0, 512, enc_x);

    const int all = threads_max();
    const int counts[2] = {1, all};
    for (int t = 0; !rc && t < (all > 1 ? 2 : 1); t++) {
        const int threads = counts[t];
        const int cpu = threads == 1 ? bench_pin_single_cpu() : -1;
        omp_set_num_threads(threads);
        Rng rng;
        rng_seed(&rng, 0, 0);
        seqae_init_params(&m, &rng);
        Adam adam;
        adam_init(&adam, 3e-3f, mom, var, m.n_params);
        const double train = seqae_train_rate(&m, &tw, &adam, batch, &p);
        const double rss = peak_rss_mb();
        const double encode = seqae_encode_rate(&m, &ew, enc_x, z, &p);

        char args[512];
        snprintf(args, sizeof args, "seqae --data %s --rows %d --threads %d --warmup %d --steps %d "
                 "--encode-reps %d", data_path, anchor_rows, threads, p.warmup, p.steps,
                 p.encode_reps);
        static const char *const metrics[3] = {"train_seq_per_s", "encode_seq_per_s",
                                               "peak_rss_mb"};
        double anchor[3];
        run_anchor(args, cpu, threads, metrics, anchor, 3, &anchor_broken);
        const char *name = threads == 1 ? "pytorch" : "pytorch (torch 1 + openblas 2 threads)";
        print_rate(cfg, "seqae", "A train b64", threads, "train_seq_per_s", train, "seq/s",
                   anchor[0], name, 1);
        print_rate(cfg, "seqae", "A encode b256", threads, "encode_seq_per_s", encode, "seq/s",
                   anchor[1], name, 1);
        if (threads == 1)
            print_rate(cfg, "seqae", "A train b64", threads, "peak_rss_mb", rss, "MB", anchor[2],
                       name, 0);
        if (threads == 1)
            bench_unpin();
    }
    omp_set_num_threads(all);
    if (data_path[0])
        unlink(data_path);
    free(batch);
    free(enc_x);
    free(z);
    free(mom);
    free(var);
    arena_free(&train_arena);
    arena_free(&enc_arena);
    seqae_free(&m);
    return rc;
}

/* ---------------------------------------------------------------- B: LSTM classifier */

enum { HAR_N = 128, HAR_T = 200, HAR_F = 66, HAR_CLASSES = 8, HAR_B = 8 };

/* harclf_128 from the shared folder, else random data. */
static void load_harclf(float *x, int *y)
{
    char path[4200];
    FILE *fx = fopen(shared_path(path, sizeof path, "bench/harclf_128_x.bin"), "rb");
    FILE *fy = fopen(shared_path(path, sizeof path, "bench/harclf_128_y.bin"), "rb");
    const size_t nx = (size_t)HAR_N * HAR_T * HAR_F;
    const int ok = fx && fy && fread(x, sizeof(float), nx, fx) == nx &&
                   fread(y, sizeof(int), HAR_N, fy) == HAR_N;
    if (fx)
        fclose(fx);
    if (fy)
        fclose(fy);
    if (ok)
        return;
    bench_note("harclf: ../shared/bench/harclf_128_*.bin not found; random data of the same "
               "shape");
    Rng rng;
    rng_seed(&rng, 7, 0);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_uniform(&rng);
    for (int i = 0; i < HAR_N; i++)
        y[i] = (int)rng_below(&rng, HAR_CLASSES);
}

StatusCode bench_harclf(const BenchConfig *cfg, Status *st)
{
    const Plan p = plan_for(cfg);
    const LstmClassifierConfig mc = {.features = HAR_F, .hidden = 64, .layers = 2,
                                     .classes = HAR_CLASSES};
    LstmClassifier m;
    StatusCode rc = lstm_classifier_init(&m, &mc, st);
    if (rc)
        return rc;
    const size_t nx = (size_t)HAR_N * HAR_T * HAR_F;
    float *x = malloc(nx * sizeof(float));
    int *y = malloc(HAR_N * sizeof(int));
    float *mom = malloc(m.n_params * sizeof(float)), *var = malloc(m.n_params * sizeof(float));
    Arena arena = {0}, measure;
    LstmClassifierWork w;
    if (!x || !y || !mom || !var)
        rc = status_fail(st, TK_ENOMEM, "harclf: cannot allocate the benchmark buffers");
    if (!rc) {
        load_harclf(x, y);
        arena_init_measure(&measure);
        lstm_classifier_work_plan(&m, &w, &measure, HAR_T, HAR_B, st);
        rc = arena_init(&arena, measure.peak, st);
    }
    if (!rc)
        rc = lstm_classifier_work_plan(&m, &w, &arena, HAR_T, HAR_B, st);
    char xpath[64] = "", ypath[64] = "";
    int anchor_broken = cfg->no_anchor;
    if (!rc && !anchor_broken &&
        (temp_file(x, nx * sizeof(float), xpath, sizeof xpath, st) ||
         temp_file(y, HAR_N * sizeof(int), ypath, sizeof ypath, st))) {
        bench_note("harclf: no anchor data file: %s", st->msg);
        anchor_broken = 1;
    }
    const int all = threads_max();
    const int counts[2] = {1, all};
    for (int t = 0; !rc && t < (all > 1 ? 2 : 1); t++) {
        const int threads = counts[t];
        const int cpu = threads == 1 ? bench_pin_single_cpu() : -1;
        omp_set_num_threads(threads);
        Rng rng;
        rng_seed(&rng, 0, 0);
        lstm_classifier_init_params(&m, &rng);
        Adam adam;
        adam_init(&adam, 1e-3f, mom, var, m.n_params);
        double timed = 0;
        for (int i = 0; i < p.warmup + p.steps; i++) {
            const int b = i % (HAR_N / HAR_B);
            const double start = time_now();
            memset(m.grads, 0, m.n_params * sizeof(float));
            lstm_classifier_step(&m, &w, x + (size_t)b * HAR_B * HAR_T * HAR_F, y + b * HAR_B,
                                 HAR_T, HAR_B, 1);
            adam_step(&adam, m.params, m.grads);
            if (i >= p.warmup)
                timed += time_now() - start;
        }
        char args[512];
        snprintf(args, sizeof args, "harclf --data %s --labels %s --rows %d --threads %d "
                 "--warmup %d --steps %d", xpath, ypath, HAR_N, threads, p.warmup, p.steps);
        static const char *const metrics[1] = {"train_seq_per_s"};
        double anchor;
        run_anchor(args, cpu, threads, metrics, &anchor, 1, &anchor_broken);
        print_rate(cfg, "harclf", "B train T200 b8", threads, "train_seq_per_s",
                   p.steps * HAR_B / timed, "seq/s", anchor,
                   threads == 1 ? "pytorch" : "pytorch (torch 1 + openblas 2 threads)", 1);
        if (threads == 1)
            bench_unpin();
    }
    omp_set_num_threads(all);
    if (xpath[0])
        unlink(xpath);
    if (ypath[0])
        unlink(ypath);
    free(x);
    free(y);
    free(mom);
    free(var);
    arena_free(&arena);
    lstm_classifier_free(&m);
    return rc;
}

/* ---------------------------------------------------------------- A: 30-epoch convergence */

#define CONVERGE_EPOCHS 30
#define CONVERGE_PLOT "seqae30_loss.png"

/* PyTorch's per-epoch training MSE from anchors.json ("A_seqae_30ep": {"epoch_train_mse":
 * [...]}), read by a plain scan (takt has no JSON reader); returns how many were found. */
static int anchor_curve(double *mse, int max)
{
    char path[4200];
    FILE *f = fopen(shared_path(path, sizeof path, "bench/anchors.json"), "rb");
    if (!f)
        return 0;
    static char text[1 << 20];
    const size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strstr(text, "\"A_seqae_30ep\"");
    p = p ? strstr(p, "\"epoch_train_mse\"") : NULL;
    p = p ? strchr(p, '[') : NULL;
    int count = 0;
    while (p && *p != ']' && count < max) {
        char *end;
        const double v = strtod(p + 1, &end);
        if (end == p + 1)
            break;
        mse[count++] = v;
        p = end;
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (*p != ',' && *p != ']')
            break;
    }
    return count;
}

StatusCode bench_seqae_converge(const BenchConfig *cfg, Status *st)
{
    enum { B = 64 };
    const size_t row = SEQAE20K_T * SEQAE20K_F;
    const SeqAEConfig mc = seqae_default_config();
    SeqAE m;
    StatusCode rc = seqae_init(&m, &mc, st);
    if (rc)
        return rc;
    const int epochs = cfg->quick ? 1 : CONVERGE_EPOCHS;
    float *data = malloc((size_t)SEQAE20K_N * row * sizeof(float));
    int *perm = malloc((size_t)CONVERGE_EPOCHS * SEQAE20K_N * sizeof(int));
    float *mom = malloc(m.n_params * sizeof(float)), *var = malloc(m.n_params * sizeof(float));
    float *batch = malloc(B * row * sizeof(float));
    char path[4200];
    if (!data || !perm || !mom || !var || !batch)
        rc = status_fail(st, TK_ENOMEM, "seqae30: cannot allocate the data set");
    float *init = malloc(m.n_params * sizeof(float));
    if (!rc && !init)
        rc = status_fail(st, TK_ENOMEM, "seqae30: cannot allocate the initial weights");
    if (!rc && (!read_exact(shared_path(path, sizeof path, "bench/seqae_init.bin"), init,
                            m.n_params * sizeof(float)) ||
                !read_exact(shared_path(path, sizeof path, "bench/seqae_perm30.bin"), perm,
                            (size_t)CONVERGE_EPOCHS * SEQAE20K_N * sizeof(int))))
        rc = status_fail(st, TK_EUNSUPPORTED, "seqae30: needs seqae_init.bin and "
                         "seqae_perm30.bin of ../shared/bench ($TAKT_SHARED)");
    Arena arena = {0}, measure;
    SeqAEWork w;
    if (!rc) {
        seqae20k_rows(0, SEQAE20K_N, data);
        arena_init_measure(&measure);
        seqae_work_plan(&m, &w, &measure, B, 1, st);
        rc = arena_init(&arena, measure.peak, st);
    }
    if (!rc)
        rc = seqae_work_plan(&m, &w, &arena, B, 1, st);
    /* Run 0 starts from seqae_init as PyTorch did; run 1 from every weight moved by one float
     * ulp, a change far below any difference between two correct implementations: how far
     * its curve strays from run 0 is the spread of equivalent trajectories (Adam's loss spikes
     * come and go with it), the scale on which to read the gap to PyTorch's curve. */
    double ours[2][CONVERGE_EPOCHS], theirs[CONVERGE_EPOCHS], epoch_x[CONVERGE_EPOCHS];
    const int n_theirs = anchor_curve(theirs, CONVERGE_EPOCHS);
    double seconds = 0;
    for (int run = 0; run < 2 && !rc; run++) {
        for (size_t i = 0; i < m.n_params; i++)
            m.params[i] = run ? nextafterf(init[i], INFINITY) : init[i];
        Adam adam;
        adam_init(&adam, 3e-3f, mom, var, m.n_params);
        const double start = time_now();
        for (int e = 0; e < epochs; e++) {
            const int *order = perm + (size_t)e * SEQAE20K_N;
            double sum = 0;
            for (int first = 0; first < SEQAE20K_N; first += B) {
                const int n = SEQAE20K_N - first < B ? SEQAE20K_N - first : B;
                for (int i = 0; i < n; i++)
                    memcpy(batch + (size_t)i * row, data + (size_t)order[first + i] * row,
                           row * sizeof(float));
                memset(m.grads, 0, m.n_params * sizeof(float));
                sum += (double)seqae_step(&m, &w, batch, n, 1) * n;
                adam_step(&adam, m.params, m.grads);
            }
            ours[run][e] = sum / SEQAE20K_N;
            epoch_x[e] = e + 1;
            bench_note("seqae30: %sepoch %d train MSE %.6f (PyTorch %.6f)",
                       run ? "init +1 ulp, " : "", e + 1, ours[run][e],
                       e < n_theirs ? theirs[e] : NAN);
        }
        if (run == 0)
            seconds = time_now() - start;
    }
    if (!rc) {
        char case_name[32], ulp_case[48];
        snprintf(case_name, sizeof case_name, "A %d epochs", epochs);
        snprintf(ulp_case, sizeof ulp_case, "A %d epochs, init +1 ulp", epochs);
        print_rate(cfg, "seqae30", case_name, threads_max(), "train_mse_last_epoch",
                   ours[0][epochs - 1], "MSE", epochs <= n_theirs ? theirs[epochs - 1] : NAN,
                   "pytorch (anchors.json)", 0);
        print_rate(cfg, "seqae30", ulp_case, threads_max(), "train_mse_last_epoch",
                   ours[1][epochs - 1], "MSE", epochs <= n_theirs ? theirs[epochs - 1] : NAN,
                   "pytorch (anchors.json)", 0);
        /* PyTorch's 30 epochs took 1025 s at 1 thread (ANCHORS.md); not re-run here. */
        print_rate(cfg, "seqae30", case_name, threads_max(), "seconds_per_epoch",
                   seconds / epochs, "s", 1025.0 / 30, "pytorch (ANCHORS.md, 1 thread)", 0);
        const PlotSeries series[3] = {{"takt", epoch_x, ours[0], epochs, 1},
                                      {"takt, init +1 ulp", epoch_x, ours[1], epochs, 1},
                                      {"PyTorch 1.13", epoch_x, theirs,
                                       n_theirs < epochs ? n_theirs : epochs, 1}};
        const LinePlotOptions opt = {
            .style = {0, 0, "SeqAE on seqae_20k from seqae_init: training MSE per epoch",
                      "epoch", "train MSE"},
            .log_y = 1, .mark_x = NAN, .mark_label = NULL};
        Status plot_st = {0};
        if (plot_lines(CONVERGE_PLOT, &opt, series, n_theirs ? 3 : 2, &plot_st))
            bench_note("seqae30: no plot: %s", plot_st.msg);
        else
            bench_note("seqae30: the curves in %s", CONVERGE_PLOT);
    }
    free(data);
    free(perm);
    free(init);
    free(mom);
    free(var);
    free(batch);
    arena_free(&arena);
    seqae_free(&m);
    return rc;
}
