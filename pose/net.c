/* net — the graph executor behind pose.h's network API: reads a .tkw written by
 * `takt weights import-tflite` (graph syntax in io/tflite_import.c), checks every operator's
 * shapes, fuses a 1x1 convolution with the ADD that follows it (residual + activation in the
 * convolution's epilogue) and an explicit PAD with the convolution that reads it, leaves out
 * operators that only skipped outputs need, packs the 1x1 convolutions' weights for their
 * kernel (sparse when mostly zeros, as the detector's), plans all
 * activation memory once (tensors whose lifetimes do not overlap share bytes; first fit by
 * offset) and runs the operators in file order with the kernels of kernels.h. */
#include <limits.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../io/io.h"
#include "kernels.h"
#include "pose.h"

#define NET_MAX_IN 16
#define NET_MAX_OUTPUTS 16
#define NET_LINE_MAX 1024
#define NET_ALIGN_FLOATS 16 /* 64 bytes */

typedef enum {
    OP_CONV, OP_DWCONV, OP_ADD, OP_PAD, OP_MAXPOOL, OP_RESIZE, OP_D2S, OP_CONCAT, OP_RESHAPE,
    OP_LOGISTIC,
} OpKind;

/* Profile kinds: the operator kinds, with 1x1 convolutions apart from the others. */
#define PROFILE_POINTWISE (OP_LOGISTIC + 1)
_Static_assert(PROFILE_POINTWISE + 1 == POSENET_PROFILE_KINDS, "profile kinds out of step");

static const char *const op_keywords[] = {"conv",   "dwconv", "add",    "pad",     "maxpool",
                                          "resize", "d2s",    "concat", "reshape", "logistic"};

typedef struct {
    OpKind kind;
    int line;
    int n_in, in[NET_MAX_IN];
    int out;
    int residual; /* tensor added in the epilogue (a fused ADD), -1 when none */
    ConvGeom g;
    char wname[TKW_NAME_MAX], bname[TKW_NAME_MAX];
    float *w, *b;
    float *raw_w, *raw_b; /* as read from the file, until packed into the arena */
    int pointwise;        /* a 1x1 stride-1 conv or one over the whole input: runs on pw */
    PointwiseForm form;
    PointwiseWeights pw;
    int pads[6];
    int align, half, block, axis, relu6;
    int run;
    double prof_seconds; /* this operator's share of the profile */
} NetOp;

typedef struct {
    int ndim, shape[TENSOR_MAX_DIMS];
    size_t count;
    size_t offset; /* floats from the start of the activation block */
    float *data;
    int last_use;  /* index of the last operator reading it; INT_MAX for outputs */
    int planned;
} NetTensor;

struct PoseNet {
    char path[512];
    char kind[64];
    Arena arena;
    int n_tensors, n_ops;
    int cap_tensors, cap_ops; /* lines counted before parsing */
    NetTensor *t;
    NetOp *ops;
    int input;
    int n_outputs;
    int out_id[NET_MAX_OUTPUTS];
    int out_skipped[NET_MAX_OUTPUTS];
    char out_name[NET_MAX_OUTPUTS][64];
    Tensor out_view[NET_MAX_OUTPUTS];
    size_t act_floats;
    /* where the float16 1x1 panels are widened: wide_threads slices of wide_floats */
    float *wide;
    size_t wide_floats;
    int wide_threads;
    int profiling;
    double prof_seconds[POSENET_PROFILE_KINDS], prof_flops[POSENET_PROFILE_KINDS];
};

static StatusCode line_fail(const PoseNet *n, int line, Status *st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static StatusCode line_fail(const PoseNet *n, int line, Status *st, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return status_fail(st, TK_EFORMAT, "%s: graph line %d: %s", n->path, line, what);
}

/* ---------------------------------------------------------------- parsing */

typedef struct {
    int n;
    char *tok[2 * NET_MAX_IN];
} Tokens;

static void split(char *line, Tokens *tk)
{
    char *save = NULL;
    tk->n = 0;
    for (char *p = strtok_r(line, " ", &save); p && tk->n < (int)(sizeof tk->tok / sizeof *tk->tok);
         p = strtok_r(NULL, " ", &save))
        tk->tok[tk->n++] = p;
}

static const char *key_value(const Tokens *tk, const char *key)
{
    size_t len = strlen(key);
    for (int i = 1; i < tk->n; i++)
        if (!strncmp(tk->tok[i], key, len) && tk->tok[i][len] == '=')
            return tk->tok[i] + len + 1;
    return NULL;
}

/* Parses up to max integers separated by sep; returns the count, -1 if malformed. */
static int parse_ints(const char *s, char sep, int *out, int max)
{
    int n = 0;
    if (!s || !*s)
        return -1;
    for (;;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < INT_MIN / 2 || v > INT_MAX / 2 || n == max)
            return -1;
        out[n++] = (int)v;
        if (*end == '\0')
            return n;
        if (*end != sep)
            return -1;
        s = end + 1;
    }
}

