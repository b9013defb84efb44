/* nn — the learning module: layers with forward and backward side by side, losses, optimisers,
 * the sequence autoencoder and the classifiers, the keypoint windows they learn from, and the
 * training loop.
 *
 * Conventions (in the style of karpathy's llm.c: plain structs, caller-owned buffers, nothing
 * allocated behind the caller's back):
 *   - A model keeps ALL its parameters in one flat float array, in PyTorch state_dict order and
 *     layout, and its gradients in a second array of the same layout; layers hold pointers into
 *     both. So an optimiser is one loop over one array, and a PyTorch state_dict dumped flat
 *     loads with one copy.
 *   - Backward passes ACCUMULATE into parameter gradients (the caller zeroes them once per
 *     step) and OVERWRITE input gradients.
 *   - Sequences inside the recurrent layers are time-major [T, B, F]: one time step of a batch
 *     is then one contiguous matrix, so the per-step GEMMs and the weight-gradient GEMMs over
 *     all steps need no gathering. Models take batch-first [B, T, F] as PyTorch does and
 *     transpose at their edges.
 *   - Memory for a forward/backward pass is planned once from the batch and sequence sizes:
 *     the *_plan functions run on a measuring Arena first, then on a real one of that size.
 *
 * Dependencies: core, io (model files, CSV).
 */
#ifndef TAKT_NN_H
#define TAKT_NN_H

#include <signal.h>

#include "../core/core.h"

/* ---------------------------------------------------------------- linear */

/* y = x W^T + b, W [out x in] (PyTorch's nn.Linear layout). */
typedef struct {
    int in, out;
    float *w, *b;   /* parameters */
    float *dw, *db; /* their gradients */
} Linear;

/* x [n x in] -> y [n x out] */
void linear_forward(const Linear *l, const float *x, float *y, int n);
/* dy [n x out]; accumulates dw, db; dx [n x in] overwritten (skipped when NULL). */
void linear_backward(const Linear *l, const float *x, const float *dy, float *dx, int n);

/* ---------------------------------------------------------------- recurrent layers */

typedef enum { RNN_LSTM = 0, RNN_GRU = 1 } RnnKind;

/* One direction of one layer: W_ih [G*H x I], W_hh [G*H x H], b_ih, b_hh [G*H], with G = 4
 * gate blocks [i, f, g, o] for LSTM and 3 blocks [r, z, n] for GRU (PyTorch's orders). */
typedef struct {
    float *w_ih, *w_hh, *b_ih, *b_hh;
    float *dw_ih, *dw_hh, *db_ih, *db_hh;
} RnnWeights;

/* What one direction of one layer keeps from its forward pass for backward-through-time.
 * LSTM: gates = activated [i, f, g, o] [T, B, 4H], cell = c_t and aux = tanh(c_t) [T, B, H].
 * GRU:  gates = activated [r, z, n] [T, B, 3H], cell = W_hn h_{t-1} + b_hn [T, B, H].
 * A constant input (the decoder's repeated latent, first layer) is projected once into one
 * extra [B, G*H] block of gates after the T steps, which the step products start from. */
typedef struct {
    float *gates, *cell, *aux;
    float *w_hh_t; /* [H x G*H] W_hh transposed once per forward pass, for the step products */
    float *bias;   /* [G*H] the biases added to the input projections, summed once per pass */
} RnnTape;

/* Scratch one direction needs during backward (shared by every layer and direction). */
typedef struct {
    float *dgates;   /* [T, B, G*H] gradient of the input-side pre-activations */
    float *dgates_h; /* [T, B, H] GRU only: gradient of the hidden side's n pre-activation
                      * (its [r z] equal the input side's, in dgates) */
    float *dh, *dc;  /* [B, H] running gradients of h_t and (LSTM) c_t */
    float *dbias;    /* [4H] bias gradients summed in backward (LSTM: shared by b_ih and b_hh;
                      * GRU: [r z n] input side, then the hidden side's n) */
} RnnScratch;

