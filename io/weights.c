/* weights — the .tkw weight format (layout in io.h): a reader that maps a file and checks
 * every field before handing out a pointer into it, and a writer that builds a file in
 * memory and saves it atomically.
 *
 * The reader treats the file as hostile: all arithmetic on stored numbers is overflow-safe,
 * nothing is read outside [base, base + size), and arrays are sized only after the counts
 * have been checked against the file size. Every byte is accounted for (by a CRC, a check,
 * or the rule that padding is zero), so any single corrupted byte is reported. All integers
 * are encoded and decoded byte by byte, so the code is right on hosts of either byte order. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

#define TKW_HEADER_BYTES 64
#define TKW_ENTRY_BYTES 128
#define TKW_ALIGN 64
#define TKW_BYTE_ORDER_MARK 0x01020304u
#define TKW_BYTE_ORDER_MARK_SWAPPED 0x04030201u
#define TKW_RESERVED_BYTES 20

static const unsigned char tkw_magic[8] = {'T', 'A', 'K', 'T', 'W', 0, 0, 0};

/* Byte positions of the header fields. */
enum {
    HDR_MAGIC = 0,
    HDR_VERSION = 8,
    HDR_BYTE_ORDER = 12,
    HDR_META_COUNT = 16,
    HDR_TENSOR_COUNT = 20,
    HDR_META_OFFSET = 24,
    HDR_META_BYTES = 32,
    HDR_TABLE_OFFSET = 40,
    HDR_DATA_OFFSET = 48,
    HDR_SECTIONS_CRC = 56,
    HDR_HEADER_CRC = 60,
};

