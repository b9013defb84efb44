/* io — every file format takt reads or writes, and nothing numeric.
 *
 * What it offers:
 *   AtomicFile   write to NAME.tmp, then fsync and rename over NAME, so that a crash or a
 *                full disk never leaves a half-written output under the real name.
 *   crc32        the IEEE 802.3 CRC (zlib's), used by the .tkw format.
 *   .tkw         takt's weight format (layout below): named float32/float16 tensors plus
 *                key/value metadata, 64-byte aligned so that a file can be mmap'ed and used
 *                in place, every field validated on open.
 *   CSV          numeric tables with a header line (keypoints, features, labels): read whole
 *                or streamed row by row; errors name the file, line and column.
 *
 * Dependencies: core.
 */
#ifndef TAKT_IO_H
#define TAKT_IO_H

#include <stdio.h>
#include "../core/core.h"

/* ---------------------------------------------------------------- atomic output */

typedef struct {
    FILE *fp;
    char path[4096];
    char tmp_path[4096];
} AtomicFile;

StatusCode atomic_open(AtomicFile *f, const char *path, Status *st);
/* Flushes, fsyncs, closes and renames; on any failure removes the temporary file. */
StatusCode atomic_commit(AtomicFile *f, Status *st);
/* Closes and removes the temporary file (after an error elsewhere). */
void atomic_abort(AtomicFile *f);

/* ---------------------------------------------------------------- crc32 */

uint32_t crc32_update(uint32_t crc, const void *data, size_t n);
uint32_t crc32_of(const void *data, size_t n);

/* ---------------------------------------------------------------- .tkw weights
 *
 * File layout (all integers little-endian; the reader refuses big-endian hosts' files by the
 * byte-order mark):
 *   header, 64 bytes:
 *     0  magic "TAKTW\0\0\0" (8)      8  u32 version (1)       12 u32 byte-order mark 0x01020304
 *     16 u32 metadata count          20 u32 tensor count       24 u64 metadata offset
 *     32 u64 metadata bytes          40 u64 table offset       48 u64 data offset (64-aligned)
 *     56 u32 CRC-32 of the metadata section and the table      60 u32 CRC-32 of bytes 0..59
 *   metadata: count entries of  u32 key length, key bytes, u32 value length, value bytes
 *             (UTF-8, no NUL inside; keys non-empty, unique, without control characters)
 *   table: count entries of 128 bytes:
 *     0  name, NUL-padded (64)   64 u32 dtype (0 f32, 1 f16)   68 u32 ndim (1..4)
 *     72 u32 shape[4] (unused dims 1)   88 u64 offset from the data start (64-aligned)
 *     96 u64 bytes   104 u32 CRC-32 of the tensor's bytes   108 reserved zeros (20)
 *   data: each tensor 64-byte aligned, zero padding between.
 * Strict layout, so that every single corrupted byte is caught by a CRC or a check: header,
 * metadata, table and data come in that order without overlap; tensors' data do not overlap;
 * every byte outside the header, the two sections and the tensors' data is zero; the file
 * ends where the last tensor's data ends (with no tensors, at the data offset). Names are
 * UTF-8 without control characters; unused shape entries are 1; name padding and reserved
 * bytes are zero. TkwTensor.data is 64-byte aligned when tkw_open mapped the file; from
 * tkw_open_memory only if the caller's bytes are (tkw_read_f32 works either way).
 */

#define TKW_NAME_MAX 64
#define TKW_VERSION 1

typedef enum { DTYPE_F32 = 0, DTYPE_F16 = 1 } Dtype;

typedef struct {
    char name[TKW_NAME_MAX];
    Dtype dtype;
    int ndim;
    int shape[TENSOR_MAX_DIMS];
    size_t count;        /* product of the shape */
    uint64_t offset;     /* from the start of the file */
    uint64_t bytes;
    uint32_t crc;
    const void *data;    /* points into the mapped file */
} TkwTensor;