static StatusCode ints_of(const PoseNet *n, int line, const Tokens *tk, const char *key,
                          char sep, int *out, int count, Status *st)
{
    int got = parse_ints(key_value(tk, key), sep, out, count);
    if (got != count)
        return line_fail(n, line, st, "'%s' needs %d value(s)", key, count);
    return TK_OK;
}

static StatusCode tensor_ref(const PoseNet *n, int line, int id, Status *st)
{
    if (id < 0 || id >= n->n_tensors)
        return line_fail(n, line, st, "tensor %d does not exist", id);
    return TK_OK;
}

static StatusCode parse_op(PoseNet *n, NetOp *op, int line, const Tokens *tk, Status *st)
{
    int kind = -1;
    for (int k = 0; k < (int)(sizeof op_keywords / sizeof *op_keywords); k++)
        if (!strcmp(tk->tok[0], op_keywords[k]))
            kind = k;
    if (kind < 0)
        return line_fail(n, line, st, "unknown operator '%.40s'", tk->tok[0]);
    op->kind = (OpKind)kind;
    op->line = line;
    op->residual = -1;
    op->n_in = parse_ints(key_value(tk, "in"), ',', op->in, NET_MAX_IN);
    int expect_in = kind == OP_ADD ? 2 : kind == OP_CONCAT ? -1 : 1;
    if (op->n_in < 1 || (expect_in > 0 && op->n_in != expect_in))
        return line_fail(n, line, st, "bad 'in' list");
    StatusCode rc = ints_of(n, line, tk, "out", ',', &op->out, 1, st);
    for (int k = 0; rc == TK_OK && k < op->n_in; k++)
        rc = tensor_ref(n, line, op->in[k], st);
    if (rc == TK_OK)
        rc = tensor_ref(n, line, op->out, st);
    if (rc != TK_OK)
        return rc;
    const char *act = key_value(tk, "act");
    if (act && strcmp(act, "none") && strcmp(act, "relu6"))
        return line_fail(n, line, st, "unknown activation '%.20s'", act);
    op->relu6 = act && !strcmp(act, "relu6");
    int k2[2];
    switch (op->kind) {
    case OP_CONV:
    case OP_DWCONV:
    case OP_MAXPOOL: {
        const char *w = key_value(tk, "w"), *b = key_value(tk, "b"), *pad = key_value(tk, "pad");
        if (op->kind != OP_MAXPOOL) {
            if (!w || !b || strlen(w) >= TKW_NAME_MAX || strlen(b) >= TKW_NAME_MAX)
                return line_fail(n, line, st, "missing or too long weight names");
            strcpy(op->wname, w);
            strcpy(op->bname, b);
        }
        if ((rc = ints_of(n, line, tk, "k", 'x', k2, 2, st)))
            return rc;
        op->g.kh = k2[0];
        op->g.kw = k2[1];
        if ((rc = ints_of(n, line, tk, "s", 'x', k2, 2, st)))
            return rc;
        op->g.sh = k2[0];
        op->g.sw = k2[1];
        if (op->g.kh < 1 || op->g.kw < 1 || op->g.sh < 1 || op->g.sw < 1 || op->g.kh > 64 ||
            op->g.kw > 64)
            return line_fail(n, line, st, "kernel %dx%d stride %dx%d", op->g.kh, op->g.kw,
                             op->g.sh, op->g.sw);
        if (!pad || (strcmp(pad, "same") && strcmp(pad, "valid")))
            return line_fail(n, line, st, "pad must be same or valid");
        op->align = !strcmp(pad, "same"); /* reused as "SAME padding" until geometry is set */
        return TK_OK;
    }
    case OP_PAD:
        rc = ints_of(n, line, tk, "p", ',', op->pads, 6, st);
        for (int k = 0; rc == TK_OK && k < 6; k++)
            if (op->pads[k] < 0 || op->pads[k] > 4096)
                rc = line_fail(n, line, st, "padding %d", op->pads[k]);
        return rc;
    case OP_RESIZE:
        if ((rc = ints_of(n, line, tk, "align", ',', &op->align, 1, st)) ||
            (rc = ints_of(n, line, tk, "half", ',', &op->half, 1, st)))
            return rc;
        return TK_OK;
    case OP_D2S:
        if ((rc = ints_of(n, line, tk, "block", ',', &op->block, 1, st)))
            return rc;
        return op->block < 1 || op->block > 64 ? line_fail(n, line, st, "block size") : TK_OK;
    case OP_CONCAT:
        return ints_of(n, line, tk, "axis", ',', &op->axis, 1, st);
    default:
        return TK_OK;
    }
}

static StatusCode parse_tensor(PoseNet *n, int line, const Tokens *tk, Status *st)
{
    int id, dims[TENSOR_MAX_DIMS];
    if (tk->n != 3 || parse_ints(tk->tok[1], ',', &id, 1) != 1 || id != n->n_tensors)
        return line_fail(n, line, st, "tensors must be declared as 'tensor ID DIMS' in order");
    int nd = parse_ints(tk->tok[2], 'x', dims, TENSOR_MAX_DIMS);
    if (nd < 1)
        return line_fail(n, line, st, "bad shape '%.40s'", tk->tok[2]);
    if (n->n_tensors == n->cap_tensors)
        return line_fail(n, line, st, "more tensors than 'tensor' lines");
    NetTensor *t = &n->t[n->n_tensors++];
    t->ndim = nd;
    t->count = 1;
    for (int d = 0; d < TENSOR_MAX_DIMS; d++) {
        t->shape[d] = d < nd ? dims[d] : 1;
        if (t->shape[d] < 1 || t->shape[d] > (1 << 16) || t->count > ((size_t)1 << 28))
            return line_fail(n, line, st, "shape '%.40s' out of range", tk->tok[2]);
        t->count *= (size_t)t->shape[d];
    }
    return TK_OK;
}