/* Byte positions inside one 128-byte table entry. */
enum {
    ENT_NAME = 0,
    ENT_DTYPE = 64,
    ENT_NDIM = 68,
    ENT_SHAPE = 72,
    ENT_OFFSET = 88,
    ENT_BYTES = 96,
    ENT_CRC = 104,
    ENT_RESERVED = 108,
};

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p) {
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put_u64(unsigned char *p, uint64_t v) {
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t n) { return (n + (TKW_ALIGN - 1)) & ~(uint64_t)(TKW_ALIGN - 1); }

static size_t dtype_size(Dtype dtype) { return dtype == DTYPE_F16 ? 2 : 4; }

static const char *dtype_name(Dtype dtype) { return dtype == DTYPE_F16 ? "f16" : "f32"; }

/* Well-formed UTF-8 (no overlong forms, surrogates, or code points past U+10FFFF) without
 * NUL; names and keys must also be free of control characters, because they end up in
 * messages and tables printed on a terminal. */
static int text_is_valid(const unsigned char *s, size_t n, int allow_control) {
    size_t i = 0;
    while (i < n) {
        unsigned lead = s[i];
        if (lead < 0x80) {
            if (lead == 0 || (!allow_control && (lead < 0x20 || lead == 0x7F)))
                return 0;
            i++;
            continue;
        }
        /* The lead byte gives the sequence length, its payload bits, and the smallest code
         * point that needs that length (anything below is an overlong form). */
        size_t len;
        uint32_t cp, min;
        if ((lead & 0xE0) == 0xC0) {
            len = 2;
            cp = lead & 0x1F;
            min = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            len = 3;
            cp = lead & 0x0F;
            min = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            len = 4;
            cp = lead & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (len > n - i)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* The element count of a shape, or 0 when it does not fit in size_t bytes of elem_size. */
static size_t shape_count(int ndim, const uint32_t *dims, size_t elem_size) {
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] == 0 || count > SIZE_MAX / elem_size / dims[d])
            return 0;
        count *= dims[d];
    }
    return count;
}

static void shape_format(int ndim, const int *shape, char *buf, size_t bufsize) {
    Tensor view = tensor_view(NULL, ndim, shape);
    tensor_shape_str(&view, buf, bufsize);
}

/* ---------------------------------------------------------------- reader */

static StatusCode format_fail(Status *st, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static StatusCode format_fail(Status *st, const char *file, const char *fmt, ...) {
    char what[STATUS_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return status_fail(st, TK_EFORMAT, "%s: %s", file, what);
}

static StatusCode tensor_fail(Status *st, const char *file, int index, const char *name,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static StatusCode tensor_fail(Status *st, const char *file, int index, const char *name,
                              const char *fmt, ...) {
    char what[STATUS_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return status_fail(st, TK_EFORMAT, "%s: tensor %d '%s': %s", file, index, name, what);
}

/* The stored numbers that locate everything else, decoded once. */
typedef struct {
    uint32_t meta_count, tensor_count;
    uint64_t meta_offset, meta_bytes, table_offset, table_bytes, data_offset;
} TkwLayout;

static StatusCode check_header(const TkwFile *f, const char *file, TkwLayout *lay, Status *st) {
    const unsigned char *h = f->base;
    if (f->size < TKW_HEADER_BYTES)
        return format_fail(st, file, "file is %zu bytes, shorter than the %d-byte header",
                           f->size, TKW_HEADER_BYTES);
    if (memcmp(h + HDR_MAGIC, tkw_magic, sizeof tkw_magic) != 0)
        return format_fail(st, file, "header: bad magic (not a takt .tkw weight file)");
    uint32_t version = get_u32(h + HDR_VERSION);
    if (version != TKW_VERSION)
        return format_fail(st, file, "header: version %" PRIu32 " (this takt reads version %d)",
                           version, TKW_VERSION);
    uint32_t mark = get_u32(h + HDR_BYTE_ORDER);
    if (mark == TKW_BYTE_ORDER_MARK_SWAPPED)
        return format_fail(st, file, "header: byte-order mark 0x%08" PRIx32
                           " says big-endian; .tkw files are little-endian", mark);
    if (mark != TKW_BYTE_ORDER_MARK)
        return format_fail(st, file, "header: bad byte-order mark 0x%08" PRIx32
                           " (expected 0x%08x)", mark, TKW_BYTE_ORDER_MARK);
    uint32_t stored = get_u32(h + HDR_HEADER_CRC), computed = crc32_of(h, HDR_HEADER_CRC);
    if (stored != computed)
        return format_fail(st, file, "header: CRC mismatch (stored 0x%08" PRIx32
                           ", computed 0x%08" PRIx32 ")", stored, computed);

    lay->meta_count = get_u32(h + HDR_META_COUNT);
    lay->tensor_count = get_u32(h + HDR_TENSOR_COUNT);
    lay->meta_offset = get_u64(h + HDR_META_OFFSET);
    lay->meta_bytes = get_u64(h + HDR_META_BYTES);
    lay->table_offset = get_u64(h + HDR_TABLE_OFFSET);
    lay->data_offset = get_u64(h + HDR_DATA_OFFSET);
    lay->table_bytes = (uint64_t)lay->tensor_count * TKW_ENTRY_BYTES;
    uint64_t size = f->size;

    if (lay->meta_count > INT_MAX || lay->tensor_count > INT_MAX)
        return format_fail(st, file, "header: %" PRIu32 " metadata entries and %" PRIu32
                           " tensors, more than takt handles", lay->meta_count,
                           lay->tensor_count);
    if (lay->meta_offset < TKW_HEADER_BYTES)
        return format_fail(st, file, "header: metadata offset %" PRIu64
                           " overlaps the %d-byte header", lay->meta_offset, TKW_HEADER_BYTES);
    if (lay->meta_offset > size || lay->meta_bytes > size - lay->meta_offset)
        return format_fail(st, file, "header: metadata section (offset %" PRIu64 ", %" PRIu64
                           " bytes) extends past the end of the file (%" PRIu64 " bytes)",
                           lay->meta_offset, lay->meta_bytes, size);
    /* Each entry holds two lengths and a key of at least one byte. */
    if (lay->meta_count > lay->meta_bytes / 9)
        return format_fail(st, file, "header: %" PRIu32 " metadata entries cannot fit in a %"
                           PRIu64 "-byte metadata section", lay->meta_count, lay->meta_bytes);
    uint64_t meta_end = lay->meta_offset + lay->meta_bytes;
    if (lay->table_offset < meta_end)
        return format_fail(st, file, "header: table offset %" PRIu64
                           " overlaps the metadata section (which ends at %" PRIu64 ")",
                           lay->table_offset, meta_end);
    if (lay->table_offset > size || lay->table_bytes > size - lay->table_offset)
        return format_fail(st, file, "header: tensor table (offset %" PRIu64 ", %" PRIu32
                           " entries of %d bytes) extends past the end of the file (%" PRIu64
                           " bytes)", lay->table_offset, lay->tensor_count, TKW_ENTRY_BYTES,
                           size);
    uint64_t table_end = lay->table_offset + lay->table_bytes;
    if (lay->data_offset < table_end)
        return format_fail(st, file, "header: data offset %" PRIu64
                           " overlaps the tensor table (which ends at %" PRIu64 ")",
                           lay->data_offset, table_end);
    if (lay->data_offset % TKW_ALIGN != 0)
        return format_fail(st, file, "header: data offset %" PRIu64 " is not %d-byte aligned",
                           lay->data_offset, TKW_ALIGN);
    if (lay->data_offset > size)
        return format_fail(st, file, "header: data offset %" PRIu64
                           " is past the end of the file (%" PRIu64 " bytes)",
                           lay->data_offset, size);

    stored = get_u32(h + HDR_SECTIONS_CRC);
    computed = crc32_update(crc32_of(h + lay->meta_offset, (size_t)lay->meta_bytes),
                            h + lay->table_offset, (size_t)lay->table_bytes);
    if (stored != computed)
        return format_fail(st, file, "metadata and tensor table: CRC mismatch (stored 0x%08"
                           PRIx32 ", computed 0x%08" PRIx32 ")", stored, computed);
    return TK_OK;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static StatusCode read_metadata(TkwFile *f, const char *file, const TkwLayout *lay,
                                Status *st) {
    const unsigned char *sec = f->base + lay->meta_offset;
    size_t sec_bytes = (size_t)lay->meta_bytes, pos = 0;
    int n = (int)lay->meta_count;
    /* Lengths take 8 bytes per entry and become 2 NULs, so the strings fit in sec_bytes. */
    f->meta = calloc(n ? (size_t)n : 1, sizeof *f->meta);
    f->strings = malloc(sec_bytes ? sec_bytes : 1);
    if (!f->meta || !f->strings)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d metadata entries", file, n);
    char *out = f->strings;
    for (int i = 0; i < n; i++) {
        const char *part[2];
        for (int which = 0; which < 2; which++) {
            const char *what = which ? "value" : "key";
            if (sec_bytes - pos < 4)
                return format_fail(st, file, "metadata entry %d: %s length runs past the end "
                                   "of the metadata section", i, what);
            uint32_t len = get_u32(sec + pos);
            pos += 4;
            if (len > sec_bytes - pos)
                return format_fail(st, file, "metadata entry %d: %s length %" PRIu32
                                   " runs past the end of the metadata section", i, what, len);
            if (which == 0 && len == 0)
                return format_fail(st, file, "metadata entry %d: empty key", i);
            if (!text_is_valid(sec + pos, len, which == 1)) {
                if (which == 0)
                    return format_fail(st, file, "metadata entry %d: key is not UTF-8 text "
                                       "without control characters", i);
                return format_fail(st, file, "metadata entry %d '%s': value is not UTF-8 text "
                                   "without NUL", i, part[0]);
            }
            memcpy(out, sec + pos, len);
            out[len] = '\0';
            part[which] = out;
            out += len + 1;
            pos += len;
        }
        f->meta[i].key = part[0];
        f->meta[i].value = part[1];
    }
    if (pos != sec_bytes)
        return format_fail(st, file, "metadata section has %zu bytes after its %d entries",
                           sec_bytes - pos, n);
    f->n_meta = n;

    if (n > 1) {
        const char **keys = malloc((size_t)n * sizeof *keys);
        if (!keys)
            return status_fail(st, TK_ENOMEM, "%s: out of memory", file);
        for (int i = 0; i < n; i++)
            keys[i] = f->meta[i].key;
        qsort(keys, (size_t)n, sizeof *keys, compare_strings);
        for (int i = 1; i < n; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0) {
                StatusCode code = format_fail(st, file, "metadata key '%.100s' appears twice",
                                              keys[i]);
                free(keys);
                return code;
            }
        free(keys);
    }
    return TK_OK;
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Decodes and checks entry i into t; the data CRC is left to the caller. */
static StatusCode read_table_entry(const TkwFile *f, const char *file, const TkwLayout *lay,
                                   int i, TkwTensor *t, Status *st) {
    const unsigned char *e = f->base + lay->table_offset + (size_t)i * TKW_ENTRY_BYTES;
    const unsigned char *nul = memchr(e + ENT_NAME, 0, TKW_NAME_MAX);
    if (!nul)
        return format_fail(st, file, "tensor %d: name is not NUL-terminated within %d bytes",
                           i, TKW_NAME_MAX);
    size_t name_len = (size_t)(nul - (e + ENT_NAME));
    if (name_len == 0)
        return format_fail(st, file, "tensor %d: empty name", i);
    if (!text_is_valid(e + ENT_NAME, name_len, 0))
        return format_fail(st, file, "tensor %d: name is not UTF-8 text without control "
                           "characters", i);
    memcpy(t->name, e + ENT_NAME, name_len + 1);
    if (!all_zero(nul, TKW_NAME_MAX - name_len))
        return tensor_fail(st, file, i, t->name, "bytes after the name are not zero");

    uint32_t dtype = get_u32(e + ENT_DTYPE);
    if (dtype != DTYPE_F32 && dtype != DTYPE_F16)
        return tensor_fail(st, file, i, t->name, "unknown dtype %" PRIu32
                           " (0 = f32, 1 = f16)", dtype);
    t->dtype = (Dtype)dtype;
    uint32_t ndim = get_u32(e + ENT_NDIM);
    if (ndim < 1 || ndim > TENSOR_MAX_DIMS)
        return tensor_fail(st, file, i, t->name, "ndim %" PRIu32 " (must be 1 to %d)", ndim,
                           TENSOR_MAX_DIMS);
    t->ndim = (int)ndim;
    uint32_t dims[TENSOR_MAX_DIMS];
    for (int d = 0; d < TENSOR_MAX_DIMS; d++) {
        dims[d] = get_u32(e + ENT_SHAPE + 4 * d);
        if (d < t->ndim && (dims[d] < 1 || dims[d] > INT_MAX))
            return tensor_fail(st, file, i, t->name, "shape[%d] = %" PRIu32
                               " (must be 1 to %d)", d, dims[d], INT_MAX);
        if (d >= t->ndim && dims[d] != 1)
            return tensor_fail(st, file, i, t->name, "unused shape[%d] = %" PRIu32
                               " (must be 1 when ndim is %d)", d, dims[d], t->ndim);
        t->shape[d] = (int)dims[d];
    }
    char shape_str[64];
    shape_format(t->ndim, t->shape, shape_str, sizeof shape_str);
    size_t elem = dtype_size(t->dtype);
    t->count = shape_count(t->ndim, dims, elem);
    if (t->count == 0)
        return tensor_fail(st, file, i, t->name, "shape %s has too many elements", shape_str);

    uint64_t rel_offset = get_u64(e + ENT_OFFSET);
    t->bytes = get_u64(e + ENT_BYTES);
    t->crc = get_u32(e + ENT_CRC);
    if (t->bytes != (uint64_t)t->count * elem)
        return tensor_fail(st, file, i, t->name, "%" PRIu64 " bytes, but shape %s of %s needs "
                           "%" PRIu64, t->bytes, shape_str, dtype_name(t->dtype),
                           (uint64_t)t->count * elem);
    if (rel_offset % TKW_ALIGN != 0)
        return tensor_fail(st, file, i, t->name, "data offset %" PRIu64
                           " is not %d-byte aligned", rel_offset, TKW_ALIGN);
    uint64_t room = f->size - lay->data_offset;
    if (rel_offset > room || t->bytes > room - rel_offset)
        return tensor_fail(st, file, i, t->name, "data (%" PRIu64 " bytes at %" PRIu64
                           " past the data offset %" PRIu64 ") extends past the end of the "
                           "file (%zu bytes)", t->bytes, rel_offset, lay->data_offset,
                           f->size);
    if (!all_zero(e + ENT_RESERVED, TKW_RESERVED_BYTES))
        return tensor_fail(st, file, i, t->name, "reserved bytes are not zero");
    t->offset = lay->data_offset + rel_offset;
    t->data = f->base + t->offset;
    return TK_OK;
}

static int compare_tensor_names(const void *a, const void *b) {
    return strcmp((*(const TkwTensor *const *)a)->name, (*(const TkwTensor *const *)b)->name);
}

static int compare_tensor_offsets(const void *a, const void *b) {
    const TkwTensor *ta = *(const TkwTensor *const *)a, *tb = *(const TkwTensor *const *)b;
    if (ta->offset != tb->offset)
        return ta->offset < tb->offset ? -1 : 1;
    /* Ties (overlapping tensors) in table order, so the message is the same everywhere. */
    return (ta > tb) - (ta < tb);
}

static StatusCode check_zero_gap(const TkwFile *f, const char *file, uint64_t from, uint64_t to,
                                 const char *where, Status *st) {
    for (uint64_t p = from; p < to; p++)
        if (f->base[p])
            return format_fail(st, file, "byte %" PRIu64 " (padding %s) is 0x%02x, not zero", p,
                               where, f->base[p]);
    return TK_OK;
}

/* Names are unique; the sections and the tensors' data do not overlap; every byte between
 * them is zero; the file ends where the last of them ends. */
static StatusCode check_tensor_layout(const TkwFile *f, const char *file, const TkwLayout *lay,
                                      Status *st) {
    StatusCode code = TK_OK;
    size_t n = (size_t)lay->tensor_count;
    const TkwTensor **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < n; i++)
        order[i] = &f->tensors[i];

    qsort(order, n, sizeof *order, compare_tensor_names);
    for (size_t i = 1; i < n && code == TK_OK; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            code = format_fail(st, file, "tensor name '%s' appears twice", order[i]->name);

    uint64_t meta_end = lay->meta_offset + lay->meta_bytes;
    uint64_t table_end = lay->table_offset + lay->table_bytes;
    if (code == TK_OK)
        code = check_zero_gap(f, file, TKW_HEADER_BYTES, lay->meta_offset,
                              "before the metadata", st);
    if (code == TK_OK)
        code = check_zero_gap(f, file, meta_end, lay->table_offset, "before the table", st);
    if (code == TK_OK)
        code = check_zero_gap(f, file, table_end, lay->data_offset, "before the data", st);

    qsort(order, n, sizeof *order, compare_tensor_offsets);
    uint64_t end = lay->data_offset;
    for (size_t i = 0; i < n && code == TK_OK; i++) {
        const TkwTensor *t = order[i];
        if (t->offset < end) {
            code = format_fail(st, file, "tensor %d '%s': data at offset %" PRIu64
                               " overlaps tensor %d '%s'", (int)(t - f->tensors), t->name,
                               t->offset, (int)(order[i - 1] - f->tensors), order[i - 1]->name);
            break;
        }
        code = check_zero_gap(f, file, end, t->offset, "between tensors", st);
        end = t->offset + t->bytes;
    }
    if (code == TK_OK && end != f->size)
        code = format_fail(st, file, "%" PRIu64 " unexpected bytes after the end of the data "
                           "(offset %" PRIu64 ")", (uint64_t)f->size - end, end);
    free(order);
    return code;
}

static StatusCode read_tensors(TkwFile *f, const char *file, const TkwLayout *lay, Status *st) {
    int n = (int)lay->tensor_count;
    f->tensors = calloc(n ? (size_t)n : 1, sizeof *f->tensors);
    if (!f->tensors)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d tensors", file, n);
    for (int i = 0; i < n; i++) {
        StatusCode code = read_table_entry(f, file, lay, i, &f->tensors[i], st);
        if (code != TK_OK)
            return code;
    }
    f->n_tensors = n;
    StatusCode code = check_tensor_layout(f, file, lay, st);
    if (code != TK_OK)
        return code;
    /* Last, because it is the one check that reads all the data. */
    for (int i = 0; i < n; i++) {
        const TkwTensor *t = &f->tensors[i];
        uint32_t computed = crc32_of(t->data, (size_t)t->bytes);
        if (computed != t->crc)
            return tensor_fail(st, file, i, t->name, "CRC mismatch (stored 0x%08" PRIx32
                               ", computed 0x%08" PRIx32 ")", t->crc, computed);
    }
    return TK_OK;
}

static StatusCode validate(TkwFile *f, const char *file, Status *st) {
    TkwLayout lay = {0};
    StatusCode code = check_header(f, file, &lay, st);
    if (code == TK_OK)
        code = read_metadata(f, file, &lay, st);
    if (code == TK_OK)
        code = read_tensors(f, file, &lay, st);
    return code;
}

static void set_path(TkwFile *f, const char *name) {
    snprintf(f->path, sizeof f->path, "%s", name);
}

StatusCode tkw_open_memory(TkwFile *f, const void *bytes, size_t size, const char *name,
                           Status *st) {
    memset(f, 0, sizeof *f);
    if (!name)
        name = "(memory)";
    set_path(f, name);
    f->base = bytes;
    f->size = bytes ? size : 0;
    StatusCode code = validate(f, name, st);
    if (code != TK_OK)
        tkw_close(f);
    return code;
}

StatusCode tkw_open(TkwFile *f, const char *path, Status *st) {
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return status_fail(st, TK_EIO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return status_fail(st, TK_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return status_fail(st, TK_EFORMAT, "%s: file is too large to map", path);
    }
    set_path(f, path);
    f->size = (size_t)sb.st_size;
    /* mmap refuses length 0; an empty file is then reported by the header check. */
    if (f->size > 0) {
        void *base = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            int err = errno;
            close(fd);
            memset(f, 0, sizeof *f);
            return status_fail(st, TK_EIO, "%s: cannot map: %s", path, strerror(err));
        }
        f->base = base;
        f->mapped = 1;
    }
    close(fd);
    StatusCode code = validate(f, path, st);
    if (code != TK_OK)
        tkw_close(f);
    return code;
}

void tkw_close(TkwFile *f) {
    if (f->mapped)
        munmap((void *)f->base, f->size);
    free(f->meta);
    free(f->tensors);
    free(f->strings);
    memset(f, 0, sizeof *f);
}

const TkwTensor *tkw_find(const TkwFile *f, const char *name) {
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *tkw_meta(const TkwFile *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

StatusCode tkw_read_f32(const TkwFile *f, const char *name, float *dst, size_t count,
                        Status *st) {
    const TkwTensor *t = tkw_find(f, name);
    if (!t)
        return status_fail(st, TK_EFORMAT, "%s: no tensor named '%s'", f->path, name);
    if (t->count != count) {
        char shape_str[64];
        shape_format(t->ndim, t->shape, shape_str, sizeof shape_str);
        return status_fail(st, TK_EFORMAT, "%s: tensor '%s' has %zu elements (shape %s), "
                           "expected %zu", f->path, name, t->count, shape_str, count);
    }
    const unsigned char *p = t->data;
    if (t->dtype == DTYPE_F16) {
        for (size_t i = 0; i < count; i++)
            dst[i] = f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    } else {
        for (size_t i = 0; i < count; i++) {
            uint32_t bits = get_u32(p + 4 * i);
            memcpy(&dst[i], &bits, sizeof bits);
        }
    }
    return TK_OK;
}

/* ---------------------------------------------------------------- writer */

typedef struct {
    char *key, *value;
} WriterMeta;

typedef struct {
    char name[TKW_NAME_MAX];
    Dtype dtype;
    int ndim;
    uint32_t shape[TENSOR_MAX_DIMS];
    size_t bytes;
    unsigned char *data; /* already encoded: little-endian f32 or f16 */
    uint32_t crc;
} WriterTensor;

struct TkwWriter {
    WriterMeta *meta;
    int n_meta, cap_meta;
    WriterTensor *tensors;
    int n_tensors, cap_tensors;
};

StatusCode tkw_writer_new(TkwWriter **w, Status *st) {
    *w = calloc(1, sizeof **w);
    if (!*w)
        return status_fail(st, TK_ENOMEM, "out of memory for a weight writer");
    return TK_OK;
}

void tkw_writer_free(TkwWriter *w) {
    if (!w)
        return;
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    for (int i = 0; i < w->n_tensors; i++)
        free(w->tensors[i].data);
    free(w->meta);
    free(w->tensors);
    free(w);
}

/* Makes room for one more element of an array that grows by doubling. */
static int grow(void **items, int *cap, int n, size_t item_size) {
    if (n < *cap)
        return 1;
    if (n == INT_MAX)
        return 0;
    int new_cap = *cap > INT_MAX / 2 ? INT_MAX : (*cap ? *cap * 2 : 8);
    void *p = realloc(*items, (size_t)new_cap * item_size);
    if (!p)
        return 0;
    *items = p;
    *cap = new_cap;
    return 1;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

StatusCode tkw_writer_meta(TkwWriter *w, const char *key, const char *value, Status *st) {
    if (!key || !key[0])
        return status_fail(st, TK_EINVAL, "metadata key is empty");
    if (!value)
        return status_fail(st, TK_EINVAL, "metadata '%.100s': value is NULL", key);
    size_t key_len = strlen(key), value_len = strlen(value);
    if (!text_is_valid((const unsigned char *)key, key_len, 0))
        return status_fail(st, TK_EINVAL, "metadata key is not UTF-8 text without control "
                           "characters");
    if (!text_is_valid((const unsigned char *)value, value_len, 1))
        return status_fail(st, TK_EINVAL, "metadata '%.100s': value is not UTF-8 text", key);
    if (key_len > UINT32_MAX || value_len > UINT32_MAX)
        return status_fail(st, TK_EINVAL, "metadata '%.100s': longer than 4 GiB", key);
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0)
            return status_fail(st, TK_EINVAL, "metadata key '%.100s' given twice", key);
    if (!grow((void **)&w->meta, &w->cap_meta, w->n_meta, sizeof *w->meta))
        return status_fail(st, TK_ENOMEM, "out of memory for metadata '%.100s'", key);
    WriterMeta *m = &w->meta[w->n_meta];
    m->key = copy_string(key);
    m->value = copy_string(value);
    if (!m->key || !m->value) {
        free(m->key);
        free(m->value);
        return status_fail(st, TK_ENOMEM, "out of memory for metadata '%.100s'", key);
    }
    w->n_meta++;
    return TK_OK;
}

StatusCode tkw_writer_tensor(TkwWriter *w, const char *name, Dtype dtype, int ndim,
                             const int *shape, const float *data, Status *st) {
    if (!name || !name[0])
        return status_fail(st, TK_EINVAL, "tensor name is empty");
    size_t name_len = strlen(name);
    if (name_len >= TKW_NAME_MAX)
        return status_fail(st, TK_EINVAL, "tensor name '%.200s' is %zu bytes, longer than %d",
                           name, name_len, TKW_NAME_MAX - 1);
    if (!text_is_valid((const unsigned char *)name, name_len, 0))
        return status_fail(st, TK_EINVAL, "tensor name is not UTF-8 text without control "
                           "characters");
    for (int i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return status_fail(st, TK_EINVAL, "tensor '%s' given twice", name);
    if (dtype != DTYPE_F32 && dtype != DTYPE_F16)
        return status_fail(st, TK_EINVAL, "tensor '%s': unknown dtype %d", name, (int)dtype);
    if (ndim < 1 || ndim > TENSOR_MAX_DIMS)
        return status_fail(st, TK_EINVAL, "tensor '%s': ndim %d (must be 1 to %d)", name, ndim,
                           TENSOR_MAX_DIMS);
    if (!shape || !data)
        return status_fail(st, TK_EINVAL, "tensor '%s': no %s given", name,
                           shape ? "data" : "shape");
    uint32_t dims[TENSOR_MAX_DIMS] = {1, 1, 1, 1};
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1)
            return status_fail(st, TK_EINVAL, "tensor '%s': shape[%d] = %d (must be >= 1)",
                               name, d, shape[d]);
        dims[d] = (uint32_t)shape[d];
    }
    size_t elem = dtype_size(dtype);
    size_t count = shape_count(ndim, dims, elem);
    if (count == 0)
        return status_fail(st, TK_EINVAL, "tensor '%s': shape has too many elements", name);

    unsigned char *bytes = malloc(count * elem);
    if (!bytes)
        return status_fail(st, TK_ENOMEM, "tensor '%s': out of memory for %zu bytes", name,
                           count * elem);
    if (dtype == DTYPE_F16) {
        for (size_t i = 0; i < count; i++) {
            uint16_t h = f32_to_f16(data[i]);
            /* Rounding is the accepted loss of float16; turning a weight into infinity is
             * not, so it is refused rather than stored. */
            if (isfinite(data[i]) && (h & 0x7FFFu) == 0x7C00u) {
                free(bytes);
                return status_fail(st, TK_EINVAL, "tensor '%s': value %g at index %zu is "
                                   "outside the float16 range (largest 65504)", name,
                                   (double)data[i], i);
            }
            bytes[2 * i] = (unsigned char)h;
            bytes[2 * i + 1] = (unsigned char)(h >> 8);
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            uint32_t bits;
            memcpy(&bits, &data[i], sizeof bits);
            put_u32(bytes + 4 * i, bits);
        }
    }
    if (!grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors, sizeof *w->tensors)) {
        free(bytes);
        return status_fail(st, TK_ENOMEM, "out of memory for tensor '%s'", name);
    }
    WriterTensor *t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, name_len + 1);
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->shape, dims, sizeof dims);
    t->bytes = count * elem;
    t->data = bytes;
    t->crc = crc32_of(bytes, t->bytes);
    return TK_OK;
}

static StatusCode write_bytes(AtomicFile *af, const void *p, size_t n, Status *st) {
    if (n > 0 && fwrite(p, 1, n, af->fp) != n) {
        int err = errno;
        StatusCode code = status_fail(st, TK_EIO, "%s: cannot write %s: %s", af->path,
                                      af->tmp_path, strerror(err));
        atomic_abort(af);
        return code;
    }
    return TK_OK;
}

/* Layout: header, metadata, table, then the data; each tensor starts 64-byte aligned and
 * the file ends with the last tensor. Everything before the data is built in one buffer so
 * that its CRCs can be computed before it is written. */
StatusCode tkw_writer_save(TkwWriter *w, const char *path, Status *st) {
    uint64_t meta_bytes = 0;
    for (int i = 0; i < w->n_meta; i++)
        meta_bytes += 8 + strlen(w->meta[i].key) + strlen(w->meta[i].value);
    uint64_t meta_offset = TKW_HEADER_BYTES;
    uint64_t table_offset = meta_offset + meta_bytes;
    uint64_t table_bytes = (uint64_t)w->n_tensors * TKW_ENTRY_BYTES;
    uint64_t data_offset = align_up(table_offset + table_bytes);
    if (data_offset > SIZE_MAX)
        return status_fail(st, TK_ENOMEM, "%s: metadata too large", path);

    unsigned char *head = calloc(1, (size_t)data_offset);
    if (!head)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %" PRIu64 " bytes", path,
                           data_offset);
    unsigned char *p = head + meta_offset;
    for (int i = 0; i < w->n_meta; i++) {
        const char *part[2] = {w->meta[i].key, w->meta[i].value};
        for (int which = 0; which < 2; which++) {
            size_t len = strlen(part[which]);
            put_u32(p, (uint32_t)len);
            memcpy(p + 4, part[which], len);
            p += 4 + len;
        }
    }
    uint64_t rel_offset = 0;
    for (int i = 0; i < w->n_tensors; i++) {
        const WriterTensor *t = &w->tensors[i];
        unsigned char *e = head + table_offset + (size_t)i * TKW_ENTRY_BYTES;
        memcpy(e + ENT_NAME, t->name, strlen(t->name));
        put_u32(e + ENT_DTYPE, (uint32_t)t->dtype);
        put_u32(e + ENT_NDIM, (uint32_t)t->ndim);
        for (int d = 0; d < TENSOR_MAX_DIMS; d++)
            put_u32(e + ENT_SHAPE + 4 * d, t->shape[d]);
        put_u64(e + ENT_OFFSET, rel_offset);
        put_u64(e + ENT_BYTES, t->bytes);
        put_u32(e + ENT_CRC, t->crc);
        rel_offset = align_up(rel_offset + t->bytes);
    }
    memcpy(head + HDR_MAGIC, tkw_magic, sizeof tkw_magic);
    put_u32(head + HDR_VERSION, TKW_VERSION);
    put_u32(head + HDR_BYTE_ORDER, TKW_BYTE_ORDER_MARK);
    put_u32(head + HDR_META_COUNT, (uint32_t)w->n_meta);
    put_u32(head + HDR_TENSOR_COUNT, (uint32_t)w->n_tensors);
    put_u64(head + HDR_META_OFFSET, meta_offset);
    put_u64(head + HDR_META_BYTES, meta_bytes);
    put_u64(head + HDR_TABLE_OFFSET, table_offset);
    put_u64(head + HDR_DATA_OFFSET, data_offset);
    put_u32(head + HDR_SECTIONS_CRC, crc32_of(head + meta_offset, (size_t)(meta_bytes +
                                                                          table_bytes)));
    put_u32(head + HDR_HEADER_CRC, crc32_of(head, HDR_HEADER_CRC));

    AtomicFile af;
    StatusCode code = atomic_open(&af, path, st);
    if (code == TK_OK)
        code = write_bytes(&af, head, (size_t)data_offset, st);
    free(head);
    static const unsigned char zeros[TKW_ALIGN];
    for (int i = 0; i < w->n_tensors && code == TK_OK; i++) {
        const WriterTensor *t = &w->tensors[i];
        code = write_bytes(&af, t->data, t->bytes, st);
        size_t pad = (size_t)(align_up(t->bytes) - t->bytes);
        if (code == TK_OK && i + 1 < w->n_tensors)
            code = write_bytes(&af, zeros, pad, st);
    }
    if (code == TK_OK)
        code = atomic_commit(&af, st);
    return code;
}
