/* tflite — a bounds-checked reader of the TFLite flatbuffer format, written from the public
 * schema (tensorflow/lite/schema/schema.fbs) and the FlatBuffers binary format description
 * (flatbuffers.dev, "Internals"): a root uoffset, tables reached through a signed offset to
 * their vtable, vtable entries 4 + 2*field_id bytes in, sub-objects by unsigned offsets
 * relative to the field, vectors and strings prefixed by a 32-bit length.
 *
 * The reader assumes nothing about the file: each position is checked against the buffer
 * before it is read, the first failure is kept with the byte offset it happened at, and
 * everything after it is skipped. Only little-endian reads, byte by byte. */
#include <stdlib.h>
#include <string.h>

#include "io.h"

/* Field ids (order of declaration in schema.fbs). */
enum { MODEL_VERSION = 0, MODEL_OPERATOR_CODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { OPCODE_DEPRECATED_BUILTIN = 0, OPCODE_CUSTOM = 1, OPCODE_BUILTIN = 3 };
enum { SUBGRAPH_TENSORS = 0, SUBGRAPH_INPUTS = 1, SUBGRAPH_OUTPUTS = 2, SUBGRAPH_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_NAME = 3,
       TENSOR_SPARSITY = 6 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1, BUFFER_SIZE = 2 };
enum { OPERATOR_OPCODE = 0, OPERATOR_INPUTS = 1, OPERATOR_OUTPUTS = 2,
       OPERATOR_OPTIONS_TYPE = 3, OPERATOR_OPTIONS = 4 };
enum { SPARSITY_ORDER = 0, SPARSITY_BLOCK_MAP = 1, SPARSITY_DIM_METADATA = 2 };
enum { DIMMETA_FORMAT = 0, DIMMETA_DENSE_SIZE = 1, DIMMETA_SEGMENTS_TYPE = 2,
       DIMMETA_SEGMENTS = 3, DIMMETA_INDICES_TYPE = 4, DIMMETA_INDICES = 5 };

/* BuiltinOptions union member ids of the options tables decoded here. */
enum { OPT_CONV2D = 1, OPT_DEPTHWISE = 2, OPT_POOL2D = 5, OPT_CONCATENATION = 10, OPT_ADD = 11,
       OPT_RESIZE_BILINEAR = 15, OPT_RESHAPE = 17 };

#define TFL_CUSTOM 32

typedef struct {
    const unsigned char *b;
    size_t n;
    const char *name;
    Status *st;
    StatusCode code; /* TK_OK until the first failure */
} Fb;

typedef struct {
    size_t pos, vt;
    unsigned vt_size, size;
} FbTable;

static int fb_fail(Fb *f, StatusCode code, size_t at, const char *what)
{
    if (f->code == TK_OK) {
        f->code = code;
        status_fail(f->st, code, "%s: byte offset %zu: %s", f->name, at, what);
    }
    return 0;
}

static int fb_has(const Fb *f, size_t pos, size_t len) { return pos <= f->n && len <= f->n - pos; }

static uint32_t rd16(const Fb *f, size_t p)
{
    return (uint32_t)f->b[p] | (uint32_t)f->b[p + 1] << 8;
}

static uint32_t rd32(const Fb *f, size_t p)
{
    return (uint32_t)f->b[p] | (uint32_t)f->b[p + 1] << 8 | (uint32_t)f->b[p + 2] << 16 |
           (uint32_t)f->b[p + 3] << 24;
}

static uint64_t rd64(const Fb *f, size_t p) { return rd32(f, p) | (uint64_t)rd32(f, p + 4) << 32; }

static int fb_table_at(Fb *f, size_t pos, FbTable *t, const char *what)
{
    if (f->code != TK_OK)
        return 0;
    if (!fb_has(f, pos, 4))
        return fb_fail(f, TK_EFORMAT, pos, what);
    int64_t vt = (int64_t)pos - (int32_t)rd32(f, pos);
    if (vt < 0 || !fb_has(f, (size_t)vt, 4))
        return fb_fail(f, TK_EFORMAT, pos, "vtable outside the file");
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_size = rd16(f, t->vt);
    t->size = rd16(f, t->vt + 2);
    if (t->vt_size < 4 || (t->vt_size & 1) || !fb_has(f, t->vt, t->vt_size))
        return fb_fail(f, TK_EFORMAT, t->vt, "bad vtable size");
    if (t->size < 4 || !fb_has(f, pos, t->size))
        return fb_fail(f, TK_EFORMAT, pos, "table runs past the end of the file");
    return 1;
}

/* Position of a field of `width` bytes, or 0 when absent (a table's field is never at 0). */
static size_t fb_field(Fb *f, const FbTable *t, int id, unsigned width)
{
    if (f->code != TK_OK)
        return 0;
    unsigned entry = 4 + 2 * (unsigned)id;
    if (entry + 2 > t->vt_size)
        return 0;
    unsigned off = rd16(f, t->vt + entry);
    if (off == 0)
        return 0;
    if (off < 4 || off + width > t->size) {
        fb_fail(f, TK_EFORMAT, t->vt + entry, "field outside its table");
        return 0;
    }
    return t->pos + off;
}

static int64_t fb_int(Fb *f, const FbTable *t, int id, unsigned width, int is_signed,
                      int64_t dflt)
{
    size_t p = fb_field(f, t, id, width);
    if (!p)
        return dflt;
    switch (width) {
    case 1: return is_signed ? (int64_t)(int8_t)f->b[p] : (int64_t)f->b[p];
    case 2: return is_signed ? (int64_t)(int16_t)rd16(f, p) : (int64_t)rd16(f, p);
    case 4: return is_signed ? (int64_t)(int32_t)rd32(f, p) : (int64_t)rd32(f, p);
    default: return (int64_t)rd64(f, p);
    }
}

/* Follows the uoffset stored at field `id`; 0 when absent. */
static size_t fb_ref(Fb *f, const FbTable *t, int id)
{
    size_t p = fb_field(f, t, id, 4);
    if (!p)
        return 0;
    uint64_t target = (uint64_t)p + rd32(f, p);
    if (!fb_has(f, (size_t)target, 4) || target > f->n) {
        fb_fail(f, TK_EFORMAT, p, "offset points outside the file");
        return 0;
    }
    return (size_t)target;
}

/* A vector of `elem`-byte items: *start = first item; returns 0 when absent. */
static int fb_vector_at(Fb *f, size_t at, size_t elem, size_t *start, uint32_t *len)
{
    uint32_t n = rd32(f, at);
    if ((uint64_t)n * elem > f->n - at - 4)
        return fb_fail(f, TK_EFORMAT, at, "vector runs past the end of the file");
    *start = at + 4;
    *len = n;
    return 1;
}

static int fb_vector(Fb *f, const FbTable *t, int id, size_t elem, size_t *start, uint32_t *len)
{
    *start = 0;
    *len = 0;
    size_t at = fb_ref(f, t, id);
    return at ? fb_vector_at(f, at, elem, start, len) : 0;
}

/* Element i of a vector of tables. */
static int fb_vector_table(Fb *f, size_t start, uint32_t i, FbTable *t, const char *what)
{
    size_t p = start + 4 * (size_t)i;
    uint64_t target = (uint64_t)p + rd32(f, p);
    if (target >= f->n)
        return fb_fail(f, TK_EFORMAT, p, "offset points outside the file");
    return fb_table_at(f, (size_t)target, t, what);
}

static const char *fb_string(Fb *f, const FbTable *t, int id)
{
    size_t start;
    uint32_t len;
    if (!fb_vector(f, t, id, 1, &start, &len))
        return NULL;
    if (start + len >= f->n || f->b[start + len] != '\0') {
        fb_fail(f, TK_EFORMAT, start, "string without its terminating NUL");
        return NULL;
    }
    return (const char *)f->b + start;
}

/* Reads a vector of int32 into out[max]; returns the count, -1 on failure. */
static int fb_int_vector(Fb *f, const FbTable *t, int id, int *out, int max, const char *what)
{
    size_t start;
    uint32_t len;
    if (!fb_vector(f, t, id, 4, &start, &len))
        return f->code == TK_OK ? 0 : -1;
    if (len > (uint32_t)max) {
        fb_fail(f, TK_EUNSUPPORTED, start - 4, what);
        return -1;
    }
    for (uint32_t i = 0; i < len; i++)
        out[i] = (int32_t)rd32(f, start + 4 * (size_t)i);
    return (int)len;
}

const char *tflite_op_name(int builtin)
{
    switch (builtin) {
    case TFL_OP_ADD: return "ADD";
    case TFL_OP_CONCATENATION: return "CONCATENATION";
    case TFL_OP_CONV_2D: return "CONV_2D";
    case TFL_OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case TFL_OP_DEPTH_TO_SPACE: return "DEPTH_TO_SPACE";
    case TFL_OP_DEQUANTIZE: return "DEQUANTIZE";
    case TFL_OP_LOGISTIC: return "LOGISTIC";
    case TFL_OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case TFL_OP_RESHAPE: return "RESHAPE";
    case TFL_OP_RESIZE_BILINEAR: return "RESIZE_BILINEAR";
    case TFL_OP_PAD: return "PAD";
    case TFL_OP_DENSIFY: return "DENSIFY";
    case TFL_CUSTOM: return "CUSTOM";
    default: {
        static _Thread_local char buf[32];
        snprintf(buf, sizeof buf, "BUILTIN_%d", builtin);
        return buf;
    }
    }
}

typedef struct {
    const unsigned char *data;
    size_t bytes;
} BufferRef;

static int read_buffers(Fb *f, const FbTable *model, BufferRef **out, int *count)
{
    size_t start;
    uint32_t len;
    *out = NULL;
    *count = 0;
    if (!fb_vector(f, model, MODEL_BUFFERS, 4, &start, &len))
        return f->code == TK_OK;
    BufferRef *bufs = calloc(len ? len : 1, sizeof *bufs);
    if (!bufs)
        return fb_fail(f, TK_ENOMEM, start, "out of memory for the buffer table");
    for (uint32_t i = 0; i < len && f->code == TK_OK; i++) {
        FbTable t;
        if (!fb_vector_table(f, start, i, &t, "buffer table outside the file"))
            break;
        size_t dstart;
        uint32_t dlen;
        if (fb_vector(f, &t, BUFFER_DATA, 1, &dstart, &dlen)) {
            bufs[i].data = f->b + dstart;
            bufs[i].bytes = dlen;
        } else {
            /* Models beyond 2 GB keep data after the flatbuffer: offset from the file start. */
            uint64_t off = (uint64_t)fb_int(f, &t, BUFFER_OFFSET, 8, 0, 0);
            uint64_t size = (uint64_t)fb_int(f, &t, BUFFER_SIZE, 8, 0, 0);
            if (off > 1 && size > 0) {
                if (off > f->n || size > f->n - off) {
                    fb_fail(f, TK_EFORMAT, t.pos, "buffer data outside the file");
                    break;
                }
                bufs[i].data = f->b + off;
                bufs[i].bytes = (size_t)size;
            }
        }
    }
    *out = bufs;
    *count = (int)len;
    return f->code == TK_OK;
}

static int read_sparse_vector(Fb *f, const FbTable *dim, int type_id, int table_id, int *type,
                              const unsigned char **values, int *n)
{
    *type = (int)fb_int(f, dim, type_id, 1, 0, 0);
    size_t at = fb_ref(f, dim, table_id);
    if (f->code != TK_OK)
        return 0;
    if (!at)
        return fb_fail(f, TK_EFORMAT, dim->pos, "sparse dimension without its index vector");
    size_t elem = *type == 1 ? 4 : *type == 2 ? 2 : *type == 3 ? 1 : 0;
    if (!elem)
        return fb_fail(f, TK_EFORMAT, dim->pos, "unknown sparse index vector type");
    FbTable vec;
    if (!fb_table_at(f, at, &vec, "sparse index table outside the file"))
        return 0;
    size_t start;
    uint32_t len;
    if (!fb_vector(f, &vec, 0, elem, &start, &len))
        return f->code == TK_OK ? fb_fail(f, TK_EFORMAT, at, "sparse index vector missing") : 0;
    *values = f->b + start;
    *n = (int)len;
    return 1;
}

static int read_sparsity(Fb *f, size_t at, TfliteSparsity *sp)
{
    FbTable t;
    if (!fb_table_at(f, at, &t, "sparsity table outside the file"))
        return 0;
    sp->n_order = fb_int_vector(f, &t, SPARSITY_ORDER, sp->order, TFL_MAX_DIMS,
                                "sparsity with more than 8 traversal dimensions");
    sp->n_block = fb_int_vector(f, &t, SPARSITY_BLOCK_MAP, sp->block_map, TFL_MAX_DIMS,
                                "sparsity with more than 8 block dimensions");
    size_t start;
    uint32_t len;
    if (!fb_vector(f, &t, SPARSITY_DIM_METADATA, 4, &start, &len) || f->code != TK_OK)
        return fb_fail(f, TK_EFORMAT, at, "sparsity without dimension metadata");
    if (len > TFL_MAX_DIMS)
        return fb_fail(f, TK_EUNSUPPORTED, start, "sparsity with more than 8 dimensions");
    sp->n_dims = (int)len;
    for (uint32_t i = 0; i < len; i++) {
        FbTable dim;
        if (!fb_vector_table(f, start, i, &dim, "dimension metadata outside the file"))
            return 0;
        TfliteDimMeta *d = &sp->dims[i];
        d->sparse = (int)fb_int(f, &dim, DIMMETA_FORMAT, 1, 1, 0);
        d->dense_size = (int)fb_int(f, &dim, DIMMETA_DENSE_SIZE, 4, 1, 0);
        if (d->sparse != 0 && d->sparse != 1)
            return fb_fail(f, TK_EFORMAT, dim.pos, "unknown dimension format");
        if (d->sparse &&
            (!read_sparse_vector(f, &dim, DIMMETA_SEGMENTS_TYPE, DIMMETA_SEGMENTS,
                                 &d->segments_type, &d->segments, &d->n_segments) ||
             !read_sparse_vector(f, &dim, DIMMETA_INDICES_TYPE, DIMMETA_INDICES,
                                 &d->indices_type, &d->indices, &d->n_indices)))
            return 0;
    }
    return f->code == TK_OK;
}

static int read_tensor(Fb *f, size_t start, uint32_t i, const BufferRef *bufs, int n_bufs,
                       TfliteTensor *t)
{
    FbTable tt;
    if (!fb_vector_table(f, start, i, &tt, "tensor table outside the file"))
        return 0;
    t->ndim = fb_int_vector(f, &tt, TENSOR_SHAPE, t->shape, TFL_MAX_DIMS,
                            "tensor with more than 8 dimensions");
    /* Element counts stay below 2^31, so that no product of dimensions overflows later. */
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0)
            return fb_fail(f, TK_EFORMAT, tt.pos, "tensor with a negative dimension");
        count *= (uint64_t)t->shape[d];
        if (count > INT32_MAX)
            return fb_fail(f, TK_EUNSUPPORTED, tt.pos, "tensor with 2^31 or more elements");
    }
    t->type = (int)fb_int(f, &tt, TENSOR_TYPE, 1, 1, 0);
    int64_t buffer = fb_int(f, &tt, TENSOR_BUFFER, 4, 0, 0);
    t->name = fb_string(f, &tt, TENSOR_NAME);
    if (!t->name)
        t->name = "";
    if (f->code != TK_OK)
        return 0;
    if (buffer >= n_bufs && !(buffer == 0 && n_bufs == 0))
        return fb_fail(f, TK_EFORMAT, tt.pos, "tensor refers to a buffer that does not exist");
    if (buffer < n_bufs && bufs[buffer].bytes > 0) {
        t->data = bufs[buffer].data;
        t->bytes = bufs[buffer].bytes;
    }
    size_t sp = fb_ref(f, &tt, TENSOR_SPARSITY);
    if (sp) {
        t->has_sparsity = 1;
        if (!read_sparsity(f, sp, &t->sparsity))
            return 0;
    }
    return f->code == TK_OK;
}