/* One direction over a whole sequence. x [T, B, I] with row stride ldx (floats between the
 * starts of consecutive rows b), output h_t written to y [T, B, ...] at row stride ldy (so
 * that the two directions of a layer write side by side). reverse = 1 runs t = T-1 .. 0.
 * Initial states are zero (PyTorch's default). x_steps is T, or 1 when every step sees the
 * same input x [B, I] (the autoencoder's repeated latent): its projection is then computed
 * once, and in backward the step gradients are summed before the weight-gradient product
 * (s->dgates then holds that sum in its first [B, G*H] block). */
void lstm_dir_forward(const RnnWeights *w, RnnTape *tape, const float *x, int ldx, float *y,
                      int ldy, int T, int x_steps, int B, int I, int H, int reverse);
/* dy [T, B, ...] at row stride ldy: gradient of this direction's outputs. Accumulates the
 * weight gradients and leaves the gradient of the input-side pre-activations in s->dgates,
 * from which the caller forms dx = dgates W_ih (summed over directions). */
void lstm_dir_backward(const RnnWeights *w, const RnnTape *tape, RnnScratch *s, const float *x,
                       int ldx, const float *y, int ldy, const float *dy, int T, int x_steps, int B, int I,
                       int H, int reverse);
void gru_dir_forward(const RnnWeights *w, RnnTape *tape, const float *x, int ldx, float *y,
                     int ldy, int T, int x_steps, int B, int I, int H, int reverse);
void gru_dir_backward(const RnnWeights *w, const RnnTape *tape, RnnScratch *s, const float *x,
                      int ldx, const float *y, int ldy, const float *dy, int T, int x_steps, int B, int I,
                      int H, int reverse);

/* A stack of `layers` layers of one or two directions (PyTorch nn.LSTM / nn.GRU with
 * batch_first semantics handled by the caller, see above). Layer l > 0 reads layer l-1's
 * output [T, B, dirs*H]. */
#define RNN_MAX_LAYERS 4
typedef struct {
    RnnKind kind;
    int input, hidden, layers, dirs;
    int const_input; /* 1: layer 0 sees the same input at every step, x is [B, input] */
    RnnWeights w[RNN_MAX_LAYERS][2];
} Rnn;

/* Number of parameters, and binding of the weights to flat arrays in state_dict order
 * (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then *_reverse, then l1, ...).
 * Returns the number of floats used. */
size_t rnn_param_count(RnnKind kind, int input, int hidden, int layers, int dirs);
size_t rnn_bind(Rnn *r, RnnKind kind, int input, int hidden, int layers, int dirs, float *params,
                float *grads);
int rnn_gate_count(RnnKind kind);

/* Forward and backward buffers of a stack for sequences up to T steps and batches up to B. */
typedef struct {
    int T, B;
    float *out[RNN_MAX_LAYERS];       /* [T, B, dirs*H] each layer's output */
    RnnTape tape[RNN_MAX_LAYERS][2];
    RnnScratch scratch[2];            /* one per direction, so the two can run in parallel */
    float *dout[2];                   /* [T, B, dirs*H] ping-pong gradients between layers */
} RnnBuffers;

/* Takes the buffers from the arena (on a measuring arena only counts them). */
StatusCode rnn_plan(const Rnn *r, RnnBuffers *b, Arena *a, int T, int B, Status *st);
/* x [T, B, input] ([B, input] with const_input) -> b->out[layers-1] [T, B, dirs*H]. */
void rnn_forward(const Rnn *r, RnnBuffers *b, const float *x, int T, int B);
/* dy [T, B, dirs*H] (gradient of the top layer's output, which includes the final states:
 * h_n of the forward direction is out[T-1], of the reverse direction out[0]); accumulates the
 * weight gradients; dx [T, B, input] ([B, input] with const_input) overwritten (skipped when
 * NULL). */