static StatusCode parse_graph(PoseNet *n, const char *graph, const char **skip, Status *st)
{
    int lines_tensor = 0, lines_op = 0;
    for (const char *p = graph; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= 7 && !strncmp(p, "tensor ", 7))
            lines_tensor++;
        else if (len > 0 && strncmp(p, "input ", 6) && strncmp(p, "output ", 7))
            lines_op++;
        p += len + (e != NULL);
    }
    n->t = calloc((size_t)lines_tensor + 1, sizeof *n->t);
    n->ops = calloc((size_t)lines_op + 1, sizeof *n->ops);
    n->cap_tensors = lines_tensor;
    n->cap_ops = lines_op;
    if (!n->t || !n->ops)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for the graph", n->path);
    n->input = -1;
    int line = 0;
    char buf[NET_LINE_MAX];
    for (const char *p = graph; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        line++;
        if (len >= sizeof buf)
            return line_fail(n, line, st, "line longer than %d characters", NET_LINE_MAX - 1);
        memcpy(buf, p, len);
        buf[len] = '\0';
        p += len + (e != NULL);
        Tokens tk;
        split(buf, &tk);
        if (tk.n == 0)
            continue;
        StatusCode rc = TK_OK;
        if (!strcmp(tk.tok[0], "tensor")) {
            rc = parse_tensor(n, line, &tk, st);
        } else if (!strcmp(tk.tok[0], "input") || !strcmp(tk.tok[0], "output")) {
            int id;
            if (tk.n != 3 || parse_ints(tk.tok[1], ',', &id, 1) != 1)
                return line_fail(n, line, st, "expected '%s ID NAME'", tk.tok[0]);
            if ((rc = tensor_ref(n, line, id, st)))
                return rc;
            if (tk.tok[0][0] == 'i') {
                n->input = id;
                continue;
            }
            if (n->n_outputs == NET_MAX_OUTPUTS || strlen(tk.tok[2]) >= sizeof n->out_name[0])
                return line_fail(n, line, st, "too many outputs or name too long");
            int k = n->n_outputs++;
            n->out_id[k] = id;
            strcpy(n->out_name[k], tk.tok[2]);
            for (const char **s = skip; s && *s; s++)
                n->out_skipped[k] |= !strcmp(*s, tk.tok[2]);
        } else if (n->n_ops == n->cap_ops) {
            return line_fail(n, line, st, "more operators than counted");
        } else {
            rc = parse_op(n, &n->ops[n->n_ops], line, &tk, st);
            n->n_ops += rc == TK_OK;
        }
        if (rc != TK_OK)
            return rc;
    }
    if (n->input < 0 || n->n_outputs == 0)
        return status_fail(st, TK_EFORMAT, "%s: graph without an input or outputs", n->path);
    return TK_OK;
}

/* ---------------------------------------------------------------- shape checks */

static int is_image(const NetTensor *t) { return t->ndim == 4 && t->shape[0] == 1; }

static StatusCode check_shape(const PoseNet *n, const NetOp *op, int h, int w, int c,
                              Status *st)
{
    const NetTensor *y = &n->t[op->out];
    if (!is_image(y) || y->shape[1] != h || y->shape[2] != w || y->shape[3] != c)
        return line_fail(n, op->line, st, "output tensor %d is not 1x%dx%dx%d", op->out, h, w, c);
    return TK_OK;
}

static StatusCode bind_weights(PoseNet *n, NetOp *op, const TkwFile *f, Status *st)
{
    const TkwTensor *w = tkw_find(f, op->wname), *b = tkw_find(f, op->bname);
    int dw = op->kind == OP_DWCONV;
    if (!w || !b)
        return line_fail(n, op->line, st, "weights '%s' or '%s' not in the file", op->wname,
                         op->bname);
    int want_nd = dw ? 3 : 4;
    int want[4] = {op->g.kh, op->g.kw, op->g.ic, op->g.oc};
    int ok = w->ndim == want_nd && b->ndim == 1 && b->shape[0] == op->g.oc;
    for (int d = 0; d < want_nd && ok; d++)
        ok = w->shape[d] == want[d];
    if (!ok)
        return line_fail(n, op->line, st, "weights '%s' do not have the shape %dx%dx%d%s%d",
                         op->wname, op->g.kh, op->g.kw, op->g.ic, dw ? "" : "x",
                         dw ? 0 : op->g.oc);
    return TK_OK;
}

