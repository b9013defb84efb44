/* tflite_import — turns a parsed TFLite model into a .tkw file that pose/net.c runs on its
 * own: constant weights are resolved (DENSIFY, then DEQUANTIZE of float16), permuted into the
 * layouts the kernels read, and the remaining operators are written as a small text graph in
 * the metadata key "graph", one line per entry:
 *
 *   tensor ID DIMS                  an activation, e.g. "tensor 3 1x112x112x24" (1 to 4 dims)
 *   input ID NAME                   the network input (TFLite name)
 *   output ID NAME                  a network output, in the TFLite subgraph's order
 *   conv in=ID out=ID w=NAME b=NAME k=KHxKW s=SHxSW pad=same|valid act=none|relu6
 *   dwconv (same keys)              depthwise, depth multiplier 1
 *   add in=ID,ID out=ID act=none|relu6
 *   pad in=ID out=ID p=TOP,BOTTOM,LEFT,RIGHT,CBEFORE,CAFTER
 *   maxpool in=ID out=ID k=KHxKW s=SHxSW pad=same|valid
 *   resize in=ID out=ID align=0|1 half=0|1
 *   d2s in=ID out=ID block=N
 *   concat in=ID,ID,... out=ID axis=N
 *   reshape in=ID out=ID
 *   logistic in=ID out=ID
 *
 * Weight layouts: CONV_2D [O,KH,KW,I] becomes "opN.w" [KH,KW,I,O] (output channels
 * contiguous, so a 1x1 conv is a plain [I,O] GEMM operand); DEPTHWISE [1,KH,KW,C] becomes
 * [KH,KW,C]; biases "opN.b" [O]. N is the TFLite operator index. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

#define IMPORT_VERSION "takt-import-tflite 1"

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} TextBuf;

static void text_add(TextBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(TextBuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}

typedef struct {
    const TfliteModel *m;
    const char *file;
    float **value;   /* per TFLite tensor: resolved constant contents, or NULL */
    int *act;        /* per TFLite tensor: our activation id, or -1 */
    int n_act;
    TextBuf graph;
    TkwWriter *w;
    Dtype dtype;
} Import;

