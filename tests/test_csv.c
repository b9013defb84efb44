/* test_csv.c — the CSV reader: values bit-identical to strtof (random and hand-picked numbers,
 * including halfway cases), comments, blank lines, CRLF, text columns, rows spanning read
 * buffers and lines longer than one, the streaming API against the whole-table one, and every
 * refused input with an error naming file, line and column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/io.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Reads `text` as a whole table and expects a format error whose message holds every needle. */
static void expect_error(const char *text, const char *const *text_columns,
                         const char *const *needles) {
    const char *path = test_scratch_write("bad.csv", text);
    CsvTable t;
    Status st = {0};
    StatusCode code = csv_read(&t, path, text_columns, &st);
    cr_assert_eq(code, TK_EFORMAT, "accepted:\n%s", text);
    cr_assert(strstr(st.msg, path) == st.msg, "message does not start with the path: %s",
              st.msg);
    for (const char *const *n = needles; *n; n++)
        cr_assert(strstr(st.msg, *n) != NULL, "message lacks '%s': %s", *n, st.msg);
    cr_assert_null(t.data, "a failed read leaves data behind");
    unlink(path);
}

TestSuite(csv, .init = test_scratch_begin, .fini = test_scratch_end);

/* ---------------------------------------------------------------- accepted input */