static StatusCode check_op(PoseNet *n, NetOp *op, const TkwFile *f, Status *st)
{
    const NetTensor *x = &n->t[op->in[0]], *y = &n->t[op->out];
    switch (op->kind) {
    case OP_CONV:
    case OP_DWCONV:
    case OP_MAXPOOL: {
        if (!is_image(x))
            return line_fail(n, op->line, st, "input is not a 1xHxWxC image");
        int same = op->align;
        op->align = 0;
        op->g.ih = x->shape[1];
        op->g.iw = x->shape[2];
        op->g.ic = x->shape[3];
        op->g.relu6 = op->relu6;
        conv_geom_padding(&op->g, same);
        op->g.oc = op->kind == OP_CONV ? y->shape[3] : op->g.ic;
        if (op->g.oh < 1 || op->g.ow < 1)
            return line_fail(n, op->line, st, "kernel larger than the input");
        StatusCode rc = check_shape(n, op, op->g.oh, op->g.ow, op->g.oc, st);
        return rc != TK_OK || op->kind == OP_MAXPOOL ? rc : bind_weights(n, op, f, st);
    }
    case OP_ADD: {
        const NetTensor *b = &n->t[op->in[1]];
        if (x->ndim != b->ndim || x->ndim != y->ndim ||
            memcmp(x->shape, b->shape, sizeof x->shape) ||
            memcmp(x->shape, y->shape, sizeof x->shape))
            return line_fail(n, op->line, st, "add of tensors of different shapes");
        return TK_OK;
    }
    case OP_PAD:
        if (!is_image(x))
            return line_fail(n, op->line, st, "input is not a 1xHxWxC image");
        return check_shape(n, op, x->shape[1] + op->pads[0] + op->pads[1],
                           x->shape[2] + op->pads[2] + op->pads[3],
                           x->shape[3] + op->pads[4] + op->pads[5], st);
    case OP_RESIZE:
        if (!is_image(x) || !is_image(y) || y->shape[3] != x->shape[3])
            return line_fail(n, op->line, st, "resize needs images with the same channels");
        return TK_OK;
    case OP_D2S: {
        int b = op->block;
        if (!is_image(x) || x->shape[3] % (b * b))
            return line_fail(n, op->line, st, "depth-to-space of %d channels by %d",
                             x->shape[3], b);
        return check_shape(n, op, x->shape[1] * b, x->shape[2] * b, x->shape[3] / (b * b), st);
    }
    case OP_CONCAT: {
        if (op->axis < 0 || op->axis >= y->ndim)
            return line_fail(n, op->line, st, "axis %d", op->axis);
        int sum = 0;
        for (int k = 0; k < op->n_in; k++) {
            const NetTensor *xi = &n->t[op->in[k]];
            if (xi->ndim != y->ndim)
                return line_fail(n, op->line, st, "inputs of different ranks");
            for (int d = 0; d < y->ndim; d++)
                if (d != op->axis && xi->shape[d] != y->shape[d])
                    return line_fail(n, op->line, st, "input %d does not match along dim %d",
                                     k, d);
            sum += xi->shape[op->axis];
        }
        return sum == y->shape[op->axis] ? TK_OK
                                         : line_fail(n, op->line, st, "sizes do not add up");
    }
    default: /* RESHAPE, LOGISTIC */
        return x->count == y->count ? TK_OK
                                    : line_fail(n, op->line, st, "element counts differ");
    }
}

/* ---------------------------------------------------------------- planning */