typedef struct {
    const char *key;   /* NUL-terminated copies owned by the TkwFile */
    const char *value;
} TkwMeta;

typedef struct {
    char path[1024];
    const unsigned char *base; /* the mapped (or caller's) bytes */
    size_t size;
    int mapped;                /* 1 when base must be munmap'ed */
    int n_meta, n_tensors;
    TkwMeta *meta;
    TkwTensor *tensors;
    char *strings;             /* storage for the metadata keys and values */
} TkwFile;

/* Maps and validates the whole file (header, bounds, sizes, CRCs, version); errors name the
 * file and the field, e.g. "m.tkw: tensor 3 'enc.w': CRC mismatch". */
StatusCode tkw_open(TkwFile *f, const char *path, Status *st);
/* The same over bytes the caller owns (kept, not copied: they must outlive f). */
StatusCode tkw_open_memory(TkwFile *f, const void *bytes, size_t size, const char *name,
                           Status *st);
void tkw_close(TkwFile *f);
const TkwTensor *tkw_find(const TkwFile *f, const char *name);
const char *tkw_meta(const TkwFile *f, const char *key); /* NULL when absent */
/* Copies (converting float16) into dst, checking that the tensor exists and has `count`
 * elements; the error names the tensor. */
StatusCode tkw_read_f32(const TkwFile *f, const char *name, float *dst, size_t count,
                        Status *st);

typedef struct TkwWriter TkwWriter;

StatusCode tkw_writer_new(TkwWriter **w, Status *st);
void tkw_writer_free(TkwWriter *w);
StatusCode tkw_writer_meta(TkwWriter *w, const char *key, const char *value, Status *st);
/* data holds `count` float32 values; stored as dtype (float16 rounds to nearest even; a
 * finite value beyond its range is refused, TK_EINVAL, rather than stored as infinity).
 * The data is copied. Names, keys and shapes breaking the rules above are refused. */
StatusCode tkw_writer_tensor(TkwWriter *w, const char *name, Dtype dtype, int ndim,
                             const int *shape, const float *data, Status *st);
/* Writes path.tmp, fsyncs, renames over path. */
StatusCode tkw_writer_save(TkwWriter *w, const char *path, Status *st);

/* ---------------------------------------------------------------- CSV
 *
 * Comma-separated, one header line of column names, then rows of the same number of cells.
 * Lines starting with '#' and empty lines are skipped. Numeric cells must be finite decimal
 * numbers (NaN, Inf, empty or text give an error naming file, line and column); columns named
 * in `text_columns` are kept as strings instead. No quoting (takt's own files never need it;
 * a quote character is an error, not silently misread). */

typedef struct {
    char path[1024];
    int rows, cols;
    char **names;   /* cols column names */
    float *data;    /* rows x cols, row-major; NAN in text columns */
    char ***text;   /* text[c] = rows strings for a text column, NULL for numeric columns */
} CsvTable;

/* text_columns: NULL-terminated list of column names to keep as text, or NULL. */
StatusCode csv_read(CsvTable *t, const char *path, const char *const *text_columns, Status *st);
void csv_free(CsvTable *t);
int csv_column(const CsvTable *t, const char *name); /* index, or -1 when absent */

/* Streaming reader for files too large to hold (an 8-hour keypoints file): same rules, one
 * row at a time, constant memory. */
typedef struct CsvReader CsvReader;

StatusCode csv_reader_open(CsvReader **r, const char *path, const char *const *text_columns,
                           Status *st);
int csv_reader_cols(const CsvReader *r);
const char *csv_reader_name(const CsvReader *r, int col);
/* Fills values[cols] (NAN in text columns) and, when text != NULL, text[c] for text columns
 * (valid until the next call). Returns TK_OK with *got = 1 for a row, *got = 0 at the end. */
StatusCode csv_reader_next(CsvReader *r, float *values, const char **text, int *got, Status *st);
long csv_reader_line(const CsvReader *r); /* line number of the row just read */
void csv_reader_close(CsvReader *r);

#endif