Test(csv, reads_values_names_comments_crlf_and_text) {
    const char *text = "\xEF\xBB\xBF# made by hand\r\n"
                       "frame, label ,x0,y0\r\n"
                       "\r\n"
                       "0,reach,0.5,-1.25e2\r\n"
                       "# a comment between rows\n"
                       "   \n"
                       "1, grasp,  +3 ,.75\n"
                       "2,,1e-3,-0\n"
                       "3,move,4.,12345678901234567890123";
    const char *path = test_scratch_write("ok.csv", text);
    const char *text_cols[] = {"label", "not_a_column", NULL};
    CsvTable t;
    Status st = {0};
    cr_assert_eq(csv_read(&t, path, text_cols, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(t.rows, 4);
    cr_assert_eq(t.cols, 4);
    cr_assert_str_eq(t.names[0], "frame");
    cr_assert_str_eq(t.names[1], "label");
    cr_assert_eq(csv_column(&t, "y0"), 3);
    cr_assert_eq(csv_column(&t, "z0"), -1);
    const float expect[4][4] = {{0, NAN, 0.5f, -125.0f},
                                {1, NAN, 3.0f, 0.75f},
                                {2, NAN, 1e-3f, -0.0f},
                                {3, NAN, 4.0f, 12345678901234567890123.0f}};
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            float v = t.data[r * 4 + c];
            if (c == 1)
                cr_assert(isnan(v), "text column holds %g", v);
            else
                cr_assert(same_bits(v, expect[r][c]), "row %d col %d: %.9g", r, c, v);
        }
    cr_assert(signbit(t.data[2 * 4 + 3]), "-0 lost its sign");
    cr_assert_not_null(t.text);
    cr_assert_null(t.text[0]);
    cr_assert_null(t.text[2]);
    cr_assert_str_eq(t.text[1][0], "reach");
    cr_assert_str_eq(t.text[1][1], "grasp");
    cr_assert_str_eq(t.text[1][2], "");
    cr_assert_str_eq(t.text[1][3], "move");
    csv_free(&t);
    cr_assert_null(t.data);
}

Test(csv, header_only_file_has_zero_rows) {
    const char *path = test_scratch_write("empty.csv", "a,b,label\n# nothing yet\n");
    const char *text_cols[] = {"label", NULL};
    CsvTable t;
    Status st = {0};
    cr_assert_eq(csv_read(&t, path, text_cols, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(t.rows, 0);
    cr_assert_eq(t.cols, 3);
    cr_assert_not_null(t.text[2]);
    csv_free(&t);
}

/* Every parsed value must have the bits strtof gives for the same text: random magnitudes
 * from 1e-30 to 1e30 printed with 1 to 17 significant digits and in several notations, plus
 * halfway cases between floats, which the fast path must hand over to strtof. */
Test(csv, numbers_are_bit_identical_to_strtof) {
    enum { N = 60000 };
    static const char *const hand_picked[] = {
        "16777217",      "16777219",         "33554434",  "3.4028235e38", "3.4028234e38",
        "1.17549435e-38", "1.4e-45",         "7e-46",     "1e-50",        "0.1",
        "0.30000000000000004", "9007199254740993", "123456789012345678901234567890",
        "0.000000000000000000000000000000000001", "1e22", "1e23", "4.2e-22", "-8388609",
        "1.00000005960464477539062", "1.000000059604644775390625", "0", "00012.50", "5e+3",
        /* decimals within half a double ulp of a float midpoint (found by search): */
        "3.125000186264515e-02", "3.125002048909664e-02", "3.125003166496754e-02",
    };
    const int n_hand = (int)(sizeof hand_picked / sizeof hand_picked[0]);
    size_t cap = (size_t)(N + n_hand) * 40 + 16;
    char *text = malloc(cap);
    char (*cells)[40] = malloc(sizeof(*cells) * (N + n_hand));
    cr_assert(text && cells);
    size_t len = (size_t)sprintf(text, "v\n");
    Rng rng;
    rng_seed(&rng, 42, 0);
    static const char *const formats[] = {"%.*g", "%.*e", "%.*f"};
    for (int i = 0; i < N; i++) {
        double mag = pow(10.0, 60.0 * rng_uniform_double(&rng) - 30.0);
        double v = (rng_u64(&rng) & 1 ? -1 : 1) * mag;
        int digits = 1 + (int)rng_below(&rng, 17);
        int form = (int)rng_below(&rng, 3);
        if (form == 2 && (mag > 1e12 || mag < 1e-6))
            form = 0;
        snprintf(cells[i], sizeof cells[i], formats[form], digits, v);
    }
    for (int i = 0; i < n_hand; i++)
        snprintf(cells[N + i], sizeof cells[0], "%s", hand_picked[i]);
    for (int i = 0; i < N + n_hand; i++)
        len += (size_t)sprintf(text + len, "%s\n", cells[i]);
    const char *path = test_scratch_write_bytes("numbers.csv", text, len);
    CsvTable t;
    Status st = {0};
    cr_assert_eq(csv_read(&t, path, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(t.rows, N + n_hand);
    for (int i = 0; i < t.rows; i++) {
        float want = strtof(cells[i], NULL);
        cr_assert(same_bits(t.data[i], want), "'%s': got %.9g, strtof %.9g", cells[i],
                  t.data[i], want);
    }
    csv_free(&t);
    free(cells);
    free(text);
}

/* Rows straddle the 1 MiB read chunks, and one line (a long text cell) is longer than a
 * chunk, so the buffer must carry partial lines over and grow. */
Test(csv, rows_across_buffer_boundaries_and_a_line_longer_than_the_buffer) {
    enum { ROWS = 60000, LONG_CELL = 3 << 20 };
    size_t cap = (size_t)ROWS * 64 + LONG_CELL + 64;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t len = (size_t)sprintf(text, "i,note,a,b\n");
    for (int i = 0; i < ROWS; i++) {
        if (i == ROWS / 2) {
            len += (size_t)sprintf(text + len, "%d,", i);
            memset(text + len, 'x', LONG_CELL);
            len += LONG_CELL;
            len += (size_t)sprintf(text + len, ",%d.25,%d\n", i, -i);
        } else {
            len += (size_t)sprintf(text + len, "%d,n%d,%d.25,%d\n", i, i % 7, i, -i);
        }
    }
    const char *path = test_scratch_write_bytes("big.csv", text, len);
    free(text);
    const char *text_cols[] = {"note", NULL};
    CsvTable t;
    Status st = {0};
    cr_assert_eq(csv_read(&t, path, text_cols, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(t.rows, ROWS);
    for (int i = 0; i < ROWS; i++) {
        cr_assert_eq(t.data[i * 4 + 0], (float)i);
        cr_assert_eq(t.data[i * 4 + 2], (float)i + 0.25f, "row %d", i);
        cr_assert_eq(t.data[i * 4 + 3], (float)-i);
    }
    cr_assert_eq(strlen(t.text[1][ROWS / 2]), (size_t)LONG_CELL);
    char expect_note[16];
    snprintf(expect_note, sizeof expect_note, "n%d", (ROWS / 2 + 1) % 7);
    cr_assert_str_eq(t.text[1][ROWS / 2 + 1], expect_note);

    /* The streaming reader sees the same rows and reports their line numbers. */
    CsvReader *r;
    cr_assert_eq(csv_reader_open(&r, path, text_cols, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(csv_reader_cols(r), 4);
    cr_assert_str_eq(csv_reader_name(r, 3), "b");
    cr_assert_null(csv_reader_name(r, 4));
    float row[4];
    const char *cells[4];
    int got, n = 0;
    while (csv_reader_next(r, row, cells, &got, &st) == TK_OK && got) {
        cr_assert_eq(csv_reader_line(r), n + 2);
        cr_assert(memcmp(row, t.data + n * 4, sizeof row) == 0 || isnan(row[1]), "row %d", n);
        cr_assert_eq(row[3], t.data[n * 4 + 3]);
        cr_assert_str_eq(cells[1], t.text[1][n]);
        n++;
    }
    cr_assert_eq(n, ROWS, "stopped at %d: %s", n, st.msg);
    csv_reader_close(r);
    csv_free(&t);
}

/* ---------------------------------------------------------------- refused input */

Test(csv, missing_and_empty_files) {
    CsvTable t;
    Status st = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/does-not-exist.csv", test_scratch_dir());
    cr_assert_eq(csv_read(&t, path, NULL, &st), TK_EIO);
    cr_assert(strstr(st.msg, path) && strstr(st.msg, "No such file"), "%s", st.msg);
    const char *empty[] = {"empty file", NULL};
    expect_error("", NULL, empty);
    expect_error("# only a comment\n\n", NULL, empty);
}

Test(csv, wrong_number_of_cells_names_line_and_column) {
    const char *fewer[] = {"line 3", "2 cells", "3 columns", "column 3 'c'", NULL};
    expect_error("a,b,c\n1,2,3\n4,5\n", NULL, fewer);
    const char *more[] = {"line 4", "more than the header's 3 columns", NULL};
    expect_error("a,b,c\n# c\n1,2,3\n4,5,6,7\n", NULL, more);
    const char *trailing_comma[] = {"line 2", "more than", NULL};
    expect_error("a,b\n1,2,\n", NULL, trailing_comma);
}

Test(csv, bad_cells_name_line_column_and_text) {
    const char *text_cell[] = {"line 3, column 2 ('y')", "not a number", "'abc'", NULL};
    expect_error("x,y\n1,2\n3,abc\n", NULL, text_cell);
    const char *trailing[] = {"line 2, column 1 ('x')", "not a number", "'1.5kg'", NULL};
    expect_error("x,y\n1.5kg,2\n", NULL, trailing);
    const char *two_numbers[] = {"column 2 ('y')", "not a number", "'1 2'", NULL};
    expect_error("x,y\n1,1 2\n", NULL, two_numbers);
    const char *exp_without_digits[] = {"column 1 ('x')", "'1e'", NULL};
    expect_error("x\n1e\n", NULL, exp_without_digits);
    const char *hex[] = {"column 1 ('x')", "not a number", "'0x10'", NULL};
    expect_error("x\n0x10\n", NULL, hex);
    const char *lone_sign[] = {"not a number", "'-'", NULL};
    expect_error("x\n-\n", NULL, lone_sign);
    const char *lone_dot[] = {"not a number", "'.'", NULL};
    expect_error("x\n.\n", NULL, lone_dot);
    const char *nan[] = {"line 2, column 2 ('y')", "NaN and infinity are not allowed", NULL};
    expect_error("x,y\n1,NaN\n", NULL, nan);
    const char *inf[] = {"line 2, column 1 ('x')", "NaN and infinity", "'-inf'", NULL};
    expect_error("x,y\n-inf,1\n", NULL, inf);
    const char *infinity[] = {"NaN and infinity", NULL};
    expect_error("x,y\n1,Infinity\n", NULL, infinity);
    const char *overflow[] = {"line 2, column 1 ('x')", "too large for float32", "'1e39'", NULL};
    expect_error("x\n1e39\n", NULL, overflow);
    const char *empty[] = {"line 2, column 2 ('y')", "empty cell", NULL};
    expect_error("x,y,z\n1,,3\n", NULL, empty);
    const char *blank[] = {"line 2, column 3 ('z')", "empty cell", NULL};
    expect_error("x,y,z\n1,2,  \n", NULL, blank);
}

Test(csv, quotes_are_refused_not_misread) {
    const char *in_cell[] = {"line 2, column 2 ('y')", "quote character", NULL};
    expect_error("x,y\n1,\"2\"\n", NULL, in_cell);
    const char *in_text[] = {"line 3, column 1 ('label')", "quote character", NULL};
    const char *quoted_cols[] = {"label", NULL};
    expect_error("label,y\nok,1\n\"a,b\",2\n", quoted_cols, in_text);
    const char *in_header[] = {"line 1", "quote character in the header", NULL};
    expect_error("\"x\",y\n1,2\n", NULL, in_header);
    /* An apostrophe is not a quote in CSV: it stays in a text cell. */
    const char *path = test_scratch_write("apostrophe.csv", "label,v\noperator's check,1\n");
    const char *text_cols[] = {"label", NULL};
    CsvTable t;
    Status st = {0};
    cr_assert_eq(csv_read(&t, path, text_cols, &st), TK_OK, "%s", st.msg);
    cr_assert_str_eq(t.text[0][0], "operator's check");
    csv_free(&t);
}

Test(csv, bad_headers) {
    const char *empty_name[] = {"line 1", "column 2 has an empty name", NULL};
    expect_error("x,,z\n1,2,3\n", NULL, empty_name);
    const char *repeated[] = {"line 2", "column 3", "'x' repeats column 1", NULL};
    expect_error("# c\nx,y,x\n1,2,3\n", NULL, repeated);
    const char *nul[] = {"line 2", "NUL byte", NULL};
    const char *path = test_scratch_write_bytes("nul.csv", "x\n1\0\n", 5);
    CsvTable t;
    Status st = {0};
    cr_assert_eq(csv_read(&t, path, NULL, &st), TK_EFORMAT);
    for (const char *const *n = nul; *n; n++)
        cr_assert(strstr(st.msg, *n) != NULL, "message lacks '%s': %s", *n, st.msg);
}

/* The streaming reader refuses a bad row after handing out the good ones before it. */
Test(csv, streaming_reader_stops_at_the_bad_row) {
    const char *path = test_scratch_write("stream.csv", "a,b\n1,2\n3,4\n5,x\n7,8\n");
    CsvReader *r;
    Status st = {0};
    cr_assert_eq(csv_reader_open(&r, path, NULL, &st), TK_OK, "%s", st.msg);
    float v[2];
    int got;
    cr_assert_eq(csv_reader_next(r, v, NULL, &got, &st), TK_OK);
    cr_assert(got && v[0] == 1 && v[1] == 2);
    cr_assert_eq(csv_reader_next(r, v, NULL, &got, &st), TK_OK);
    cr_assert(got && v[0] == 3 && v[1] == 4);
    cr_assert_eq(csv_reader_next(r, v, NULL, &got, &st), TK_EFORMAT);
    cr_assert(strstr(st.msg, "line 4, column 2 ('b')") != NULL, "%s", st.msg);
    csv_reader_close(r);
    cr_assert_eq(csv_reader_open(&r, "/nonexistent/dir/x.csv", NULL, &st), TK_EIO);
    cr_assert_null(r);
}