/* Marks the operators the wanted outputs depend on; fuses conv + add pairs. */
static StatusCode select_ops(PoseNet *n, Status *st)
{
    int *needed = calloc((size_t)n->n_tensors, sizeof *needed);
    int *producer = malloc((size_t)n->n_tensors * sizeof *producer);
    int *readers = calloc((size_t)n->n_tensors, sizeof *readers);
    if (!needed || !producer || !readers) {
        free(needed);
        free(producer);
        free(readers);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", n->path);
    }
    StatusCode rc = TK_OK;
    for (int i = 0; i < n->n_tensors; i++)
        producer[i] = -1;
    for (int i = 0; i < n->n_ops && rc == TK_OK; i++) {
        NetOp *op = &n->ops[i];
        for (int k = 0; k < op->n_in && rc == TK_OK; k++)
            if (op->in[k] != n->input && (producer[op->in[k]] < 0 || op->in[k] == op->out))
                rc = line_fail(n, op->line, st, "input tensor %d is not computed before",
                               op->in[k]);
        if (rc == TK_OK && (producer[op->out] >= 0 || op->out == n->input))
            rc = line_fail(n, op->line, st, "tensor %d is written twice", op->out);
        producer[op->out] = i;
    }
    for (int k = 0; k < n->n_outputs && rc == TK_OK; k++) {
        if (producer[n->out_id[k]] < 0)
            rc = status_fail(st, TK_EFORMAT, "%s: output '%s' is not computed", n->path,
                             n->out_name[k]);
        needed[n->out_id[k]] |= !n->out_skipped[k];
    }
    for (int i = n->n_ops - 1; i >= 0 && rc == TK_OK; i--) {
        NetOp *op = &n->ops[i];
        op->run = needed[op->out];
        for (int k = 0; op->run && k < op->n_in; k++) {
            needed[op->in[k]] = 1;
            readers[op->in[k]]++;
        }
    }
    for (int k = 0; k < n->n_outputs; k++)
        readers[n->out_id[k]] += 1 + n->n_ops; /* never fused away */
    /* conv (no activation) or resize whose only reader is the very next operator, an ADD:
     * the ADD becomes its epilogue, its other input already exists when the conv or resize
     * runs. */
    for (int i = 0; i + 1 < n->n_ops && rc == TK_OK; i++) {
        NetOp *c = &n->ops[i], *a = &n->ops[i + 1];
        if (!c->run || !a->run || (c->kind != OP_CONV && c->kind != OP_RESIZE) || c->relu6 ||
            a->kind != OP_ADD ||
            readers[c->out] != 1 || (a->in[0] == c->out) == (a->in[1] == c->out))
            continue;
        c->residual = a->in[0] == c->out ? a->in[1] : a->in[0];
        c->relu6 = c->g.relu6 = a->relu6;
        c->out = a->out;
        a->run = 0;
    }
    /* A spatial PAD read only by a VALID conv or depthwise conv becomes that conv's padding:
     * the kernels treat taps outside the image as zeros, so the padded copy is not needed. */
    for (int i = 0; i < n->n_ops && rc == TK_OK; i++) {
        NetOp *c = &n->ops[i];
        if (!c->run || (c->kind != OP_CONV && c->kind != OP_DWCONV) || c->g.pad_top ||
            c->g.pad_left || producer[c->in[0]] < 0)
            continue;
        NetOp *p = &n->ops[producer[c->in[0]]];
        if (p->kind != OP_PAD || !p->run || readers[p->out] != 1 || p->pads[4] || p->pads[5])
            continue;
        const NetTensor *x = &n->t[p->in[0]];
        c->in[0] = p->in[0];
        c->g.ih = x->shape[1];
        c->g.iw = x->shape[2];
        c->g.pad_top = p->pads[0];
        c->g.pad_left = p->pads[2];
        p->run = 0;
    }
    free(needed);
    free(producer);
    free(readers);
    return rc;
}

typedef struct {
    size_t offset, size;
    int tensor;
} Block;

/* First fit by offset among the blocks live at this point. */
static size_t place(Block *live, int *n_live, int tensor, size_t size, size_t *high)
{
    size_t at = 0;
    int pos = 0;
    for (; pos < *n_live; pos++) {
        if (live[pos].offset >= at + size)
            break;
        size_t end = live[pos].offset + live[pos].size;
        at = end > at ? end : at;
    }
    memmove(live + pos + 1, live + pos, (size_t)(*n_live - pos) * sizeof *live);
    live[pos] = (Block){at, size, tensor};
    (*n_live)++;
    if (at + size > *high)
        *high = at + size;
    return at;
}

static void release(Block *live, int *n_live, int tensor)
{
    for (int i = 0; i < *n_live; i++)
        if (live[i].tensor == tensor) {
            memmove(live + i, live + i + 1, (size_t)(*n_live - i - 1) * sizeof *live);
            (*n_live)--;
            return;
        }
}

static void op_inputs(const NetOp *op, int *ids, int *count)
{
    *count = 0;
    for (int k = 0; k < op->n_in; k++)
        ids[(*count)++] = op->in[k];
    if (op->residual >= 0)
        ids[(*count)++] = op->residual;
}

static StatusCode plan_activations(PoseNet *n, Status *st)
{
    for (int i = 0; i < n->n_tensors; i++)
        n->t[i].last_use = -1;
    int ids[NET_MAX_IN + 1], cnt;
    for (int i = 0; i < n->n_ops; i++)
        if (n->ops[i].run) {
            op_inputs(&n->ops[i], ids, &cnt);
            for (int k = 0; k < cnt; k++)
                n->t[ids[k]].last_use = i;
        }
    for (int k = 0; k < n->n_outputs; k++)
        n->t[n->out_id[k]].last_use = INT_MAX;
    Block *live = malloc(((size_t)n->n_tensors + 1) * sizeof *live);
    if (!live)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", n->path);
    int n_live = 0;
    size_t high = 0;
#define ROUND_FLOATS(c) (((c) + NET_ALIGN_FLOATS - 1) / NET_ALIGN_FLOATS * NET_ALIGN_FLOATS)
    NetTensor *in = &n->t[n->input];
    in->offset = place(live, &n_live, n->input, ROUND_FLOATS(in->count), &high);
    in->planned = 1;
    for (int i = 0; i < n->n_ops; i++) {
        NetOp *op = &n->ops[i];
        if (!op->run)
            continue;
        NetTensor *y = &n->t[op->out];
        y->offset = place(live, &n_live, op->out, ROUND_FLOATS(y->count), &high);
        y->planned = 1;
        op_inputs(op, ids, &cnt);
        for (int k = 0; k < cnt; k++)
            if (n->t[ids[k]].last_use == i && ids[k] != n->input)
                release(live, &n_live, ids[k]);
    }
#undef ROUND_FLOATS
    free(live);
    n->act_floats = high;
    return TK_OK;
}

static size_t weight_count(const NetOp *op)
{
    return (size_t)op->g.kh * op->g.kw * op->g.ic * (op->kind == OP_CONV ? op->g.oc : 1);
}