void rnn_backward(const Rnn *r, RnnBuffers *b, const float *x, const float *dy, float *dx, int T,
                  int B);
const float *rnn_output(const Rnn *r, const RnnBuffers *b);

/* ---------------------------------------------------------------- dropout */

/* Inverted dropout (PyTorch's): kept values scaled by 1/(1-p); mask [n] holds that scale or 0.
 * p == 0 copies. */
void dropout_forward(const float *x, float *y, float *mask, size_t n, float p, Rng *rng);
void dropout_backward(const float *dy, const float *mask, float *dx, size_t n);

/* ---------------------------------------------------------------- losses */

/* Mean squared error over n values; dpred = d(loss)/d(pred) (skipped when NULL). */
float mse_loss(const float *pred, const float *target, size_t n, float *dpred);
/* Mean softmax cross-entropy over n rows of c logits with labels in [0, c); probs [n x c] gets
 * the softmax; dlogits = d(loss)/d(logits) (skipped when NULL). */
float softmax_xent_loss(const float *logits, const int *labels, int n, int c, float *probs,
                        float *dlogits);
/* Label smoothing (Szegedy et al., CVPR 2016; torch.nn.CrossEntropyLoss(label_smoothing=eps)):
 * from xent, softmax_xent_loss's result on the same rows, the mean loss against targets
 * (1 - eps) one-hot + eps / c; dlogits (softmax_xent_loss's gradient; skipped when NULL) gets
 * the difference added. */
float softmax_xent_smooth(const float *logits, const int *labels, int n, int c, float eps,
                          float xent, float *dlogits);

/* ---------------------------------------------------------------- optimisers */

/* torch.optim.Adam (1.13): with weight decay L2 is added to the gradient (not AdamW). */
typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    long step;
    size_t n;
    float *m, *v; /* caller-owned moment buffers, n each, zeroed before the first step */
} Adam;

void adam_init(Adam *o, float lr, float *m, float *v, size_t n);
void adam_step(Adam *o, float *params, const float *grads);

/* torch.optim.SGD with momentum (dampening 0, no Nesterov): buf = mu*buf + g (buf = g on the
 * first step), p -= lr*buf. */
typedef struct {
    float lr, momentum, weight_decay;
    long step;
    size_t n;
    float *buf; /* caller-owned, n */
} Sgd;

void sgd_init(Sgd *o, float lr, float momentum, float *buf, size_t n);
void sgd_step(Sgd *o, float *params, const float *grads);

/* torch.nn.utils.clip_grad_norm_: scales grads so their L2 norm is at most max_norm; returns
 * the norm before clipping. */
float clip_grad_norm(float *grads, size_t n, float max_norm);

/* ---------------------------------------------------------------- models */

typedef enum { MODEL_SEQAE = 1, MODEL_LSTM_CLASSIFIER = 2, MODEL_MLP = 3 } ModelKind;

/* "A — SeqAE": BiLSTM encoder -> final states of both directions of the top layer,
 * concatenated [fwd, bwd] -> Linear(2H -> latent) -> latent as the decoder's input -> BiGRU
 * decoder -> per-step Linear(2H -> features). Parameter order: enc.*, to_latent.*, dec.*,
 * out.*.
 * The decoder's input: REPEAT feeds the latent at every step; FIRST feeds it at step 0 and
 * zeros after, a weaker decoder that must carry the motion in its state, so the latent must
 * hold it ("Predict & Cluster", Su et al., CVPR 2020). The parameters are the same for both. */
typedef enum { SEQAE_DECODER_REPEAT = 0, SEQAE_DECODER_FIRST = 1 } SeqAEDecoderInput;

typedef struct {
    int features, seq_len, hidden, latent, enc_layers, dec_layers;
    SeqAEDecoderInput decoder_input;
    int fixed_decoder; /* 1: the decoder's GRU keeps its initial weights ("fixed weights" of
                        * Predict & Cluster); its gradient is left at zero */
} SeqAEConfig;