static size_t tensor_count_of(const TfliteTensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

static StatusCode op_fail(const Import *im, int index, Status *st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static StatusCode op_fail(const Import *im, int index, Status *st, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return status_fail(st, TK_EUNSUPPORTED, "%s: operator %d (%s): %s", im->file, index,
                       tflite_op_name(im->m->ops[index].builtin), what);
}

/* The float contents of a dense FLOAT16/FLOAT32 constant, converted once. */
static StatusCode constant_of(Import *im, int ti, int index, Status *st)
{
    if (im->value[ti])
        return TK_OK;
    const TfliteTensor *t = &im->m->tensors[ti];
    size_t n = tensor_count_of(t);
    size_t elem = t->type == TFL_FLOAT16 ? 2 : t->type == TFL_FLOAT32 ? 4 : 0;
    if (!t->data || t->has_sparsity || !elem)
        return op_fail(im, index, st, "input tensor %d '%s' is not a float constant", ti,
                       t->name);
    if (t->bytes != n * elem)
        return status_fail(st, TK_EFORMAT, "%s: tensor %d '%s': %zu bytes of data for %zu "
                           "elements", im->file, ti, t->name, t->bytes, n);
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for tensor '%s'", im->file, t->name);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = t->data + i * elem;
        if (elem == 2) {
            v[i] = f16_to_f32((uint16_t)(p[0] | p[1] << 8));
        } else {
            uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[3] << 24;
            memcpy(&v[i], &bits, 4);
        }
    }
    im->value[ti] = v;
    return TK_OK;
}

static StatusCode resolve_densify(Import *im, int index, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    if (op->n_in != 1 || op->n_out != 1 || op->in[0] < 0 || op->out[0] < 0)
        return op_fail(im, index, st, "expects one input and one output");
    const TfliteTensor *t = &im->m->tensors[op->in[0]];
    size_t elem = t->type == TFL_FLOAT16 ? 2 : t->type == TFL_FLOAT32 ? 4 : 0;
    if (!elem || !t->has_sparsity)
        return op_fail(im, index, st, "input '%s' is not a sparse float constant", t->name);
    size_t n = tensor_count_of(t);
    if (tensor_count_of(&im->m->tensors[op->out[0]]) != n)
        return op_fail(im, index, st, "output size differs from the input's");
    unsigned char *raw = malloc(n * elem + 1);
    float *v = malloc((n + 1) * sizeof *v);
    StatusCode rc = raw && v ? tflite_densify(im->m, op->in[0], raw, elem, n, st)
                             : status_fail(st, TK_ENOMEM, "%s: out of memory", im->file);
    if (rc == TK_OK)
        for (size_t i = 0; i < n; i++) {
            const unsigned char *p = raw + i * elem;
            if (elem == 2) {
                v[i] = f16_to_f32((uint16_t)(p[0] | p[1] << 8));
            } else {
                uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                (uint32_t)p[3] << 24;
                memcpy(&v[i], &bits, 4);
            }
        }
    free(raw);
    if (rc != TK_OK) {
        free(v);
        return rc;
    }
    free(im->value[op->out[0]]);
    im->value[op->out[0]] = v;
    return TK_OK;
}

/* DEQUANTIZE of a float16 constant is a conversion the importer has already done. */
static StatusCode resolve_dequantize(Import *im, int index, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    if (op->n_in != 1 || op->n_out != 1 || op->in[0] < 0 || op->out[0] < 0)
        return op_fail(im, index, st, "expects one input and one output");
    int in = op->in[0], out = op->out[0];
    if (im->m->tensors[in].type != TFL_FLOAT16 || im->m->tensors[out].type != TFL_FLOAT32)
        return op_fail(im, index, st, "only float16 -> float32 is supported");
    if (!im->value[in]) {
        StatusCode rc = constant_of(im, in, index, st);
        if (rc != TK_OK)
            return rc;
    }
    size_t n = tensor_count_of(&im->m->tensors[in]);
    if (tensor_count_of(&im->m->tensors[out]) != n)
        return op_fail(im, index, st, "output size differs from the input's");
    float *v = malloc((n + 1) * sizeof *v);
    if (!v)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", im->file);
    memcpy(v, im->value[in], n * sizeof *v);
    free(im->value[out]);
    im->value[out] = v;
    return TK_OK;
}

static void dims_text(const TfliteTensor *t, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < t->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? "x%d" : "%d", t->shape[d]);
}

static StatusCode activation_in(Import *im, int index, int k, int *id, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    if (k >= op->n_in || op->in[k] < 0 || im->act[op->in[k]] < 0)
        return op_fail(im, index, st, "input %d is not an activation computed earlier", k);
    *id = im->act[op->in[k]];
    return TK_OK;
}

static StatusCode activation_out(Import *im, int index, int *id, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    if (op->n_out != 1 || op->out[0] < 0)
        return op_fail(im, index, st, "expects exactly one output");
    const TfliteTensor *t = &im->m->tensors[op->out[0]];
    if (t->type != TFL_FLOAT32 || t->ndim < 1 || t->ndim > TENSOR_MAX_DIMS || t->data)
        return op_fail(im, index, st, "output '%s' is not a float32 activation of 1 to 4 dims",
                       t->name);
    if (im->act[op->out[0]] >= 0)
        return op_fail(im, index, st, "output '%s' is written twice", t->name);
    *id = im->act[op->out[0]] = im->n_act++;
    char dims[96];
    dims_text(t, dims, sizeof dims);
    text_add(&im->graph, "tensor %d %s\n", *id, dims);
    return TK_OK;
}

static const TfliteTensor *act_tensor(const Import *im, int index, int k)
{
    return &im->m->tensors[im->m->ops[index].in[k]];
}

static StatusCode add_weight(Import *im, const char *name, int ndim, const int *shape,
                             const float *data, Status *st)
{
    return tkw_writer_tensor(im->w, name, im->dtype, ndim, shape, data, st);
}

static const char *act_name(int act) { return act == TFL_ACT_RELU6 ? "relu6" : "none"; }

static StatusCode check_activation(const Import *im, int index, Status *st)
{
    int act = im->m->ops[index].activation;
    if (act != TFL_ACT_NONE && act != TFL_ACT_RELU6)
        return op_fail(im, index, st, "fused activation %d (only NONE and RELU6)", act);
    return TK_OK;
}