static int is_1x1(const ConvGeom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && !g->pad_top &&
           !g->pad_left && g->oh == g->ih && g->ow == g->iw;
}

/* A window over the whole input (the landmark heads: 2x2 VALID on a 2x2 map) is the same
 * product as a 1x1 convolution of one pixel with kh * kw * ic input channels: the weights
 * [kh][kw][ic][oc] are already that matrix. */
static int covers_input(const ConvGeom *g)
{
    return g->kh == g->ih && g->kw == g->iw && !g->pad_top && !g->pad_left && g->oh == 1 &&
           g->ow == 1;
}

static int pointwise_k(const NetOp *op) { return op->g.kh * op->g.kw * op->g.ic; }

/* Reads the convolutions' weights into temporary buffers: the packed size of a 1x1
 * convolution depends on its zeros, so they are read before the arena is measured. */
static StatusCode read_weights(PoseNet *n, const TkwFile *f, Status *st)
{
    for (int i = 0; i < n->n_ops; i++) {
        NetOp *op = &n->ops[i];
        if (!op->run || (op->kind != OP_CONV && op->kind != OP_DWCONV))
            continue;
        size_t wcount = weight_count(op);
        op->raw_w = malloc(wcount * sizeof *op->raw_w);
        op->raw_b = malloc((size_t)op->g.oc * sizeof *op->raw_b);
        if (!op->raw_w || !op->raw_b)
            return status_fail(st, TK_ENOMEM, "%s: out of memory for the weights", n->path);
        StatusCode rc = tkw_read_f32(f, op->wname, op->raw_w, wcount, st);
        if (rc == TK_OK)
            rc = tkw_read_f32(f, op->bname, op->raw_b, (size_t)op->g.oc, st);
        if (rc != TK_OK)
            return rc;
        op->pointwise = op->kind == OP_CONV && (is_1x1(&op->g) || covers_input(&op->g));
        if (!op->pointwise)
            continue;
        const int K = pointwise_k(op), N = op->g.oc;
        if (pointwise_prefers_sparse(op->raw_w, K, N))
            op->form = POINTWISE_SPARSE;
        else if (pointwise_fits_half(op->raw_w, (size_t)K * N))
            op->form = POINTWISE_HALF;
        else
            op->form = POINTWISE_DENSE;
        if (op->form == POINTWISE_HALF && POINTWISE_WIDE_FLOATS(K) > n->wide_floats)
            n->wide_floats = POINTWISE_WIDE_FLOATS(K);
    }
    return TK_OK;
}

static void free_raw_weights(PoseNet *n)
{
    for (int i = 0; i < n->n_ops; i++) {
        free(n->ops[i].raw_w);
        free(n->ops[i].raw_b);
        n->ops[i].raw_w = n->ops[i].raw_b = NULL;
    }
}

/* The same sequence of arena requests twice: on a measuring arena to learn the size, then
 * on the real one, where the weights are copied in (1x1 convolutions packed). */
static void carve(PoseNet *n, Arena *a, float **act)
{
    for (int i = 0; i < n->n_ops; i++) {
        NetOp *op = &n->ops[i];
        if (!op->run || (op->kind != OP_CONV && op->kind != OP_DWCONV))
            continue;
        if (op->pointwise) {
            const int K = pointwise_k(op);
            void *mem = arena_alloc(a, pointwise_pack_bytes(op->raw_w, K, op->g.oc, op->form));
            if (mem)
                pointwise_pack(&op->pw, mem, op->raw_w, op->raw_b, K, op->g.oc, op->form);
            continue;
        }
        size_t wcount = weight_count(op);
        op->w = arena_floats(a, wcount);
        op->b = arena_floats(a, (size_t)op->g.oc);
        if (op->w && op->b) {
            memcpy(op->w, op->raw_w, wcount * sizeof *op->w);
            memcpy(op->b, op->raw_b, (size_t)op->g.oc * sizeof *op->b);
        }
    }
    n->wide = n->wide_floats ? arena_floats(a, n->wide_floats * (size_t)n->wide_threads) : NULL;
    *act = arena_floats(a, n->act_floats ? n->act_floats : 1);
}

/* The processors, at most 64: a run with more threads widens on that many. */
static int scratch_threads(void)
{
    int t = omp_get_num_procs() > omp_get_max_threads() ? omp_get_num_procs()
                                                         : omp_get_max_threads();
    return t < 1 ? 1 : t > 64 ? 64 : t;
}

/* ---------------------------------------------------------------- API */