static int read_options(Fb *f, int index, TfliteOp *op, int type, size_t at)
{
    op->dilation_w = op->dilation_h = op->depth_multiplier = 1;
    int expected = -1;
    switch (op->builtin) {
    case TFL_OP_CONV_2D: expected = OPT_CONV2D; break;
    case TFL_OP_DEPTHWISE_CONV_2D: expected = OPT_DEPTHWISE; break;
    case TFL_OP_MAX_POOL_2D: expected = OPT_POOL2D; break;
    case TFL_OP_CONCATENATION: expected = OPT_CONCATENATION; break;
    case TFL_OP_ADD: expected = OPT_ADD; break;
    case TFL_OP_RESIZE_BILINEAR: expected = OPT_RESIZE_BILINEAR; break;
    case TFL_OP_RESHAPE: expected = OPT_RESHAPE; break;
    case TFL_OP_DEPTH_TO_SPACE: expected = 0; break; /* id not checked, table read below */
    default: return 1;
    }
    if (!at)
        return 1; /* defaults; the importer refuses what they leave impossible (stride 0) */
    if (expected > 0 && type != expected) {
        char what[160];
        snprintf(what, sizeof what, "operator %d (%s): options of union type %d, expected %d",
                 index, tflite_op_name(op->builtin), type, expected);
        return fb_fail(f, TK_EFORMAT, at, what);
    }
    FbTable t;
    if (!fb_table_at(f, at, &t, "operator options outside the file"))
        return 0;
    switch (op->builtin) {
    case TFL_OP_CONV_2D:
        op->padding = (int)fb_int(f, &t, 0, 1, 1, 0);
        op->stride_w = (int)fb_int(f, &t, 1, 4, 1, 0);
        op->stride_h = (int)fb_int(f, &t, 2, 4, 1, 0);
        op->activation = (int)fb_int(f, &t, 3, 1, 1, 0);
        op->dilation_w = (int)fb_int(f, &t, 4, 4, 1, 1);
        op->dilation_h = (int)fb_int(f, &t, 5, 4, 1, 1);
        break;
    case TFL_OP_DEPTHWISE_CONV_2D:
        op->padding = (int)fb_int(f, &t, 0, 1, 1, 0);
        op->stride_w = (int)fb_int(f, &t, 1, 4, 1, 0);
        op->stride_h = (int)fb_int(f, &t, 2, 4, 1, 0);
        op->depth_multiplier = (int)fb_int(f, &t, 3, 4, 1, 0);
        op->activation = (int)fb_int(f, &t, 4, 1, 1, 0);
        op->dilation_w = (int)fb_int(f, &t, 5, 4, 1, 1);
        op->dilation_h = (int)fb_int(f, &t, 6, 4, 1, 1);
        break;
    case TFL_OP_MAX_POOL_2D:
        op->padding = (int)fb_int(f, &t, 0, 1, 1, 0);
        op->stride_w = (int)fb_int(f, &t, 1, 4, 1, 0);
        op->stride_h = (int)fb_int(f, &t, 2, 4, 1, 0);
        op->filter_w = (int)fb_int(f, &t, 3, 4, 1, 0);
        op->filter_h = (int)fb_int(f, &t, 4, 4, 1, 0);
        op->activation = (int)fb_int(f, &t, 5, 1, 1, 0);
        break;
    case TFL_OP_CONCATENATION:
        op->axis = (int)fb_int(f, &t, 0, 4, 1, 0);
        op->activation = (int)fb_int(f, &t, 1, 1, 1, 0);
        break;
    case TFL_OP_ADD:
        op->activation = (int)fb_int(f, &t, 0, 1, 1, 0);
        break;
    case TFL_OP_RESIZE_BILINEAR:
        op->align_corners = (int)fb_int(f, &t, 2, 1, 0, 0);
        op->half_pixel_centers = (int)fb_int(f, &t, 3, 1, 0, 0);
        break;
    case TFL_OP_DEPTH_TO_SPACE:
        op->block_size = (int)fb_int(f, &t, 0, 4, 1, 0);
        break;
    default:
        break;
    }
    return f->code == TK_OK;
}

