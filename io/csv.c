/* csv — numeric tables with a header line, read whole (csv_read) or one row at a time
 * (CsvReader), with errors that name the file, the line and the column.
 *
 * Speed matters because an 8-hour keypoints file is ~864,000 rows x 135 columns: the reader
 * pulls the file through one growing buffer with read(2) and parses numbers with its own
 * scanner. Most cells take Clinger's fast path (a mantissa below 2^53 and a power of ten up
 * to 1e22 are both exact doubles, so one multiplication or division gives the correctly
 * rounded double; W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990);
 * anything outside it, and the rare double that lies exactly halfway between two floats
 * (where rounding twice could differ from rounding once), goes to strtof, so every value is
 * the correctly rounded float that strtof would give.
 *
 * Text columns named by the caller but absent from the header are not an error: callers pass
 * the columns that may hold text ("label") and look the column up with csv_column. The quote
 * character refused is RFC 4180's double quote; an apostrophe is ordinary text. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io.h"

#define CSV_READ_CHUNK (1 << 20)
#define CSV_NUMBER_MAX_CHARS 511
#define CSV_NAME_SHOWN_CHARS 64

struct CsvReader {
    char path[1024];
    int fd;
    int eof;
    char *buf;          /* bytes read but not yet consumed are buf[start, end) */
    size_t cap, start, end;
    long line;          /* number of the last line taken from the buffer */
    long row_line;      /* line of the row returned by the last csv_reader_next */
    int cols;
    char **names;
    char *is_text;      /* per column */
    const char **text;  /* per column, pointers into buf for the current row */
    char *names_storage;
};

/* ---------------------------------------------------------------- numbers */

typedef enum { NUM_OK, NUM_SYNTAX, NUM_OVERFLOW, NUM_TOO_LONG } NumberResult;

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A double whose 29 bits below float precision are 1000...0 sits exactly halfway between two
 * normal floats. */
static int is_float_midpoint(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return (bits & 0x1FFFFFFFu) == 0x10000000u;
}

static NumberResult parse_slow(const char *s, size_t len, float *out) {
    char tmp[CSV_NUMBER_MAX_CHARS + 1];
    if (len > CSV_NUMBER_MAX_CHARS)
        return NUM_TOO_LONG;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    float v = strtof(tmp, NULL);
    if (isinf(v))
        return NUM_OVERFLOW;
    *out = v;
    return NUM_OK;
}

/* Parses [sign] digits [. digits] [e|E [sign] digits] (at least one mantissa digit) starting
 * at s, stopping before the first character that cannot continue it (*stop). Only syntax is
 * checked here; what may follow the number is the caller's business. */
static NumberResult parse_float(const char *s, const char *end, float *out, const char **stop) {
    const char *p = s;
    int negative = 0;
    if (p < end && (*p == '-' || *p == '+'))
        negative = *p++ == '-';
    uint64_t mantissa = 0;
    int significant = 0, digits = 0, exp10 = 0, inexact = 0;
    for (; p < end && (unsigned)(*p - '0') < 10; p++, digits++) {
        if (significant < 19) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            significant += mantissa != 0;
        } else {
            exp10++;
            inexact |= *p != '0';
        }
    }
    if (p < end && *p == '.') {
        p++;
        for (; p < end && (unsigned)(*p - '0') < 10; p++, digits++) {
            if (significant < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                significant += mantissa != 0;
                exp10--;
            } else {
                inexact |= *p != '0';
            }
        }
    }
    if (digits == 0)
        return NUM_SYNTAX;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int exp_negative = 0;
        if (p < end && (*p == '-' || *p == '+'))
            exp_negative = *p++ == '-';
        if (p == end || (unsigned)(*p - '0') >= 10)
            return NUM_SYNTAX;
        int e = 0;
        for (; p < end && (unsigned)(*p - '0') < 10; p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        exp10 += exp_negative ? -e : e;
    }
    *stop = p;
    if (!inexact && mantissa < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = (double)mantissa;
        d = exp10 >= 0 ? d * pow10_exact[exp10] : d / pow10_exact[-exp10];
        /* Below 2 * FLT_MIN the float spacing is not the normal one the midpoint test
         * assumes; near FLT_MAX rounding may overflow: both are left to strtof. */
        if (d == 0.0 || (d >= 2.0 * FLT_MIN && d <= 0.5 * FLT_MAX && !is_float_midpoint(d))) {
            *out = negative ? -(float)d : (float)d;
            return NUM_OK;
        }
    }
    return parse_slow(s, (size_t)(p - s), out);
}

/* ---------------------------------------------------------------- reading lines */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Moves the unconsumed bytes to the front, growing the buffer when they fill it, and reads
 * more. Returns 0 on success (possibly setting eof), -1 on a read error (errno set). */