/* "repeat" / "first", and back; -1 for an unknown name. */
const char *seqae_decoder_input_name(SeqAEDecoderInput d);
int seqae_decoder_input_parse(const char *name);

SeqAEConfig seqae_default_config(void); /* 66, 40, 32, 32, 2, 2 */

typedef struct {
    SeqAEConfig cfg;
    size_t n_params;
    float *params, *grads; /* owned, n_params each */
    Rnn enc, dec;
    Linear to_latent, out;
} SeqAE;

typedef struct {
    int batch;
    RnnBuffers enc, dec;
    float *xt;      /* [T, B, F] input, time-major */
    float *hcat;    /* [B, 2H] */
    float *z;       /* [B, latent] */
    float *dec_in;  /* [T, B, latent] FIRST only: z at step 0, zeros after */
    float *ddec_in; /* [T, B, latent] FIRST only: its gradient (step 0's block is dz) */
    float *recon;   /* [T, B, F] */
    float *drecon;  /* [T, B, F] */
    float *ddec;    /* [T, B, 2H] */
    float *dz, *dhcat;
    float *denc;    /* [T, B, 2H] */
} SeqAEWork;

StatusCode seqae_init(SeqAE *m, const SeqAEConfig *cfg, Status *st);
void seqae_free(SeqAE *m);
/* PyTorch's default initialisation (U(-1/sqrt(fan), 1/sqrt(fan)) for every tensor, fan = H
 * for recurrent layers and in-features for linear ones), drawn from rng in parameter order. */
void seqae_init_params(SeqAE *m, Rng *rng);
/* The state_dict name of parameter tensor i (0-based), its shape and offset; -1 past the end. */
int seqae_tensor_info(const SeqAE *m, int i, char *name, size_t name_size, int *ndim,
                      int shape[2], size_t *offset);
/* train = 0 plans for seqae_encode only (encoder and latent buffers). */
StatusCode seqae_work_plan(const SeqAE *m, SeqAEWork *w, Arena *a, int batch, int train,
                           Status *st);
/* x [B, T, F] batch-first. Returns the MSE loss of the reconstruction; when train != 0 also
 * runs backward, accumulating into m->grads. */
float seqae_step(SeqAE *m, SeqAEWork *w, const float *x, int B, int train);
/* seqae_step(train = 1) in two halves, so that a loss on the latent (w->z after the forward
 * pass) can join: dz_extra [B, latent] (NULL: none) is added to the latent's gradient before
 * the to_latent and encoder backward. forward + backward(NULL) is seqae_step bit for bit. */
float seqae_forward(SeqAE *m, SeqAEWork *w, const float *x, int B, int train);
void seqae_backward(SeqAE *m, SeqAEWork *w, int B, const float *dz_extra);
/* Encoder + latent only: z [B, latent]. */
void seqae_encode(const SeqAE *m, SeqAEWork *w, const float *x, int B, float *z);

/* "B": LSTM (one direction, or both: lstm_classifier_init_dirs) -> output of the last step
 * (or the mean over the steps) -> Linear(H or 2H -> classes), and the MLP:
 * Linear(in -> hidden) -> ReLU -> Linear(hidden -> classes); both trained on cross-entropy.
 * Parameter order lstm.* then fc.* (LSTM) and fc1.*, fc2.* (MLP). */
typedef struct {
    int features, hidden, layers, classes;
    int pyramid; /* 1: fc reads the final states followed by the means of the top layer's
                  * outputs over the whole sequence, its 2 halves and its 4 quarters (steps
                  * [j*T/P, (j+1)*T/P) of P parts): 8x the values; needs T >= 4. 0: the final
                  * states only (or the mean, pool_mean) */
} LstmClassifierConfig;