static int read_io_vector(Fb *f, const FbTable *t, int id, int *out, int *n, int n_tensors,
                          int index, const char *which)
{
    char what[160];
    snprintf(what, sizeof what, "operator %d: more than %d %s", index, TFL_MAX_OP_IO, which);
    *n = fb_int_vector(f, t, id, out, TFL_MAX_OP_IO, what);
    if (*n < 0)
        return 0;
    for (int k = 0; k < *n; k++)
        if (out[k] < -1 || out[k] >= n_tensors) {
            snprintf(what, sizeof what, "operator %d: %s %d is tensor %d of %d", index, which, k,
                     out[k], n_tensors);
            return fb_fail(f, TK_EFORMAT, t->pos, what);
        }
    return 1;
}

static int read_operator(Fb *f, size_t start, uint32_t i, const int *codes, int n_codes,
                         int n_tensors, TfliteOp *op)
{
    FbTable t;
    if (!fb_vector_table(f, start, i, &t, "operator table outside the file"))
        return 0;
    int64_t opcode = fb_int(f, &t, OPERATOR_OPCODE, 4, 0, 0);
    if (f->code != TK_OK)
        return 0;
    if (opcode >= n_codes) {
        char what[96];
        snprintf(what, sizeof what, "operator %u: opcode index %lld of %d", i, (long long)opcode,
                 n_codes);
        return fb_fail(f, TK_EFORMAT, t.pos, what);
    }
    op->builtin = codes[opcode];
    if (!read_io_vector(f, &t, OPERATOR_INPUTS, op->in, &op->n_in, n_tensors, (int)i, "inputs") ||
        !read_io_vector(f, &t, OPERATOR_OUTPUTS, op->out, &op->n_out, n_tensors, (int)i,
                        "outputs"))
        return 0;
    int type = (int)fb_int(f, &t, OPERATOR_OPTIONS_TYPE, 1, 0, 0);
    size_t at = fb_ref(f, &t, OPERATOR_OPTIONS);
    return f->code == TK_OK && read_options(f, (int)i, op, type, at);
}