static int refill(CsvReader *r) {
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < CSV_READ_CHUNK) {
        size_t cap = r->cap * 2;
        char *grown = realloc(r->buf, cap + 1);
        if (!grown) {
            errno = ENOMEM;
            return -1;
        }
        r->buf = grown;
        r->cap = cap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            r->eof = 1;
        r->end += (size_t)n;
        return 0;
    }
}

/* The next line that is neither empty (or blank) nor a '#' comment: [*line, *line_end) without
 * the newline. Returns 1 for a line, 0 at the end of the file. The line stays valid until the
 * next call. */
static StatusCode next_line(CsvReader *r, char **line, char **line_end, int *got, Status *st) {
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (!nl && !r->eof) {
            if (refill(r) != 0)
                return status_fail(st, errno == ENOMEM ? TK_ENOMEM : TK_EIO,
                                   "%s: line %ld: cannot read: %s", r->path, r->line + 1,
                                   strerror(errno));
            continue;
        }
        if (!nl && r->start == r->end) {
            *got = 0;
            return TK_OK;
        }
        char *begin = r->buf + r->start;
        char *stop = nl ? nl : r->buf + r->end;
        r->start = nl ? (size_t)(nl - r->buf) + 1 : r->end;
        r->line++;
        if (memchr(begin, '\0', (size_t)(stop - begin)))
            return status_fail(st, TK_EFORMAT, "%s: line %ld: NUL byte (not a text file?)",
                               r->path, r->line);
        while (stop > begin && is_blank(stop[-1]))
            stop--;
        char *first = begin;
        while (first < stop && is_blank(*first))
            first++;
        if (first == stop || *first == '#')
            continue;
        *line = begin;
        *line_end = stop;
        *got = 1;
        return TK_OK;
    }
}

/* ---------------------------------------------------------------- header */

static StatusCode read_header(CsvReader *r, const char *const *text_columns, Status *st) {
    char *line, *end;
    int got;
    StatusCode code = next_line(r, &line, &end, &got, st);
    if (code != TK_OK)
        return code;
    if (!got)
        return status_fail(st, TK_EFORMAT, "%s: empty file (no header line)", r->path);
    size_t len = (size_t)(end - line);
    if (memchr(line, '"', len))
        return status_fail(st, TK_EFORMAT,
                           "%s: line %ld: quote character in the header (quoting is not "
                           "supported)", r->path, r->line);
    int cols = 1;
    for (const char *p = line; p < end; p++)
        cols += *p == ',';
    r->names_storage = malloc(len + 1);
    r->names = calloc((size_t)cols, sizeof *r->names);
    r->is_text = calloc((size_t)cols, 1);
    r->text = calloc((size_t)cols, sizeof *r->text);
    if (!r->names_storage || !r->names || !r->is_text || !r->text)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d columns", r->path, cols);
    memcpy(r->names_storage, line, len);
    r->names_storage[len] = '\0';
    char *p = r->names_storage;
    for (int c = 0; c < cols; c++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (is_blank(*p))
            p++;
        char *tail = p + strlen(p);
        while (tail > p && is_blank(tail[-1]))
            *--tail = '\0';
        if (!*p)
            return status_fail(st, TK_EFORMAT, "%s: line %ld: column %d has an empty name",
                               r->path, r->line, c + 1);
        for (int k = 0; k < c; k++)
            if (!strcmp(r->names[k], p))
                return status_fail(st, TK_EFORMAT,
                                   "%s: line %ld: column %d: name '%.*s' repeats column %d",
                                   r->path, r->line, c + 1, CSV_NAME_SHOWN_CHARS, p, k + 1);
        r->names[c] = p;
        for (const char *const *t = text_columns; t && *t; t++)
            r->is_text[c] |= !strcmp(*t, p);
        p = comma ? comma + 1 : tail;
    }
    r->cols = cols;
    return TK_OK;
}

/* ---------------------------------------------------------------- streaming reader */

StatusCode csv_reader_open(CsvReader **out, const char *path, const char *const *text_columns,
                           Status *st) {
    *out = NULL;
    CsvReader *r = calloc(1, sizeof *r);
    if (!r)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->cap = CSV_READ_CHUNK;
    r->buf = malloc(r->cap + 1);
    if (!r->buf) {
        free(r);
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        int err = errno;
        free(r->buf);
        free(r);
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(err));
    }
    /* The UTF-8 byte-order mark some spreadsheet programs write is not part of the text. */
    StatusCode code = TK_OK;
    while (!r->eof && r->end < 3)
        if (refill(r) != 0) {
            code = status_fail(st, TK_EIO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    if (code == TK_OK && r->end >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3))
        r->start = 3;
    if (code == TK_OK)
        code = read_header(r, text_columns, st);
    if (code != TK_OK) {
        csv_reader_close(r);
        return code;
    }
    *out = r;
    return TK_OK;
}

