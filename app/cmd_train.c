/* cmd_train.c — `takt train KEYPOINTS.csv -o MODEL.tkw`: trains the keypoint sequence
 * autoencoder (nn/train.c) with a progress bar, a checkpoint MODEL.tkw.ckpt after every epoch,
 * a clean stop on SIGINT/SIGTERM (the current step finishes, a checkpoint is written; a second
 * signal kills), --resume from that checkpoint, and an optional PNG of the loss curves. */
#include "app.h"
#include "../io/io.h"
#include "../nn/nn.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: takt train KEYPOINTS.csv -o MODEL.tkw [options]\n\n"
            "Trains the sequence autoencoder on windows of keypoint frames (a CSV as `takt pose`\n"
            "writes it, or a labelled CSV seq_id,frame,label,x0,y0[,z0],...). The first 70 %% of\n"
            "the frames train, the next 10 %% validate (early stopping), the last 20 %% are left\n"
            "out. A checkpoint MODEL.tkw.ckpt is written after every epoch and on Ctrl-C.\n\n"
            "options:\n"
            "  -o MODEL.tkw      model file to write (required)\n"
            "  --epochs N        epochs (30)\n"
            "  --batch N         windows per step (64)\n"
            "  --lr X            Adam learning rate (3e-3)\n"
            "  --seq-len N       frames per window (40)\n"
            "  --stride N        frames between window starts (1)\n"
            "  --hidden N        LSTM/GRU hidden size (32)\n"
            "  --latent N        latent size (32)\n"
            "  --decoder-input D repeat (the latent at every decoder step) or first (at step 0,\n"
            "                    zeros after: a weaker decoder) (repeat)\n"
            "  --fixed-decoder   keep the decoder's GRU at its initial weights (train the rest)\n"
            "  --patience N      epochs without a better validation loss before stopping (5, 0 = never)\n"
            "  --clip X          clip the gradient norm to X (0 = off)\n"
            "  --xy              keep x, y only of 3-D keypoints\n"
            "  --seed S          seed of the initial weights and the batch order (0)\n"
            "  --threads N       OpenMP threads (default: OMP_NUM_THREADS or all)\n"
            "  --resume          continue from MODEL.tkw.ckpt (settings come from it)\n"
            "  --loss-plot PNG   training and validation loss per epoch\n");
}

static int parse_int(const char *s, int lo, int *out)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > 1 << 30)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_float(const char *s, float lo, float *out)
{
    char *end;
    const float v = strtof(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo)
        return 0;
    *out = v;
    return 1;
}

typedef struct {
    Progress progress;
    int started;
} TrainView;

static void on_progress(void *user, const TrainState *s, int step, int steps, float loss)
{
    TrainView *v = user;
    const double total = (double)s->cfg.epochs * steps;
    if (!v->started) {
        progress_start(&v->progress, "train", total, "steps");
        v->started = 1;
    }
    char note[128];
    if (step == 0) {
        const int e = s->epoch - 1;
        snprintf(note, sizeof note, "epoch %d/%d  train %.6f  val %.6f%s", e + 1, s->cfg.epochs,
                 s->train_loss[e], s->val_loss[e], s->bad_epochs == 0 ? " *" : "");
        progress_update(&v->progress, (double)s->epoch * steps, note);
    } else {
        snprintf(note, sizeof note, "epoch %d/%d  loss %.6f", s->epoch + 1, s->cfg.epochs, loss);
        progress_update(&v->progress, (double)s->epoch * steps + step, note);
    }
}