typedef struct {
    LstmClassifierConfig cfg;
    int bidirectional; /* see lstm_classifier_init_dirs */
    float dropout; /* training only: p of nn.Dropout after every LSTM layer (PyTorch's
                    * nn.LSTM dropout between layers, then one before fc); 0 (as init leaves
                    * it) = none; set before planning the work buffers */
    int pool_mean; /* 1: fc reads the mean of the top layer's outputs over the steps, not the
                    * last step's output (torch: fc(out.mean(1)) instead of fc(out[:, -1])) */
    float label_smoothing; /* training only: eps of softmax_xent_smooth; 0 = plain */
    size_t n_params;
    float *params, *grads;
    Rnn lstm;
    Rnn layer[RNN_MAX_LAYERS]; /* one-layer views of lstm, run one by one under dropout */
    Linear fc;
} LstmClassifier;

typedef struct {
    int T, batch;
    RnnBuffers rnn;
    float *xt, *last, *logits, *probs, *dlogits, *dlast, *dout;
    float *dlogits_mix; /* lstm_classifier_step_mixed: the gradient against the second labels */
    /* Only with dropout > 0: layer outputs after dropout and their masks
     * [(layers-1), T, B, D*H], the mask before fc [B, D*H], a second gradient buffer
     * [T, B, D*H] (D = 2 when bidirectional, else 1). */
    float *dropped, *masks, *fc_mask, *dout2;
    Rng rng; /* draws the dropout masks; seeded (0, 0) by the plan, reseed to choose */
} LstmClassifierWork;

StatusCode lstm_classifier_init(LstmClassifier *m, const LstmClassifierConfig *cfg, Status *st);
/* The same with bidirectional = 1: nn.LSTM(bidirectional=True), fc = Linear(2H -> classes)
 * reading the final states of both directions, cat(out[:, -1, :H], out[:, 0, H:]) (PyTorch's
 * h_n[-2], h_n[-1]), or with pool_mean the mean of out over the steps. */
StatusCode lstm_classifier_init_dirs(LstmClassifier *m, const LstmClassifierConfig *cfg,
                                     int bidirectional, Status *st);
void lstm_classifier_free(LstmClassifier *m);
void lstm_classifier_init_params(LstmClassifier *m, Rng *rng);
StatusCode lstm_classifier_work_plan(const LstmClassifier *m, LstmClassifierWork *w, Arena *a,
                                     int T, int batch, Status *st);
/* x [B, T, F]; logits [B x classes] stay in w->logits. Returns the mean cross-entropy; with
 * train != 0 runs backward too (and applies dropout). labels may be NULL when train == 0
 * (returns 0). */
float lstm_classifier_step(LstmClassifier *m, LstmClassifierWork *w, const float *x,
                           const int *labels, int T, int B, int train);
/* A training step on inputs mixed from two sequences each (mixup, Zhang et al., ICLR 2018):
 * the loss lambda L(labels) + (1 - lambda) L(labels_mix), L the step's (smoothed)
 * cross-entropy, and its gradient. */
float lstm_classifier_step_mixed(LstmClassifier *m, LstmClassifierWork *w, const float *x,
                                 const int *labels, const int *labels_mix, float lambda, int T,
                                 int B);

typedef struct {
    int in, hidden, classes;
} MlpConfig;

typedef struct {
    MlpConfig cfg;
    size_t n_params;
    float *params, *grads;
    Linear fc1, fc2;
} Mlp;

typedef struct {
    int batch;
    float *h, *logits, *probs, *dlogits, *dh;
} MlpWork;

StatusCode mlp_init(Mlp *m, const MlpConfig *cfg, Status *st);
void mlp_free(Mlp *m);
void mlp_init_params(Mlp *m, Rng *rng);
StatusCode mlp_work_plan(const Mlp *m, MlpWork *w, Arena *a, int batch, Status *st);
float mlp_step(Mlp *m, MlpWork *w, const float *x, const int *labels, int B, int train);