static StatusCode emit_conv(Import *im, int index, int depthwise, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    int in, out;
    StatusCode rc;
    if ((rc = activation_in(im, index, 0, &in, st)) || op->n_in < 2 || op->in[1] < 0)
        return rc ? rc : op_fail(im, index, st, "missing weights");
    const TfliteTensor *x = act_tensor(im, index, 0), *wt = &im->m->tensors[op->in[1]];
    if ((rc = activation_out(im, index, &out, st)) || (rc = check_activation(im, index, st)))
        return rc;
    const TfliteTensor *y = &im->m->tensors[op->out[0]];
    if (!im->value[op->in[1]] && (rc = constant_of(im, op->in[1], index, st)))
        return rc;
    if (op->stride_w < 1 || op->stride_h < 1 || op->dilation_w != 1 || op->dilation_h != 1 ||
        (op->padding != TFL_PAD_SAME && op->padding != TFL_PAD_VALID))
        return op_fail(im, index, st, "stride %dx%d, dilation %dx%d, padding %d (need stride >= "
                       "1, dilation 1, SAME or VALID)", op->stride_h, op->stride_w,
                       op->dilation_h, op->dilation_w, op->padding);
    if (x->ndim != 4 || y->ndim != 4 || wt->ndim != 4 || x->shape[0] != 1 || y->shape[0] != 1)
        return op_fail(im, index, st, "input, output and weights must be 4-D with batch 1");
    int oc = wt->shape[0], kh = wt->shape[1], kw = wt->shape[2], ic = wt->shape[3];
    if (depthwise) {
        if (op->depth_multiplier != 1 || oc != 1 || ic != x->shape[3] || ic != y->shape[3])
            return op_fail(im, index, st, "depthwise weights %dx%dx%dx%d for %d -> %d channels "
                           "(need depth multiplier 1)", oc, kh, kw, ic, x->shape[3], y->shape[3]);
        oc = ic;
    } else if (ic != x->shape[3] || oc != y->shape[3]) {
        return op_fail(im, index, st, "weights %dx%dx%dx%d for %d -> %d channels", oc, kh, kw,
                       ic, x->shape[3], y->shape[3]);
    }
    if (kh < 1 || kw < 1)
        return op_fail(im, index, st, "empty kernel");
    float *bias = calloc((size_t)oc, sizeof *bias);
    float *perm = malloc((size_t)kh * kw * ic * oc * sizeof *perm);
    if (!bias || !perm) {
        free(bias);
        free(perm);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", im->file);
    }
    const float *w = im->value[op->in[1]];
    if (depthwise) {
        memcpy(perm, w, (size_t)kh * kw * ic * sizeof *perm);
    } else {
        for (int o = 0; o < oc; o++)
            for (int r = 0; r < kh * kw; r++)
                for (int i = 0; i < ic; i++)
                    perm[((size_t)r * ic + i) * oc + o] = w[((size_t)o * kh * kw + r) * ic + i];
    }
    if (op->n_in > 2 && op->in[2] >= 0) {
        if (tensor_count_of(&im->m->tensors[op->in[2]]) != (size_t)oc)
            rc = op_fail(im, index, st, "bias has %zu values for %d channels",
                         tensor_count_of(&im->m->tensors[op->in[2]]), oc);
        else if (!(rc = constant_of(im, op->in[2], index, st)))
            memcpy(bias, im->value[op->in[2]], (size_t)oc * sizeof *bias);
    }
    char wname[TKW_NAME_MAX], bname[TKW_NAME_MAX];
    snprintf(wname, sizeof wname, "op%d.w", index);
    snprintf(bname, sizeof bname, "op%d.b", index);
    int wshape4[4] = {kh, kw, ic, oc}, wshape3[3] = {kh, kw, ic}, bshape[1] = {oc};
    if (rc == TK_OK)
        rc = depthwise ? add_weight(im, wname, 3, wshape3, perm, st)
                       : add_weight(im, wname, 4, wshape4, perm, st);
    if (rc == TK_OK)
        rc = add_weight(im, bname, 1, bshape, bias, st);
    free(bias);
    free(perm);
    if (rc == TK_OK)
        text_add(&im->graph, "%s in=%d out=%d w=%s b=%s k=%dx%d s=%dx%d pad=%s act=%s\n",
                 depthwise ? "dwconv" : "conv", in, out, wname, bname, kh, kw, op->stride_h,
                 op->stride_w, op->padding == TFL_PAD_SAME ? "same" : "valid",
                 act_name(op->activation));
    return rc;
}

