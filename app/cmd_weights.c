/* cmd_weights.c — `takt weights <subcommand>`: tools for .tkw weight files.
 *   info FILE    validate FILE and print its metadata and tensor table
 *   import-tflite IN.tflite OUT.tkw [--f32]   convert a TFLite model (io/tflite_import.c)
 * Subcommands live in one table, so a new one is a function and a row. */
#include "app.h"
#include "../io/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define META_VALUE_SHOWN_CHARS 100

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;   /* the argument synopsis after the subcommand's name */
    const char *summary;
} WeightsCommand;

static int weights_info(int argc, char **argv);
static int weights_import_tflite(int argc, char **argv);

static const WeightsCommand weights_commands[] = {
    {"info", weights_info, "FILE",
     "check every field and CRC of FILE, then print its metadata and tensors"},
    {"import-tflite", weights_import_tflite, "IN.tflite OUT.tkw [--f32]",
     "convert a TFLite model (BlazePose) into a .tkw with its operator graph"},
};

#define N_WEIGHTS_COMMANDS ((int)(sizeof weights_commands / sizeof weights_commands[0]))

static void weights_usage(void) {
    printf("usage: takt weights <subcommand> [args]\n\nsubcommands:\n");
    for (int i = 0; i < N_WEIGHTS_COMMANDS; i++)
        printf("  %s %-10s %s\n", weights_commands[i].name, weights_commands[i].usage,
               weights_commands[i].summary);
}

/* Continuation bytes do not start a character; counting the rest gives the width of the
 * (validated UTF-8) names closely enough to align columns. */
static int display_width(const char *s) {
    int width = 0;
    for (; *s; s++)
        width += ((unsigned char)*s & 0xC0) != 0x80;
    return width;
}

static void print_padded(const char *s, int width) {
    fputs(s, stdout);
    for (int pad = width - display_width(s); pad > 0; pad--)
        putchar(' ');
}

/* Values may hold newlines or other control characters, which would break the one-line-per
 * entry listing (or drive the terminal), so they are shown escaped. */
static void print_meta_value(const char *value) {
    int shown = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        int starts_char = (*p & 0xC0) != 0x80;
        if (starts_char && shown == META_VALUE_SHOWN_CHARS) {
            fputs("…", stdout);
            return;
        }
        shown += starts_char;
        if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '\t')
            fputs("\\t", stdout);
        else if (*p < 0x20 || *p == 0x7F)
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
}

static void tensor_shape_of(const TkwTensor *t, char *buf, size_t bufsize) {
    Tensor view = tensor_view(NULL, t->ndim, t->shape);
    tensor_shape_str(&view, buf, bufsize);
}

static void print_info(const TkwFile *f, const char *path) {
    printf("file:    %s\n", path);
    printf("format:  tkw version %d\n", TKW_VERSION);
    printf("size:    %zu bytes\n", f->size);

    printf("\nmetadata (%d):\n", f->n_meta);
    for (int i = 0; i < f->n_meta; i++) {
        printf("  %s = ", f->meta[i].key);
        print_meta_value(f->meta[i].value);
        putchar('\n');
    }

    printf("\ntensors (%d):\n", f->n_tensors);
    /* Columns as wide as their widest cell, so the table stays aligned and tight. */
    int w_name = display_width("name"), w_shape = 5, w_count = 5, w_bytes = 5, w_offset = 6;
    char shape[64], number[32];
    for (int i = 0; i < f->n_tensors; i++) {
        const TkwTensor *t = &f->tensors[i];
        int w = display_width(t->name);
        w_name = w > w_name ? w : w_name;
        tensor_shape_of(t, shape, sizeof shape);
        w = (int)strlen(shape);
        w_shape = w > w_shape ? w : w_shape;
        w = snprintf(number, sizeof number, "%zu", t->count);
        w_count = w > w_count ? w : w_count;
        w = snprintf(number, sizeof number, "%" PRIu64, t->bytes);
        w_bytes = w > w_bytes ? w : w_bytes;
        w = snprintf(number, sizeof number, "%" PRIu64, t->offset);
        w_offset = w > w_offset ? w : w_offset;
    }
    printf("  ");
    print_padded("name", w_name);
    printf("  dtype  %-*s  %*s  %*s  %*s  crc\n", w_shape, "shape", w_count, "count", w_bytes,
           "bytes", w_offset, "offset");
    uint64_t total_params = 0, total_bytes = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        const TkwTensor *t = &f->tensors[i];
        tensor_shape_of(t, shape, sizeof shape);
        printf("  ");
        print_padded(t->name, w_name);
        printf("  %-5s  %-*s  %*zu  %*" PRIu64 "  %*" PRIu64 "  0x%08" PRIx32 "\n",
               t->dtype == DTYPE_F16 ? "f16" : "f32", w_shape, shape, w_count, t->count,
               w_bytes, t->bytes, w_offset, t->offset, t->crc);
        total_params += t->count;
        total_bytes += t->bytes;
    }
    printf("\ntotal: %d tensors, %" PRIu64 " parameters, %" PRIu64 " bytes\n", f->n_tensors,
           total_params, total_bytes);
}