int csv_reader_cols(const CsvReader *r) { return r->cols; }

const char *csv_reader_name(const CsvReader *r, int col) {
    return col >= 0 && col < r->cols ? r->names[col] : NULL;
}

long csv_reader_line(const CsvReader *r) { return r->row_line; }

static StatusCode cell_error(const CsvReader *r, int col, const char *cell, const char *cell_end,
                             const char *what, Status *st) {
    int shown = (int)(cell_end - cell);
    if (shown > 40)
        shown = 40;
    return status_fail(st, TK_EFORMAT, "%s: line %ld, column %d ('%.*s'): %s%s%.*s%s", r->path,
                       r->row_line, col + 1, CSV_NAME_SHOWN_CHARS, r->names[col], what,
                       shown ? " '" : "", shown, cell, shown ? "'" : "");
}

static int is_nan_or_inf_word(const char *p, const char *end) {
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    size_t n = (size_t)(end - p);
    return (n == 3 && (!strncasecmp(p, "nan", 3) || !strncasecmp(p, "inf", 3))) ||
           (n == 8 && !strncasecmp(p, "infinity", 8));
}

StatusCode csv_reader_next(CsvReader *r, float *values, const char **text, int *got,
                           Status *st) {
    char *line, *end;
    StatusCode code = next_line(r, &line, &end, got, st);
    if (code != TK_OK || !*got)
        return code;
    r->row_line = r->line;
    *got = 0;
    char *p = line;
    for (int c = 0; c < r->cols; c++) {
        if (c > 0) {
            if (p == end)
                return status_fail(st, TK_EFORMAT,
                                   "%s: line %ld: %d cells, the header has %d columns "
                                   "(column %d '%.*s' is missing)", r->path, r->row_line, c,
                                   r->cols, c + 1, CSV_NAME_SHOWN_CHARS, r->names[c]);
            p++; /* the comma */
        }
        char *cell_end = memchr(p, ',', (size_t)(end - p));
        if (!cell_end)
            cell_end = end;
        char *first = p, *last = cell_end;
        while (first < last && is_blank(*first))
            first++;
        while (last > first && is_blank(last[-1]))
            last--;
        if (memchr(first, '"', (size_t)(last - first)))
            return cell_error(r, c, first, last,
                              "quote character (quoting is not supported) in", st);
        if (r->is_text[c]) {
            *last = '\0'; /* the comma or line end after it is no longer needed */
            r->text[c] = first;
            values[c] = NAN;
            if (text)
                text[c] = first;
        } else {
            if (first == last)
                return cell_error(r, c, first, last, "empty cell", st);
            const char *stop = first;
            NumberResult res = parse_float(first, last, &values[c], &stop);
            if (res == NUM_OK && stop != last)
                res = NUM_SYNTAX;
            if (res == NUM_SYNTAX)
                return cell_error(r, c, first, last,
                                  is_nan_or_inf_word(first, last)
                                      ? "NaN and infinity are not allowed:"
                                      : "not a number:",
                                  st);
            if (res == NUM_OVERFLOW)
                return cell_error(r, c, first, last, "number too large for float32:", st);
            if (res == NUM_TOO_LONG)
                return cell_error(r, c, first, last, "number longer than 511 characters:", st);
        }
        p = cell_end;
    }
    if (p != end)
        return status_fail(st, TK_EFORMAT, "%s: line %ld: more than the header's %d columns",
                           r->path, r->row_line, r->cols);
    *got = 1;
    return TK_OK;
}

void csv_reader_close(CsvReader *r) {
    if (!r)
        return;
    if (r->fd >= 0)
        (void)close(r->fd);
    free(r->buf);
    free(r->names);
    free(r->is_text);
    free(r->text);
    free(r->names_storage);
    free(r);
}

/* ---------------------------------------------------------------- whole table
 *
 * Text cells of one column are packed one after another in a single allocation, whose start
 * is text[c][0] (so csv_free frees one block per column, not one per cell); while reading,
 * cells are kept as offsets because the block moves as it grows. */

typedef struct {
    char *bytes;
    size_t used, cap;
    size_t *offsets;
} TextColumn;

static int text_column_add(TextColumn *tc, const char *s, long row) {
    size_t len = strlen(s) + 1;
    if (tc->used + len > tc->cap) {
        size_t cap = tc->cap ? tc->cap * 2 : 4096;
        while (cap < tc->used + len)
            cap *= 2;
        char *grown = realloc(tc->bytes, cap);
        if (!grown)
            return -1;
        tc->bytes = grown;
        tc->cap = cap;
    }
    tc->offsets[row] = tc->used;
    memcpy(tc->bytes + tc->used, s, len);
    tc->used += len;
    return 0;
}