StatusCode posenet_load_ex(PoseNet **out, const char *tkw_path, const char *const *skip_outputs,
                           Status *st)
{
    *out = NULL;
    PoseNet *n = calloc(1, sizeof *n);
    if (!n)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", tkw_path);
    snprintf(n->path, sizeof n->path, "%s", tkw_path);
    TkwFile f;
    StatusCode rc = tkw_open(&f, tkw_path, st);
    if (rc != TK_OK) {
        free(n);
        return rc;
    }
    const char *graph = tkw_meta(&f, "graph"), *kind = tkw_meta(&f, "kind");
    if (!graph)
        rc = status_fail(st, TK_EFORMAT, "%s: no 'graph' metadata (not a converted model)",
                         tkw_path);
    snprintf(n->kind, sizeof n->kind, "%s", kind ? kind : "");
    if (rc == TK_OK)
        rc = parse_graph(n, graph, (const char **)skip_outputs, st);
    if (rc == TK_OK && !is_image(&n->t[n->input]))
        rc = status_fail(st, TK_EFORMAT, "%s: the input is not a 1xHxWxC image", tkw_path);
    for (int i = 0; rc == TK_OK && i < n->n_ops; i++)
        rc = check_op(n, &n->ops[i], &f, st);
    if (rc == TK_OK)
        rc = select_ops(n, st);
    if (rc == TK_OK)
        rc = plan_activations(n, st);
    n->wide_threads = scratch_threads();
    if (rc == TK_OK)
        rc = read_weights(n, &f, st);
    tkw_close(&f);
    float *act = NULL;
    if (rc == TK_OK) {
        Arena measure;
        arena_init_measure(&measure);
        carve(n, &measure, &act);
        rc = arena_init(&n->arena, measure.peak, st);
    }
    if (rc == TK_OK)
        carve(n, &n->arena, &act);
    free_raw_weights(n);
    if (rc != TK_OK) {
        posenet_free(n);
        return rc;
    }
    for (int i = 0; i < n->n_tensors; i++)
        n->t[i].data = n->t[i].planned ? act + n->t[i].offset : NULL;
    for (int k = 0; k < n->n_outputs; k++) {
        NetTensor *t = &n->t[n->out_id[k]];
        n->out_view[k] = tensor_view(t->data, t->ndim, t->shape);
    }
    *out = n;
    return TK_OK;
}

StatusCode posenet_load(PoseNet **net, const char *tkw_path, Status *st)
{
    return posenet_load_ex(net, tkw_path, NULL, st);
}

void posenet_free(PoseNet *n)
{
    if (!n)
        return;
    arena_free(&n->arena);
    free(n->t);
    free(n->ops);
    free(n);
}

void posenet_input_shape(const PoseNet *n, int *h, int *w, int *c)
{
    const NetTensor *t = &n->t[n->input];
    *h = t->shape[1];
    *w = t->shape[2];
    *c = t->shape[3];
}

float *posenet_input(PoseNet *n) { return n->t[n->input].data; }

const char *posenet_kind(const PoseNet *n) { return n->kind; }

const Tensor *posenet_output(const PoseNet *n, const char *name)
{
    for (int k = 0; k < n->n_outputs; k++)
        if (!strcmp(n->out_name[k], name))
            return n->out_skipped[k] ? NULL : &n->out_view[k];
    return NULL;
}

/* Added for `takt classify --features backbone` (app/cmd_classify.c). Followed back through
 * the head's RESHAPE / LOGISTIC to the first other operator; that operator's first input is
 * the map. Its memory is released after its last reader, so it is handed out only when no
 * operator running later writes over it. */
StatusCode posenet_head_input(const PoseNet *n, const char *output, Tensor *view, Status *st)
{
    int id = -1, last_reader = -1;
    for (int k = 0; k < n->n_outputs; k++)
        if (!strcmp(n->out_name[k], output) && !n->out_skipped[k])
            id = n->out_id[k];
    for (int i = n->n_ops - 1; i >= 0 && id >= 0; i--) {
        const NetOp *op = &n->ops[i];
        if (!op->run || op->out != id)
            continue;
        id = op->in[0];
        last_reader = i;
        if (op->kind != OP_RESHAPE && op->kind != OP_LOGISTIC)
            break;
    }
    if (id < 0 || last_reader < 0)
        return status_fail(st, TK_EINVAL, "%s: no output '%s' to follow back", n->path, output);
    const NetTensor *t = &n->t[id];
    for (int i = last_reader + 1; i < n->n_ops; i++) {
        const NetTensor *y = &n->t[n->ops[i].out];
        if (n->ops[i].run && y->offset < t->offset + t->count && t->offset < y->offset + y->count)
            return status_fail(st, TK_EINVAL, "%s: the input of '%s' is overwritten later in "
                                              "the run", n->path, output);
    }
    *view = tensor_view(t->data, t->ndim, t->shape);
    return TK_OK;
}

size_t posenet_memory(const PoseNet *n, size_t *activation_bytes)
{
    if (activation_bytes)
        *activation_bytes = n->act_floats * sizeof(float);
    return n->arena.capacity;
}