/* ---------------------------------------------------------------- keypoint windows */

/* Keypoint frames of one file: n_frames rows of n_features coordinates (no person = zeros),
 * with the frame number and time of each row. */
typedef struct {
    int n_frames, n_features;
    float *x;       /* [n_frames x n_features] */
    int *frame;     /* [n_frames] */
    float *time_s;  /* [n_frames] (frame / 30 when the file has no time column) */
    int *seq;       /* [n_frames] sequence id (0 for a keypoints CSV); windows never cross one;
                     * negative: a piece of a longer sequence, never padded (windows_make) */
    unsigned char *present; /* [n_frames] 0 where nobody was in view (those rows stay zeros) */
} Keypoints;

/* Reads a keypoints CSV as `takt pose` writes it (frame,time_s,pose,x0,y0,z0,v0,...) keeping
 * x,y (and z unless xy_only), or a labelled CSV of ../shared/data (seq_id,frame,label,x0,y0
 * [,z0],...). Errors name the file, line and column. */
StatusCode keypoints_read(Keypoints *k, const char *path, int xy_only, Status *st);
/* n_frames rows of n_features, every array zeroed (callers fill what they need). */
StatusCode keypoints_alloc(Keypoints *k, int n_frames, int n_features, Status *st);
void keypoints_free(Keypoints *k);

/* The same files one frame at a time in constant memory (nn/keypoints_stream.c), for
 * recordings too long to hold. */
typedef struct KeypointsReader KeypointsReader;
typedef struct {
    int frame, seq;
    float time_s;
    unsigned char present;
} KeypointsFrame;

StatusCode keypoints_reader_open(KeypointsReader **r, const char *path, int xy_only,
                                 Status *st);
int keypoints_reader_features(const KeypointsReader *r);
/* The next frame into *f and x[features] (zeros without a person); *got = 0 at the end. */
StatusCode keypoints_reader_next(KeypointsReader *r, KeypointsFrame *f, float *x, int *got,
                                 Status *st);
void keypoints_reader_close(KeypointsReader *r);

/* Per-feature min-max scaling to [0, 1]; a constant feature maps to 0. Rows without a person
 * are neither fitted nor scaled: they stay zeros. */
typedef struct {
    int n;
    float *min, *max; /* owned, n each */
} MinMax;

/* Fits on rows [begin, end) of k. */
StatusCode minmax_fit(MinMax *s, const Keypoints *k, int begin, int end, Status *st);
/* The same fit in pieces, for frames that come in chunks: alloc, accumulate every chunk's rows
 * (seen starts at 0), finish. */
StatusCode minmax_alloc(MinMax *s, int n, Status *st);
void minmax_accumulate(MinMax *s, const Keypoints *k, int begin, int end, int *seen);
void minmax_finish(MinMax *s, int seen);
void minmax_apply(const MinMax *s, Keypoints *k);
/* out = k with x replaced by a scaled copy (the other arrays are k's, shared): free out->x
 * only. The caller's frames stay as read. */
StatusCode keypoints_scaled_copy(const Keypoints *k, const MinMax *s, Keypoints *out, Status *st);
void minmax_free(MinMax *s);

/* Start rows of windows of `len` frames every `stride` frames inside rows [begin, end) that
 * stay within one sequence id; a sequence shorter than len, wholly inside [begin, end), gets
 * one window at its first row, edge-padded (window_frames). *starts is malloc'ed; *count may
 * be 0. */
StatusCode windows_make(const Keypoints *k, int begin, int end, int len, int stride, int **starts,
                        int *count, Status *st);
/* Contiguous blocks: train [0, a), validation [a, b), test [b, n) with a = 70 %, b = 80 %. */
void split_70_10_20(int n, int *a, int *b);
/* Rows of the window at start that belong to its sequence: len, or fewer when the sequence
 * ends sooner; the window's later frames repeat its last row (edge padding). */