void csv_free(CsvTable *t) {
    if (t->text) {
        for (int c = 0; c < t->cols; c++)
            if (t->text[c]) {
                if (t->rows > 0)
                    free(t->text[c][0]);
                free(t->text[c]);
            }
        free(t->text);
    }
    if (t->names) {
        for (int c = 0; c < t->cols; c++)
            free(t->names[c]);
        free(t->names);
    }
    free(t->data);
    memset(t, 0, sizeof *t);
}

int csv_column(const CsvTable *t, const char *name) {
    for (int c = 0; c < t->cols; c++)
        if (!strcmp(t->names[c], name))
            return c;
    return -1;
}

StatusCode csv_read(CsvTable *t, const char *path, const char *const *text_columns,
                    Status *st) {
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    CsvReader *r;
    StatusCode code = csv_reader_open(&r, path, text_columns, st);
    if (code != TK_OK)
        return code;
    const int cols = r->cols;
    TextColumn *tcs = calloc((size_t)cols, sizeof *tcs);
    const char **row_text = calloc((size_t)cols, sizeof *row_text);
    t->names = calloc((size_t)cols, sizeof *t->names);
    t->cols = cols;
    size_t row_cap = 0;
    if (!tcs || !row_text || !t->names) {
        code = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int c = 0; c < cols; c++)
        if (!(t->names[c] = strdup(r->names[c]))) {
            code = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
            goto done;
        }
    for (;;) {
        if ((size_t)t->rows == row_cap) {
            size_t cap = row_cap ? row_cap * 2 : 1024;
            if (cap > (size_t)INT32_MAX || cap > SIZE_MAX / sizeof(float) / (size_t)cols) {
                code = status_fail(st, TK_EUNSUPPORTED, "%s: line %ld: too many rows", path,
                                   r->line);
                goto done;
            }
            float *data = realloc(t->data, cap * (size_t)cols * sizeof(float));
            if (!data) {
                code = status_fail(st, TK_ENOMEM, "%s: out of memory after %d rows", path,
                                   t->rows);
                goto done;
            }
            t->data = data;
            for (int c = 0; c < cols; c++) {
                if (!r->is_text[c])
                    continue;
                size_t *offsets = realloc(tcs[c].offsets, cap * sizeof(size_t));
                if (!offsets) {
                    code = status_fail(st, TK_ENOMEM, "%s: out of memory after %d rows", path,
                                       t->rows);
                    goto done;
                }
                tcs[c].offsets = offsets;
            }
            row_cap = cap;
        }
        int got;
        code = csv_reader_next(r, t->data + (size_t)t->rows * cols, row_text, &got, st);
        if (code != TK_OK)
            goto done;
        if (!got)
            break;
        for (int c = 0; c < cols; c++)
            if (r->is_text[c] && text_column_add(&tcs[c], row_text[c], t->rows) != 0) {
                code = status_fail(st, TK_ENOMEM, "%s: out of memory after %d rows", path,
                                   t->rows);
                goto done;
            }
        t->rows++;
    }
    if (t->rows > 0 && (size_t)t->rows < row_cap) {
        /* Give back what the doubling over-allocated (up to half of a large table). */
        float *data = realloc(t->data, (size_t)t->rows * cols * sizeof(float));
        if (data)
            t->data = data;
    }
    for (int c = 0; c < cols; c++) {
        if (!r->is_text[c])
            continue;
        if (!t->text && !(t->text = calloc((size_t)cols, sizeof *t->text))) {
            code = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        char **ptrs = malloc((t->rows > 0 ? (size_t)t->rows : 1) * sizeof *ptrs);
        if (!ptrs) {
            code = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        for (int i = 0; i < t->rows; i++)
            ptrs[i] = tcs[c].bytes + tcs[c].offsets[i];
        if (t->rows > 0)
            tcs[c].bytes = NULL; /* now owned by the table, through text[c][0] */
        t->text[c] = ptrs;
    }
done:
    if (tcs)
        for (int c = 0; c < cols; c++) {
            free(tcs[c].bytes);
            free(tcs[c].offsets);
        }
    free(tcs);
    free(row_text);
    csv_reader_close(r);
    if (code != TK_OK)
        csv_free(t);
    return code;
}

char csv_coordinate_axis(const char *name)
{
    if ((name[0] != 'x' && name[0] != 'y' && name[0] != 'z' && name[0] != 'v') || !name[1])
        return 0;
    for (const char *c = name + 1; *c; c++)
        if (!isdigit((unsigned char)*c))
            return 0;
    return name[0];
}