static int same_shape(const TfliteTensor *a, const TfliteTensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

static StatusCode emit_pad(Import *im, int index, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    int in, out;
    StatusCode rc;
    if ((rc = activation_in(im, index, 0, &in, st)) || (rc = activation_out(im, index, &out, st)))
        return rc;
    const TfliteTensor *x = act_tensor(im, index, 0);
    const TfliteTensor *p = op->n_in > 1 && op->in[1] >= 0 ? &im->m->tensors[op->in[1]] : NULL;
    if (x->ndim != 4 || !p || p->type != TFL_INT32 || !p->data || p->bytes != 32)
        return op_fail(im, index, st, "needs a 4-D input and a constant int32 [4,2] padding");
    int pads[8];
    for (int i = 0; i < 8; i++) {
        const unsigned char *q = p->data + 4 * i;
        pads[i] = (int32_t)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                            (uint32_t)q[3] << 24);
    }
    for (int i = 0; i < 8; i++)
        if (pads[i] < 0 || pads[i] > 4096 || (i < 2 && pads[i] != 0))
            return op_fail(im, index, st, "padding %d of dim %d is not supported", pads[i], i / 2);
    text_add(&im->graph, "pad in=%d out=%d p=%d,%d,%d,%d,%d,%d\n", in, out, pads[2], pads[3],
             pads[4], pads[5], pads[6], pads[7]);
    return TK_OK;
}

static StatusCode emit_simple(Import *im, int index, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    int in, in2 = -1, out;
    StatusCode rc;
    if ((rc = activation_in(im, index, 0, &in, st)))
        return rc;
    if (op->builtin == TFL_OP_ADD && (rc = activation_in(im, index, 1, &in2, st)))
        return rc;
    if ((rc = activation_out(im, index, &out, st)))
        return rc;
    const TfliteTensor *x = act_tensor(im, index, 0), *y = &im->m->tensors[op->out[0]];
    switch (op->builtin) {
    case TFL_OP_ADD:
        if ((rc = check_activation(im, index, st)))
            return rc;
        if (!same_shape(x, act_tensor(im, index, 1)) || !same_shape(x, y))
            return op_fail(im, index, st, "broadcasting is not supported");
        text_add(&im->graph, "add in=%d,%d out=%d act=%s\n", in, in2, out,
                 act_name(op->activation));
        return TK_OK;
    case TFL_OP_MAX_POOL_2D:
        if (op->activation != TFL_ACT_NONE || op->stride_w < 1 || op->stride_h < 1 ||
            op->filter_w < 1 || op->filter_h < 1 || x->ndim != 4 || y->ndim != 4 ||
            (op->padding != TFL_PAD_SAME && op->padding != TFL_PAD_VALID))
            return op_fail(im, index, st, "unsupported options");
        text_add(&im->graph, "maxpool in=%d out=%d k=%dx%d s=%dx%d pad=%s\n", in, out,
                 op->filter_h, op->filter_w, op->stride_h, op->stride_w,
                 op->padding == TFL_PAD_SAME ? "same" : "valid");
        return TK_OK;
    case TFL_OP_RESIZE_BILINEAR:
        if (x->ndim != 4 || y->ndim != 4)
            return op_fail(im, index, st, "needs 4-D tensors");
        text_add(&im->graph, "resize in=%d out=%d align=%d half=%d\n", in, out,
                 op->align_corners != 0, op->half_pixel_centers != 0);
        return TK_OK;
    case TFL_OP_DEPTH_TO_SPACE:
        if (op->block_size < 1 || x->ndim != 4 || y->ndim != 4)
            return op_fail(im, index, st, "block size %d", op->block_size);
        text_add(&im->graph, "d2s in=%d out=%d block=%d\n", in, out, op->block_size);
        return TK_OK;
    case TFL_OP_RESHAPE:
        if (tensor_count_of(x) != tensor_count_of(y))
            return op_fail(im, index, st, "element counts differ");
        text_add(&im->graph, "reshape in=%d out=%d\n", in, out);
        return TK_OK;
    default: /* LOGISTIC */
        text_add(&im->graph, "logistic in=%d out=%d\n", in, out);
        return TK_OK;
    }
}