static int read_opcodes(Fb *f, const FbTable *model, int **codes, int *n_codes)
{
    size_t start;
    uint32_t len;
    *codes = NULL;
    *n_codes = 0;
    if (!fb_vector(f, model, MODEL_OPERATOR_CODES, 4, &start, &len))
        return f->code == TK_OK;
    int *c = calloc(len ? len : 1, sizeof *c);
    if (!c)
        return fb_fail(f, TK_ENOMEM, start, "out of memory for the operator codes");
    *codes = c;
    *n_codes = (int)len;
    for (uint32_t i = 0; i < len; i++) {
        FbTable t;
        if (!fb_vector_table(f, start, i, &t, "operator code outside the file"))
            return 0;
        /* Schema >= 2.4 keeps codes above 127 in builtin_code and caps the deprecated byte
         * at 127 (PLACEHOLDER_FOR_GREATER_OP_CODES); the larger of the two is the real one. */
        int64_t dep = fb_int(f, &t, OPCODE_DEPRECATED_BUILTIN, 1, 1, 0);
        int64_t code = fb_int(f, &t, OPCODE_BUILTIN, 4, 1, 0);
        c[i] = (int)(dep > code ? dep : code);
    }
    return f->code == TK_OK;
}

static StatusCode parse(Fb *f, TfliteModel *m, BufferRef **bufs, int **codes)
{
    if (f->n < 8 || memcmp(f->b + 4, "TFL3", 4) != 0)
        return fb_fail(f, TK_EFORMAT, 4, "not a TFLite file (no TFL3 identifier)"), f->code;
    FbTable model;
    if (!fb_table_at(f, rd32(f, 0), &model, "root table outside the file"))
        return f->code;
    m->version = (int)fb_int(f, &model, MODEL_VERSION, 4, 0, 0);
    if (f->code == TK_OK && m->version != 3)
        fb_fail(f, TK_EUNSUPPORTED, model.pos, "schema version is not 3");
    int n_bufs = 0, n_codes = 0;
    if (f->code != TK_OK || !read_buffers(f, &model, bufs, &n_bufs) ||
        !read_opcodes(f, &model, codes, &n_codes))
        return f->code;

    size_t start;
    uint32_t len;
    if (!fb_vector(f, &model, MODEL_SUBGRAPHS, 4, &start, &len) || len == 0)
        return fb_fail(f, TK_EFORMAT, model.pos, "model without a subgraph"), f->code;
    if (len > 1)
        return fb_fail(f, TK_EUNSUPPORTED, start, "more than one subgraph"), f->code;
    FbTable sg;
    if (!fb_vector_table(f, start, 0, &sg, "subgraph outside the file"))
        return f->code;

    if (fb_vector(f, &sg, SUBGRAPH_TENSORS, 4, &start, &len)) {
        m->tensors = calloc(len ? len : 1, sizeof *m->tensors);
        if (!m->tensors)
            return fb_fail(f, TK_ENOMEM, start, "out of memory for the tensor table"), f->code;
        m->n_tensors = (int)len;
        for (uint32_t i = 0; i < len; i++)
            if (!read_tensor(f, start, i, *bufs, n_bufs, &m->tensors[i]))
                return f->code;
    }
    if (!read_io_vector(f, &sg, SUBGRAPH_INPUTS, m->inputs, &m->n_inputs, m->n_tensors, -1,
                        "subgraph inputs") ||
        !read_io_vector(f, &sg, SUBGRAPH_OUTPUTS, m->outputs, &m->n_outputs, m->n_tensors, -1,
                        "subgraph outputs"))
        return f->code;
    if (fb_vector(f, &sg, SUBGRAPH_OPERATORS, 4, &start, &len)) {
        m->ops = calloc(len ? len : 1, sizeof *m->ops);
        if (!m->ops)
            return fb_fail(f, TK_ENOMEM, start, "out of memory for the operators"), f->code;
        m->n_ops = (int)len;
        for (uint32_t i = 0; i < len; i++)
            if (!read_operator(f, start, i, *codes, n_codes, m->n_tensors, &m->ops[i]))
                return f->code;
    }
    return f->code;
}