int window_frames(const Keypoints *k, int start, int len);
/* Copies windows starts[idx[0..B)] of len frames, edge-padded, into out [B, len, F]. */
void windows_gather(const Keypoints *k, const int *starts, const int *idx, int B, int len,
                    float *out);

/* ---------------------------------------------------------------- training (SeqAE) */

typedef struct {
    int epochs, batch, seq_len, stride, hidden, latent;
    int patience;   /* epochs without a better validation loss before stopping; 0 = never */
    float lr;
    float clip;     /* gradient-norm clipping; 0 = none */
    uint64_t seed;
    SeqAEDecoderInput decoder_input; /* the model's decoder (SeqAEConfig); 0 = REPEAT */
    int fixed_decoder;
} TrainConfig;

TrainConfig train_default_config(void); /* 30 epochs, batch 64, lr 3e-3, windows of 40, stride 1 */

/* Everything a checkpoint restores, so that a resumed run continues bit-identically. */
typedef struct {
    TrainConfig cfg;
    SeqAE model;
    Adam adam;
    float *adam_m, *adam_v;
    MinMax scale;        /* fitted on the training block of the data */
    int n_frames;        /* of the data trained on (a resume must use the same file) */
    Rng epoch_rng;       /* state before the current epoch's shuffle */
    int epoch;           /* current epoch (0-based) */
    int step;            /* steps of the current epoch already taken */
    double epoch_loss;   /* sum of this epoch's batch losses x batch sizes so far */
    float best_val;      /* best validation loss (INFINITY before the first) */
    int bad_epochs;      /* epochs since best_val improved */
    int finished;        /* 1 once all epochs ran or early stopping fired */
    int n_train, n_val;  /* windows in the training and validation blocks */
    float *best_params;  /* parameters at best_val */
    float *train_loss, *val_loss; /* per epoch, cfg.epochs each (NAN when not run) */
} TrainState;

/* Called after every step (step counts from 1) and at the end of every epoch (step = 0). */
typedef void (*TrainCallback)(void *user, const TrainState *s, int step, int steps, float loss);

typedef struct {
    const char *checkpoint;              /* written atomically after every epoch (or NULL) */
    const volatile sig_atomic_t *stop;   /* set by a signal handler: stop after this step */
    TrainCallback callback;
    void *user;
} TrainIo;

/* A fresh state: model initialised from cfg->seed, scaling fitted on the training block of k
 * (70 % of the frames). */
StatusCode train_state_new(TrainState *s, const TrainConfig *cfg, const Keypoints *k, Status *st);
/* The buffers of a state for cfg, nothing initialised (checkpoint_load fills them). */
StatusCode train_state_alloc(TrainState *s, const TrainConfig *cfg, int n_features, Status *st);
void train_state_free(TrainState *s);
/* Trains on k (unscaled; scaled on a copy with s->scale) from where s stands until the last
 * epoch, early stopping, or *io->stop; a checkpoint after every epoch and when stopped. On
 * return the model holds the best parameters when training finished. *stopped = 1 when
 * interrupted. */
StatusCode train_run(TrainState *s, const Keypoints *k, const TrainIo *io, int *stopped,
                     Status *st);

/* ---------------------------------------------------------------- deep embedded clustering */

/* DEC's clustering loss (nn/dec_loss.c; Xie et al., ICML 2016, alpha = 1), every buffer the
 * caller's: z [n x d] latent rows, mu [k x d] centres, q and p [n x k]. */