static StatusCode emit_concat(Import *im, int index, Status *st)
{
    const TfliteOp *op = &im->m->ops[index];
    int ids[TFL_MAX_OP_IO], out;
    StatusCode rc;
    if (op->n_in < 1)
        return op_fail(im, index, st, "no inputs");
    for (int k = 0; k < op->n_in; k++)
        if ((rc = activation_in(im, index, k, &ids[k], st)))
            return rc;
    if ((rc = activation_out(im, index, &out, st)))
        return rc;
    const TfliteTensor *y = &im->m->tensors[op->out[0]];
    int axis = op->axis < 0 ? op->axis + y->ndim : op->axis;
    if (axis < 0 || axis >= y->ndim || op->activation != TFL_ACT_NONE)
        return op_fail(im, index, st, "axis %d, activation %d", op->axis, op->activation);
    text_add(&im->graph, "concat in=");
    for (int k = 0; k < op->n_in; k++)
        text_add(&im->graph, k ? ",%d" : "%d", ids[k]);
    text_add(&im->graph, " out=%d axis=%d\n", out, axis);
    return TK_OK;
}

static int name_is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

static StatusCode convert(Import *im, Status *st)
{
    const TfliteModel *m = im->m;
    if (m->n_inputs != 1 || m->n_outputs < 1)
        return status_fail(st, TK_EUNSUPPORTED, "%s: %d inputs, %d outputs (need one input)",
                           im->file, m->n_inputs, m->n_outputs);
    const TfliteTensor *x = &m->tensors[m->inputs[0]];
    if (x->type != TFL_FLOAT32 || x->ndim != 4 || x->shape[0] != 1 || !name_is_token(x->name))
        return status_fail(st, TK_EUNSUPPORTED, "%s: input '%s' is not a float32 NHWC image "
                           "with batch 1", im->file, x->name);
    char dims[96];
    dims_text(x, dims, sizeof dims);
    im->act[m->inputs[0]] = im->n_act++;
    text_add(&im->graph, "tensor 0 %s\ninput 0 %s\n", dims, x->name);
    for (int i = 0; i < m->n_ops; i++) {
        StatusCode rc;
        switch (m->ops[i].builtin) {
        case TFL_OP_DENSIFY: rc = resolve_densify(im, i, st); break;
        case TFL_OP_DEQUANTIZE: rc = resolve_dequantize(im, i, st); break;
        case TFL_OP_CONV_2D: rc = emit_conv(im, i, 0, st); break;
        case TFL_OP_DEPTHWISE_CONV_2D: rc = emit_conv(im, i, 1, st); break;
        case TFL_OP_PAD: rc = emit_pad(im, i, st); break;
        case TFL_OP_CONCATENATION: rc = emit_concat(im, i, st); break;
        case TFL_OP_ADD:
        case TFL_OP_MAX_POOL_2D:
        case TFL_OP_RESIZE_BILINEAR:
        case TFL_OP_DEPTH_TO_SPACE:
        case TFL_OP_RESHAPE:
        case TFL_OP_LOGISTIC: rc = emit_simple(im, i, st); break;
        default:
            rc = status_fail(st, TK_EUNSUPPORTED, "%s: operator %d: %s is not supported",
                             im->file, i, tflite_op_name(m->ops[i].builtin));
        }
        if (rc != TK_OK)
            return rc;
    }
    for (int k = 0; k < m->n_outputs; k++) {
        int t = m->outputs[k];
        if (t < 0 || im->act[t] < 0 || !name_is_token(m->tensors[t].name))
            return status_fail(st, TK_EUNSUPPORTED, "%s: output %d is not computed by the "
                               "graph or has no plain name", im->file, k);
        text_add(&im->graph, "output %d %s\n", im->act[t], m->tensors[t].name);
    }
    return im->graph.oom ? status_fail(st, TK_ENOMEM, "%s: out of memory", im->file) : TK_OK;
}