StatusCode tflite_parse(TfliteModel *m, const void *bytes, size_t size, const char *name,
                        Status *st)
{
    memset(m, 0, sizeof *m);
    m->base = bytes;
    m->size = size;
    snprintf(m->name, sizeof m->name, "%s", name ? name : "(memory)");
    Fb f = {bytes, size, m->name, st, TK_OK};
    BufferRef *bufs = NULL;
    int *codes = NULL;
    StatusCode rc = parse(&f, m, &bufs, &codes);
    free(bufs);
    free(codes);
    if (rc != TK_OK)
        tflite_free(m);
    return rc;
}

void tflite_free(TfliteModel *m)
{
    free(m->tensors);
    free(m->ops);
    m->tensors = NULL;
    m->ops = NULL;
    m->n_tensors = m->n_ops = 0;
}

/* ---------------------------------------------------------------- densify */

static uint32_t index_at(const unsigned char *p, int type, int i)
{
    switch (type) {
    case 1: return (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                   (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    case 2: return (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
    default: return p[i];
    }
}

typedef struct {
    const TfliteTensor *t;
    int levels, ndim;
    int size[2 * TFL_MAX_DIMS];  /* extent of each expanded dimension */
    int block[TFL_MAX_DIMS];     /* block size of each original dimension (1 = unblocked) */
    int idx[2 * TFL_MAX_DIMS];
    size_t next_value, n_values, count, elem;
    unsigned char *dst;
    int bad;
} Densify;

/* Walks the compressed storage in traversal order, as TFLite's sparsity FormatConverter
 * defines it: a DENSE level enumerates dense_size positions, a SPARSE_CSR level those listed
 * in array_indices between array_segments[parent] and array_segments[parent + 1]. */
static void densify_level(Densify *d, int level, size_t parent)
{
    if (d->bad)
        return;
    const TfliteSparsity *sp = &d->t->sparsity;
    if (level == d->levels) {
        size_t flat = 0;
        for (int dim = 0; dim < d->ndim; dim++) {
            size_t coord = (size_t)d->idx[dim];
            for (int k = 0; k < sp->n_block; k++)
                if (sp->block_map[k] == dim)
                    coord = coord * (size_t)d->block[dim] + (size_t)d->idx[d->ndim + k];
            flat = flat * (size_t)d->t->shape[dim] + coord;
        }
        if (d->next_value >= d->n_values || flat >= d->count) {
            d->bad = 1;
            return;
        }
        memcpy(d->dst + flat * d->elem, d->t->data + d->next_value * d->elem, d->elem);
        d->next_value++;
        return;
    }
    const TfliteDimMeta *dm = &sp->dims[level];
    int dim = sp->order[level];
    if (!dm->sparse) {
        for (int i = 0; i < dm->dense_size && !d->bad; i++) {
            d->idx[dim] = i;
            densify_level(d, level + 1, parent * (size_t)dm->dense_size + (size_t)i);
        }
        return;
    }
    if (parent + 1 >= (size_t)dm->n_segments) {
        d->bad = 1;
        return;
    }
    uint32_t lo = index_at(dm->segments, dm->segments_type, (int)parent);
    uint32_t hi = index_at(dm->segments, dm->segments_type, (int)parent + 1);
    if (lo > hi || hi > (uint32_t)dm->n_indices) {
        d->bad = 1;
        return;
    }
    for (uint32_t j = lo; j < hi && !d->bad; j++) {
        uint32_t v = index_at(dm->indices, dm->indices_type, (int)j);
        if (v >= (uint32_t)d->size[dim]) {
            d->bad = 1;
            return;
        }
        d->idx[dim] = (int)v;
        densify_level(d, level + 1, j);
    }
}

StatusCode tflite_densify(const TfliteModel *m, int ti, void *dst, size_t elem_size,
                          size_t count, Status *st)
{
    if (ti < 0 || ti >= m->n_tensors)
        return status_fail(st, TK_EINVAL, "%s: tensor %d does not exist", m->name, ti);
    const TfliteTensor *t = &m->tensors[ti];
    const TfliteSparsity *sp = &t->sparsity;
    Densify d = {.t = t, .ndim = t->ndim, .levels = sp->n_order, .elem = elem_size,
                 .count = count, .dst = dst};
    size_t dense = 1;
    for (int i = 0; i < t->ndim; i++)
        dense *= (size_t)t->shape[i];
    if (!t->has_sparsity || !t->data || dense != count || t->ndim < 1 ||
        sp->n_order != t->ndim + sp->n_block || sp->n_dims != sp->n_order)
        return status_fail(st, TK_EFORMAT, "%s: tensor %d '%s': inconsistent sparsity parameters",
                           m->name, ti, t->name);
    d.n_values = t->bytes / elem_size;
    int seen[2 * TFL_MAX_DIMS] = {0};
    for (int i = 0; i < t->ndim; i++) {
        d.block[i] = 1;
        d.size[i] = t->shape[i];
    }
    for (int level = 0; level < sp->n_order; level++) {
        int o = sp->order[level];
        if (o < 0 || o >= sp->n_order || seen[o]++)
            return status_fail(st, TK_EFORMAT, "%s: tensor '%s': bad traversal order", m->name,
                               t->name);
    }
    for (int k = 0; k < sp->n_block; k++) {
        int dim = sp->block_map[k];
        int level = 0;
        while (sp->order[level] != t->ndim + k)
            level++;
        int bs = sp->dims[level].dense_size;
        if (dim < 0 || dim >= t->ndim || sp->dims[level].sparse || bs < 1 ||
            t->shape[dim] % bs != 0 || d.block[dim] != 1)
            return status_fail(st, TK_EFORMAT, "%s: tensor '%s': bad block map", m->name,
                               t->name);
        d.block[dim] = bs;
        d.size[dim] = t->shape[dim] / bs;
        d.size[t->ndim + k] = bs;
    }
    for (int level = 0; level < sp->n_order; level++)
        if (!sp->dims[level].sparse && sp->dims[level].dense_size != d.size[sp->order[level]])
            return status_fail(st, TK_EFORMAT,
                               "%s: tensor '%s': dense size %d of level %d does not match the "
                               "shape", m->name, t->name, sp->dims[level].dense_size, level);
    memset(dst, 0, count * elem_size);
    densify_level(&d, 0, 0);
    if (d.bad || d.next_value != d.n_values)
        return status_fail(st, TK_EFORMAT,
                           "%s: tensor '%s': sparse indices or segments out of range", m->name,
                           t->name);
    return TK_OK;
}