static StatusCode write_loss_plot(const TrainState *s, const char *path, Status *st)
{
    const int n = s->epoch;
    double *x = malloc(sizeof(double) * (size_t)(n ? n : 1) * 3);
    if (!x)
        return status_fail(st, TK_ENOMEM, "%s: cannot allocate the plot", path);
    double *tr = x + n, *va = x + 2 * n;
    for (int e = 0; e < n; e++) {
        x[e] = e + 1;
        tr[e] = s->train_loss[e];
        va[e] = s->val_loss[e];
    }
    const PlotSeries series[2] = {{"training loss", x, tr, n, 1}, {"validation loss", x, va, n, 1}};
    LinePlotOptions opt = {.style = {0, 0, "SeqAE reconstruction loss (MSE)", "epoch", "loss"},
                           .log_y = 1, .mark_x = NAN, .mark_label = NULL};
    StatusCode rc = plot_lines(path, &opt, series, 2, st);
    free(x);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    TrainConfig cfg = train_default_config();
    const char *input = NULL, *output = NULL, *plot = NULL;
    int resume = 0, xy = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (!strcmp(a, "-o"))
            output = val;
        else if (!strcmp(a, "--epochs"))
            ok = val && parse_int(val, 1, &cfg.epochs);
        else if (!strcmp(a, "--batch"))
            ok = val && parse_int(val, 1, &cfg.batch);
        else if (!strcmp(a, "--lr"))
            ok = val && parse_float(val, 1e-12f, &cfg.lr);
        else if (!strcmp(a, "--seq-len"))
            ok = val && parse_int(val, 1, &cfg.seq_len);
        else if (!strcmp(a, "--stride"))
            ok = val && parse_int(val, 1, &cfg.stride);
        else if (!strcmp(a, "--hidden"))
            ok = val && parse_int(val, 1, &cfg.hidden);
        else if (!strcmp(a, "--latent"))
            ok = val && parse_int(val, 1, &cfg.latent);
        else if (!strcmp(a, "--patience"))
            ok = val && parse_int(val, 0, &cfg.patience);
        else if (!strcmp(a, "--decoder-input")) {
            const int d = val ? seqae_decoder_input_parse(val) : -1;
            ok = d >= 0;
            if (ok)
                cfg.decoder_input = (SeqAEDecoderInput)d;
        }
        else if (!strcmp(a, "--clip"))
            ok = val && parse_float(val, 0.0f, &cfg.clip);
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            ok = val && val[0] != '-';
            if (ok)
                cfg.seed = strtoull(val, &end, 10);
            ok = ok && !errno && end != val && !*end;
        } else if (!strcmp(a, "--threads"))
            ok = val && parse_int(val, 1, &threads);
        else if (!strcmp(a, "--loss-plot"))
            plot = val;
        else {
            takes = 0;
            if (!strcmp(a, "--resume"))
                resume = 1;
            else if (!strcmp(a, "--xy"))
                xy = 1;
            else if (!strcmp(a, "--fixed-decoder"))
                cfg.fixed_decoder = 1;
            else if (a[0] == '-' && a[1])
                return app_usage_error("train", "unknown option '%s'", a);
            else if (!input)
                input = a;
            else
                return app_usage_error("train", "one keypoints file only ('%s' is extra)", a);
        }
        if (takes && (!val || !ok))
            return app_usage_error("train", "%s needs a %svalue%s%s", a, val ? "valid " : "",
                                   val ? ", not " : "", val ? val : "");
        i += takes;
    }
    if (!input || !output)
        return app_usage_error("train", "needs KEYPOINTS.csv and -o MODEL.tkw");
    if (threads)
        omp_set_num_threads(threads);

    Status st = {0};
    Keypoints k;
    if (keypoints_read(&k, input, xy, &st))
        return app_fail(&st);
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", output);
    TrainState s;
    StatusCode rc = resume ? checkpoint_load(&s, ckpt, &st) : train_state_new(&s, &cfg, &k, &st);
    if (rc) {
        keypoints_free(&k);
        return app_fail(&st);
    }
    if (k.n_frames < s.cfg.seq_len) {
        fprintf(stderr, "takt: %s: %d frames, fewer than one window of %d\n", input, k.n_frames,
                s.cfg.seq_len);
        train_state_free(&s);
        keypoints_free(&k);
        return EXIT_RUNTIME;
    }

    const volatile sig_atomic_t *stop = app_stop_on_signals();

    TrainView view = {0};
    TrainIo io = {.checkpoint = ckpt, .stop = stop, .callback = on_progress,
                  .user = &view};
    int stopped = 0;
    rc = train_run(&s, &k, &io, &stopped, &st);
    if (view.started)
        progress_end(&view.progress, stopped ? "interrupted" : NULL);
    int code = EXIT_OK;
    if (rc) {
        fprintf(stderr, "takt: %s: %s\n", input, st.msg);
        code = EXIT_RUNTIME;
    } else if (stopped) {
        fprintf(stderr,
                "takt: train: stopped in epoch %d step %d; checkpoint %s written, continue with "
                "--resume\n",
                s.epoch + 1, s.step, ckpt);
        code = EXIT_RUNTIME;
    } else if (seqae_save_trained(&s, output, &st)) {
        code = app_fail(&st);
    } else {
        fprintf(stderr, "takt: train: %d epochs, %d training / %d validation windows, best %s "
                        "loss %.6f; model written to %s\n",
                s.epoch, s.n_train, s.n_val, s.n_val ? "validation" : "training", s.best_val,
                output);
    }
    if (code == EXIT_OK && plot && write_loss_plot(&s, plot, &st))
        code = app_fail(&st);
    train_state_free(&s);
    keypoints_free(&k);
    return code;
}