#define DEC_MAX_K 32
#define DEC_MAX_LATENT 256
/* q_ij = (1 + |z_i - mu_j|^2)^-1 / sum_j' (1 + |z_i - mu_j'|^2)^-1 (Student's t). */
void dec_soft_assign(const float *z, int n, int d, const float *mu, int k, float *q);
/* p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), f_j = sum_i q_ij; f: scratch of k. */
void dec_target(const float *q, int n, int k, double *f, float *p);
/* The cluster of a row of q (first on a tie). */
int dec_argmax(const float *q, int k);
/* KL(P || Q) = sum_j p_ij log(p_ij / q_ij), mean over the n rows (torch's kl_div(q.log(), p,
 * reduction='batchmean')), P constant. q gets the soft assignment of z; dz [n x d] is
 * overwritten with scale * d KL / d z, and scale * d KL / d mu is added to dmu [k x d]; either
 * may be NULL. k <= DEC_MAX_K, d <= DEC_MAX_LATENT. */
float dec_kl_loss(const float *z, int n, int d, const float *mu, int k, const float *p,
                  float scale, float *q, float *dz, float *dmu);

/* IDEC's fine-tuning of a trained SeqAE (nn/idec.c; Guo et al., IJCAI 2017): encoder, decoder
 * and centres trained together on MSE + gamma * KL(P || Q), P recomputed over every window
 * each update_interval steps, until fewer than tol of the windows change cluster between two
 * updates or max_steps. Adam with fresh moments for the model and the centres. */
typedef struct {
    int k;
    float gamma;         /* weight of the clustering loss: 0.1 (IDEC's) */
    int update_interval; /* optimiser steps between target updates: 140 (IDEC's on MNIST) */
    float tol;           /* share of windows changing cluster that stops: 0.001 */
    int max_steps;       /* optimiser steps at most: 1000 */
    int batch;           /* 64, as the autoencoder trains */
    float lr;            /* 1e-3 (IDEC's Adam) */
    uint64_t seed;       /* the order of the windows */
} IdecConfig;

IdecConfig idec_default_config(int k);

typedef struct {
    int steps, updates; /* optimiser steps and target updates run */
    float changed;      /* share of windows that changed cluster at the last update */
    float rec_loss, kl_loss; /* of the last step */
    int converged;      /* 1: stopped by tol, 0: by max_steps */
} IdecResult;

/* After every step and every target update. */
typedef void (*IdecCallback)(void *user, const IdecResult *r, const IdecConfig *c);

/* k holds scaled frames; starts[n] its windows (windows_make) of the model's length. centers
 * [c->k x latent]: in, the initial centres (k-means on the latent windows); out, refined.
 * Deterministic for the same seed and thread count. */
StatusCode idec_fit(SeqAE *m, const Keypoints *k, const int *starts, int n, const IdecConfig *c,
                    float *centers, IdecCallback cb, void *user, IdecResult *res, Status *st);

/* ---------------------------------------------------------------- model files */

/* The SeqAE with its scaling (and, for a checkpoint, the training state) as .tkw. Metadata:
 * "kind" = "takt.seqae", every hyperparameter, "n_features", and "normalise": what was done
 * to the frames before the min-max scaling, "minmax" (nothing) or "body" (body-centred, as
 * `takt study` does by default). */
StatusCode seqae_save(const SeqAE *m, const MinMax *scale, const char *normalise,
                      const char *path, Status *st);
/* The same model file with the training settings and outcome as provenance ("train.*": epochs
 * run, batch, lr, stride, patience, clip, seed, best validation loss); "normalise" = "minmax",
 * since train_run only min-max scales. */
StatusCode seqae_save_trained(const TrainState *s, const char *path, Status *st);
StatusCode seqae_load(SeqAE *m, MinMax *scale, const char *path, Status *st);
/* A model file's "normalise" into out ("minmax" for files written before the key existed). */
StatusCode seqae_normalisation(const char *path, char *out, size_t size, Status *st);
StatusCode checkpoint_save(const TrainState *s, const char *path, Status *st);
/* Restores a state saved by checkpoint_save (the config comes from the file). */
StatusCode checkpoint_load(TrainState *s, const char *path, Status *st);

#endif