static int weights_info(int argc, char **argv) {
    if (app_wants_help(argc, argv)) {
        printf("usage: takt weights info FILE\n\n"
               "Validates FILE (header, metadata, tensor table, every CRC) and prints its\n"
               "format version, size, metadata (key = value; long values are shortened) and\n"
               "tensors (name, dtype, shape, count, bytes, offset in the file, CRC-32), then\n"
               "the totals. Exits 1 if the file is unreadable or corrupt.\n");
        return EXIT_OK;
    }
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return app_usage_error("weights", "info: unknown option '%s'", argv[i]);
        if (path)
            return app_usage_error("weights", "info: takes one FILE, got '%s' and '%s'", path,
                                   argv[i]);
        path = argv[i];
    }
    if (!path)
        return app_usage_error("weights", "info: missing FILE");

    Status st = {0};
    TkwFile f;
    if (tkw_open(&f, path, &st) != TK_OK)
        return app_fail(&st);
    print_info(&f, path);
    tkw_close(&f);
    /* A full disk or closed pipe must not look like success to a script. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        status_fail(&st, TK_EIO, "cannot write to standard output: %s", strerror(errno));
        return app_fail(&st);
    }
    return EXIT_OK;
}

static int weights_import_tflite(int argc, char **argv) {
    if (app_wants_help(argc, argv)) {
        printf("usage: takt weights import-tflite IN.tflite OUT.tkw [--f32]\n\n"
               "Converts IN.tflite into OUT.tkw: float16 weights are kept as float16 (as\n"
               "float32 with --f32), sparse weights are densified, conv weights are stored in\n"
               "the layout takt's kernels read, and the operator graph, the source's name and\n"
               "sha256 and the model kind are stored as metadata. OUT.tkw is written to\n"
               "OUT.tkw.tmp and renamed. Exits 1 if IN.tflite is malformed or uses an\n"
               "operator takt does not run (the message names it).\n");
        return EXIT_OK;
    }
    const char *paths[2] = {NULL, NULL};
    int n_paths = 0;
    Dtype dtype = DTYPE_F16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--f32"))
            dtype = DTYPE_F32;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return app_usage_error("weights", "import-tflite: unknown option '%s'", argv[i]);
        else if (n_paths == 2)
            return app_usage_error("weights", "import-tflite: takes IN.tflite and OUT.tkw, got "
                                   "a third path '%s'", argv[i]);
        else
            paths[n_paths++] = argv[i];
    }
    if (n_paths != 2)
        return app_usage_error("weights", "import-tflite: needs IN.tflite and OUT.tkw");
    Status st = {0};
    if (tflite_import(paths[0], paths[1], dtype, &st) != TK_OK)
        return app_fail(&st);
    return EXIT_OK;
}

int cmd_weights(int argc, char **argv) {
    if (argc < 2)
        return app_usage_error("weights", "missing subcommand");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        weights_usage();
        return EXIT_OK;
    }
    for (int i = 0; i < N_WEIGHTS_COMMANDS; i++)
        if (!strcmp(argv[1], weights_commands[i].name))
            return weights_commands[i].run(argc - 1, argv + 1);
    return app_usage_error("weights", "unknown subcommand '%s'", argv[1]);
}