static void run_op(const PoseNet *n, const NetOp *op, SimdLevel level)
{
    const NetTensor *x = &n->t[op->in[0]], *y = &n->t[op->out];
    const float *res = op->residual >= 0 ? n->t[op->residual].data : NULL;
    switch (op->kind) {
    case OP_CONV:
        if (op->pointwise)
            pointwise_conv(level, &op->g, x->data, &op->pw, res, y->data, n->wide,
                           n->wide_threads);
        else
            conv2d(level, &op->g, x->data, op->w, op->b, res, y->data);
        break;
    case OP_DWCONV:
        dwconv(level, &op->g, x->data, op->w, op->b, y->data);
        break;
    case OP_ADD:
        add(level, x->data, n->t[op->in[1]].data, y->data, y->count, op->relu6);
        break;
    case OP_PAD:
        pad(x->data, x->shape[1], x->shape[2], x->shape[3], op->pads, y->data);
        break;
    case OP_MAXPOOL:
        maxpool(&op->g, x->data, y->data);
        break;
    case OP_RESIZE:
        resize_bilinear(level, x->data, x->shape[1], x->shape[2], x->shape[3], y->data,
                        y->shape[1], y->shape[2], op->align, op->half, res, op->relu6);
        break;
    case OP_D2S:
        depth_to_space(x->data, x->shape[1], x->shape[2], x->shape[3], op->block, y->data);
        break;
    case OP_CONCAT: {
        const float *ins[NET_MAX_IN];
        size_t inner[NET_MAX_IN], outer = 1;
        for (int d = 0; d < op->axis; d++)
            outer *= (size_t)y->shape[d];
        for (int k = 0; k < op->n_in; k++) {
            const NetTensor *xi = &n->t[op->in[k]];
            ins[k] = xi->data;
            inner[k] = xi->count / outer;
        }
        concat(ins, inner, op->n_in, outer, y->data);
        break;
    }
    case OP_RESHAPE:
        memcpy(y->data, x->data, y->count * sizeof(float));
        break;
    case OP_LOGISTIC:
        logistic(x->data, y->data, y->count);
        break;
    }
}

static double op_flops(const NetOp *op)
{
    if (op->kind != OP_CONV && op->kind != OP_DWCONV)
        return 0;
    return 2.0 * op->g.oh * op->g.ow * op->g.oc * op->g.kh * op->g.kw *
           (op->kind == OP_CONV ? op->g.ic : 1);
}

double posenet_flops(const PoseNet *n)
{
    double flops = 0;
    for (int i = 0; i < n->n_ops; i++)
        flops += n->ops[i].run ? op_flops(&n->ops[i]) : 0;
    return flops;
}

StatusCode posenet_run(PoseNet *n, Status *st)
{
    (void)st;
    SimdLevel level = simd_active();
    for (int i = 0; i < n->n_ops; i++) {
        const NetOp *op = &n->ops[i];
        if (!op->run)
            continue;
        if (!n->profiling) {
            run_op(n, op, level);
            continue;
        }
        double start = time_now();
        run_op(n, op, level);
        int kind = op->pointwise && is_1x1(&op->g) ? PROFILE_POINTWISE : (int)op->kind;
        const double seconds = time_now() - start;
        n->prof_seconds[kind] += seconds;
        n->prof_flops[kind] += op_flops(op);
        n->ops[i].prof_seconds += seconds;
    }
    return TK_OK;
}

void posenet_profile(PoseNet *n, int on)
{
    n->profiling = on;
    memset(n->prof_seconds, 0, sizeof n->prof_seconds);
    memset(n->prof_flops, 0, sizeof n->prof_flops);
    for (int i = 0; i < n->n_ops; i++)
        n->ops[i].prof_seconds = 0;
}

int posenet_profile_get(const PoseNet *n, PoseNetProfile *out)
{
    int count = 0;
    for (int k = 0; k < POSENET_PROFILE_KINDS; k++) {
        if (n->prof_seconds[k] <= 0)
            continue;
        out[count].name = k == PROFILE_POINTWISE ? "conv1x1" : op_keywords[k];
        out[count].seconds = n->prof_seconds[k];
        out[count].flops = n->prof_flops[k];
        count++;
    }
    return count;
}

int posenet_profile_layers(const PoseNet *n, PoseNetLayerProfile *out, int max)
{
    int count = 0;
    for (int i = 0; i < n->n_ops; i++) {
        const NetOp *op = &n->ops[i];
        if (!op->run)
            continue;
        if (out && count < max) {
            const NetTensor *x = &n->t[op->in[0]], *y = &n->t[op->out];
            const int conv = op->kind == OP_CONV || op->kind == OP_DWCONV;
            PoseNetLayerProfile *l = &out[count];
            l->name = op->pointwise && is_1x1(&op->g) ? "conv1x1" : op_keywords[op->kind];
            l->line = op->line;
            l->in_shape[0] = x->ndim == 4 ? x->shape[1] : 1;
            l->in_shape[1] = x->ndim == 4 ? x->shape[2] : 1;
            l->in_shape[2] = x->ndim >= 1 ? x->shape[x->ndim - 1] : 1;
            l->out_shape[0] = y->ndim == 4 ? y->shape[1] : 1;
            l->out_shape[1] = y->ndim == 4 ? y->shape[2] : 1;
            l->out_shape[2] = y->ndim >= 1 ? y->shape[y->ndim - 1] : 1;
            l->kernel = conv ? op->g.kh : 0;
            l->stride = conv ? op->g.sh : 0;
            l->sparse = op->pointwise && op->form == POINTWISE_SPARSE;
            l->residual = op->residual >= 0;
            l->seconds = op->prof_seconds;
            l->flops = op_flops(op);
        }
        count++;
    }
    return count;
}