static const char *model_kind(const char *base)
{
    if (strstr(base, "pose_detection"))
        return "blazepose_detector";
    if (strstr(base, "pose_landmark_lite"))
        return "blazepose_landmark_lite";
    if (strstr(base, "pose_landmark_full"))
        return "blazepose_landmark_full";
    if (strstr(base, "pose_landmark_heavy"))
        return "blazepose_landmark_heavy";
    return "tflite";
}

static StatusCode write_metadata(Import *im, const char *base, const char *sha, Status *st)
{
    const TfliteModel *m = im->m;
    char dims[96], version[16];
    TextBuf outputs = {0};
    for (int k = 0; k < m->n_outputs; k++)
        text_add(&outputs, k ? ",%s" : "%s", m->tensors[m->outputs[k]].name);
    if (outputs.oom)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", im->file);
    dims_text(&m->tensors[m->inputs[0]], dims, sizeof dims);
    snprintf(version, sizeof version, "%d", m->version);
    const char *kv[][2] = {
        {"kind", model_kind(base)},
        {"source", base},
        {"source_sha256", sha},
        {"source_format", "tflite"},
        {"tflite_schema_version", version},
        {"converter", IMPORT_VERSION " (takt " TAKT_VERSION ")"},
        {"weights_dtype", im->dtype == DTYPE_F16 ? "f16" : "f32"},
        {"input_name", m->tensors[m->inputs[0]].name},
        {"input_shape", dims},
        {"outputs", outputs.s},
        {"graph", im->graph.s},
    };
    StatusCode rc = TK_OK;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && rc == TK_OK; i++)
        rc = tkw_writer_meta(im->w, kv[i][0], kv[i][1], st);
    free(outputs.s);
    return rc;
}

static StatusCode read_whole(const char *path, unsigned char **bytes, size_t *size, Status *st)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    StatusCode rc = TK_OK;
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        n = ftell(fp);
    if (n < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        rc = status_fail(st, TK_EIO, "%s: cannot find the size", path);
    } else if (!(*bytes = malloc((size_t)n + 1))) {
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory for %ld bytes", path, n);
    } else if (fread(*bytes, 1, (size_t)n, fp) != (size_t)n) {
        rc = status_fail(st, TK_EIO, "%s: read error", path);
        free(*bytes);
        *bytes = NULL;
    }
    *size = n < 0 ? 0 : (size_t)n;
    fclose(fp);
    return rc;
}

StatusCode tflite_import(const char *in_path, const char *out_path, Dtype weight_dtype,
                         Status *st)
{
    unsigned char *bytes = NULL;
    size_t size = 0;
    StatusCode rc = read_whole(in_path, &bytes, &size, st);
    if (rc != TK_OK)
        return rc;
    const char *base = strrchr(in_path, '/');
    base = base ? base + 1 : in_path;
    char sha[65];
    sha256_hex(bytes, size, sha);
    TfliteModel m;
    if ((rc = tflite_parse(&m, bytes, size, in_path, st)) != TK_OK) {
        free(bytes);
        return rc;
    }
    Import im = {.m = &m, .file = in_path, .dtype = weight_dtype};
    im.value = calloc((size_t)m.n_tensors + 1, sizeof *im.value);
    im.act = malloc(((size_t)m.n_tensors + 1) * sizeof *im.act);
    if (!im.value || !im.act)
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory", in_path);
    for (int i = 0; rc == TK_OK && i < m.n_tensors; i++)
        im.act[i] = -1;
    if (rc == TK_OK)
        rc = tkw_writer_new(&im.w, st);
    if (rc == TK_OK)
        rc = convert(&im, st);
    if (rc == TK_OK)
        rc = write_metadata(&im, base, sha, st);
    if (rc == TK_OK)
        rc = tkw_writer_save(im.w, out_path, st);
    if (im.w)
        tkw_writer_free(im.w);
    for (int i = 0; im.value && i < m.n_tensors; i++)
        free(im.value[i]);
    free(im.value);
    free(im.act);
    free(im.graph.s);
    tflite_free(&m);
    free(bytes);
    return rc;
}
