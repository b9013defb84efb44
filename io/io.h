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
 *   BVH          motion capture files: joint tree, channels, frames; forward kinematics to
 *                world joint positions and the raw rotation channels as features.
 *   SeqSet       labelled sequence data sets (BVH class folders, labelled CSVs, keypoints
 *                cut by segments), splits, fixed-length resampling, normalisation.
 *   PNG, plots   png_write_rgb (libpng); drawing on an Image and the plots takt writes
 *                (scatter, lines, heat map, dendrogram, timeline) with its own bitmap font.
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
/* The axis letter of a keypoint coordinate column named like "x12", "y0", "z7" or "v3"
 * (visibility), else 0. */
char csv_coordinate_axis(const char *name);

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

/* ---------------------------------------------------------------- BVH (io/bvh.c)
 *
 * Biovision Hierarchy motion capture: HIERARCHY (ROOTs, JOINTs, End Sites, OFFSET, CHANNELS
 * 3 or 6 in any order of X/Y/Zposition and X/Y/Zrotation), then MOTION (Frames:, Frame Time:,
 * one line of numbers per frame). CRLF, tabs and blank lines are accepted; anything malformed
 * (bad channel count, a frame line with the wrong number of values, fewer frames than
 * declared, a non-number, unbalanced braces, a missing section) is TK_EFORMAT with the file,
 * the line and what was expected.
 *
 * Forward kinematics (bvh_positions): a joint's rotation is the product of its rotation
 * channels in the order listed (ZXY -> Rz·Rx·Ry, degrees); world position = parent position
 * + parent world rotation · local translation, where the local translation is the OFFSET with
 * each position channel replacing the OFFSET component of its axis. Joints come in file
 * order, so a parent always precedes its children. */

#define BVH_NAME_MAX 64

typedef enum {
    BVH_XPOSITION, BVH_YPOSITION, BVH_ZPOSITION, BVH_XROTATION, BVH_YROTATION, BVH_ZROTATION
} BvhChannel;

typedef struct {
    char name[BVH_NAME_MAX];
    int parent;              /* index of the parent joint, -1 for a ROOT */
    double offset[3];
    int n_channels;          /* 3 or 6 */
    int first_channel;       /* column of its first channel in a motion row */
    unsigned char channel[6]; /* BvhChannel, in the file's order */
    int line;                /* where the joint is declared */
} BvhJoint;

typedef struct {
    int parent;              /* the joint it ends */
    double offset[3];
} BvhEndSite;

typedef struct {
    char path[1024];
    int n_joints, n_end_sites;
    BvhJoint *joints;
    BvhEndSite *end_sites;   /* in file order */
    int n_channels;          /* values per frame: the sum of the joints' channels */
    int n_frames;
    double frame_time;       /* seconds */
    float *motion;           /* n_frames x n_channels, as written (degrees, file units) */
} Bvh;

StatusCode bvh_read(Bvh *b, const char *path, Status *st);
/* The same from text in memory; name is used in messages. */
StatusCode bvh_parse(Bvh *b, const char *text, size_t size, const char *name, Status *st);
void bvh_free(Bvh *b);
int bvh_joint_index(const Bvh *b, const char *name); /* -1 when absent */
/* Points per frame of bvh_positions: the joints, then (with_end_sites) the End Sites. */
int bvh_point_count(const Bvh *b, int with_end_sites);
/* World positions, out [n_frames x bvh_point_count x 3], in the file's units. */
StatusCode bvh_positions(const Bvh *b, int with_end_sites, float *out, Status *st);
/* The rotation channels alone (degrees, file order): out [n_frames x bvh_rotation_count]. */
int bvh_rotation_count(const Bvh *b);
void bvh_rotations(const Bvh *b, float *out);

/* ---------------------------------------------------------------- sequence data sets
 * (io/seqdata.c)
 *
 * Labelled variable-length sequences for the skeleton classifiers, from one of:
 *   a folder per class of BVH files, DATA/<class>/NAME.bvh (HARNets' layout): classes are the
 *     sub-folders holding .bvh files, sorted by name; files sorted by name; seq_id = position;
 *   a labelled CSV of ../shared/data (seq_id,frame,label,x0,y0[,z0],...; the rows of one
 *     seq_id contiguous, frames increasing, one label per sequence): class names from
 *     labels.txt ("<id> <name>") and subjects from sequences.csv (its subject column) when
 *     they are in the same folder;
 *   BVH files listed by an index CSV (seq_id,file,label), as ../shared/data/bandai_namco_1;
 *   a keypoints CSV of `takt pose` (frame,time_s,pose,x0,y0,z0,v0,...; features x,y[,z] of
 *     every landmark, visibility only when asked) cut by a segments CSV (start_frame,end_frame,label,
 *     frames inclusive; labels whole numbers = class ids, else names numbered in sorted order).
 * Errors name the file and the line. */

typedef struct {
    int n_frames;
    float *x;        /* n_frames x n_features */
    int label;       /* class id, 0..n_classes-1 */
    int seq_id;
    int subject;     /* -1 when unknown */
    char *source;    /* the file it came from (BVH and keypoints), NULL for a labelled CSV */
} Sequence;

typedef struct {
    int n, n_features, n_classes;
    Sequence *seqs;
    char **class_names; /* n_classes */
} SeqSet;

/* Per-frame features of a BVH file: world joint positions by forward kinematics (End Sites
 * left out), every raw channel, the rotation channels only, or positions then rotations (what
 * HARNets feeds its LSTM: bvh-converter's position and rotation CSVs side by side). */
typedef enum {
    SEQ_BVH_POSITIONS, SEQ_BVH_CHANNELS, SEQ_BVH_ROTATIONS, SEQ_BVH_POSITIONS_ROTATIONS
} SeqBvhFeatures;

int seq_bvh_feature_count(const Bvh *b, SeqBvhFeatures features);
/* out [n_frames x seq_bvh_feature_count] */
StatusCode seq_bvh_features(const Bvh *b, SeqBvhFeatures features, float *out, Status *st);

StatusCode seqset_load_bvh_folder(SeqSet *s, const char *dir, SeqBvhFeatures features,
                                  Status *st);
StatusCode seqset_load_labelled_csv(SeqSet *s, const char *path, Status *st);
/* BVH files listed by an index CSV (seq_id,file,label[,subject], other columns ignored, e.g.
 * ../shared/data/bandai_namco_1/sequences.csv), read from bvh_dir (NULL: the index's folder);
 * class names from labels.txt beside the index. */
StatusCode seqset_load_bvh_index(SeqSet *s, const char *index_csv, const char *bvh_dir,
                                 SeqBvhFeatures features, Status *st);
/* columns: 0 = x, y, z of every landmark; SEQ_KEYPOINTS_XY = x, y; SEQ_KEYPOINTS_VISIBILITY
 * adds each landmark's visibility after its coordinates. segments_csv NULL: the whole file is
 * one sequence (label 0), e.g. to predict its class. */
enum { SEQ_KEYPOINTS_XY = 1, SEQ_KEYPOINTS_VISIBILITY = 2 };
StatusCode seqset_load_keypoints(SeqSet *s, const char *keypoints_csv, const char *segments_csv,
                                 int columns, Status *st);
/* Frames already in memory, x [n_frames x F] with increasing frame numbers frame[n_frames]
 * (e.g. per-frame features of a video), cut by a segments CSV as above; source names them. */
StatusCode seqset_cut_frames(SeqSet *s, const float *x, const int *frame, int n_frames, int F,
                             const char *segments_csv, const char *source, Status *st);
/* A folder: BVH folder; anything else: labelled CSV. */
StatusCode seqset_load(SeqSet *s, const char *path, SeqBvhFeatures features, Status *st);
void seqset_free(SeqSet *s);

/* is_val[n]: 1 = validation. Cross-subject: odd subjects train, even subjects validate. */
StatusCode seqset_split_even_subjects(const SeqSet *s, unsigned char *is_val, Status *st);
/* The seq_ids listed in path (separated by spaces, commas or lines; '#' starts a comment
 * line) validate, the others train. */
StatusCode seqset_split_file(const SeqSet *s, const char *path, unsigned char *is_val,
                             Status *st);

/* To T time steps: linear interpolation at T evenly spaced points from the first frame to the
 * last (numpy.interp at numpy.linspace(0, n_frames - 1, T)), or the first T frames with the
 * last one repeated when the sequence is shorter (HARNets reads the first 200 rows). */
typedef enum { SEQ_FIT_RESAMPLE, SEQ_FIT_CROP } SeqFit;

void seq_resample(const float *x, int n_frames, int F, int T, float *out); /* n_frames >= 1 */
void seq_crop(const float *x, int n_frames, int F, int T, float *out);

/* Per-feature x' = (x - shift) * scale, fitted on every frame of the training sequences:
 * z-score (mean, population standard deviation) or min-max to [0, 1]. A feature (nearly)
 * constant over those frames gets scale 0, so it maps to 0 everywhere. */
typedef enum { SEQ_NORM_ZSCORE, SEQ_NORM_MINMAX } SeqNormKind;

typedef struct {
    SeqNormKind kind;
    int n;
    float *shift, *scale; /* owned, n each */
} SeqNorm;

/* Fits on the sequences with is_val[i] == 0 (all when is_val is NULL). */
StatusCode seqnorm_fit(SeqNorm *m, const SeqSet *s, const unsigned char *is_val,
                       SeqNormKind kind, Status *st);
void seqnorm_apply(const SeqNorm *m, float *x, size_t rows);
void seqnorm_free(SeqNorm *m);
/* Sequences idx[0..n) fitted to T steps and normalised (norm may be NULL) into
 * out [n, T, n_features], the layout the LSTM classifier takes. */
void seqset_batch(const SeqSet *s, const int *idx, int n, int T, SeqFit fit,
                  const SeqNorm *norm, float *out);

/* ---------------------------------------------------------------- sha256 (FIPS 180-4) */

typedef struct {
    uint32_t h[8];
    uint64_t total;           /* bytes hashed so far */
    unsigned char block[64];
    size_t fill;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t n);
void sha256_final(Sha256 *s, unsigned char digest[32]);
/* Lower-case hex digest of n bytes into hex[65]. */
void sha256_hex(const void *data, size_t n, char hex[65]);

/* ---------------------------------------------------------------- TFLite models
 *
 * A reader of the TFLite flatbuffer (tensorflow/lite/schema/schema.fbs, schema version 3),
 * written from the public schema without a flatbuffers library. The file is treated as
 * hostile: every offset, vector length and string is checked against the buffer before use,
 * and errors name the byte offset or the operator. The model keeps pointers into the
 * caller's bytes (constant data, names), which must outlive it. Only the first subgraph is
 * read; the options of the operators BlazePose uses are decoded, others are kept by type so
 * that the importer can refuse them by name. */

#define TFL_MAX_DIMS 8
#define TFL_MAX_OP_IO 16

enum { TFL_FLOAT32 = 0, TFL_FLOAT16 = 1, TFL_INT32 = 2 }; /* TensorType values used here */

/* BuiltinOperator values (schema.fbs) of the operators takt runs or resolves. */
enum {
    TFL_OP_ADD = 0, TFL_OP_CONCATENATION = 2, TFL_OP_CONV_2D = 3,
    TFL_OP_DEPTHWISE_CONV_2D = 4, TFL_OP_DEPTH_TO_SPACE = 5, TFL_OP_DEQUANTIZE = 6,
    TFL_OP_LOGISTIC = 14, TFL_OP_MAX_POOL_2D = 17, TFL_OP_RESHAPE = 22,
    TFL_OP_RESIZE_BILINEAR = 23, TFL_OP_PAD = 34, TFL_OP_DENSIFY = 124,
};
enum { TFL_ACT_NONE = 0, TFL_ACT_RELU6 = 3 };   /* ActivationFunctionType values used here */
enum { TFL_PAD_SAME = 0, TFL_PAD_VALID = 1 };   /* Padding */

typedef struct {
    int sparse;               /* 0 DENSE, 1 SPARSE_CSR */
    int dense_size;
    int segments_type, indices_type;   /* SparseIndexVector: 1 int32, 2 uint16, 3 uint8 */
    const unsigned char *segments, *indices;
    int n_segments, n_indices;
} TfliteDimMeta;

typedef struct {
    int n_order, order[TFL_MAX_DIMS];      /* traversal_order */
    int n_block, block_map[TFL_MAX_DIMS];
    int n_dims;
    TfliteDimMeta dims[TFL_MAX_DIMS];
} TfliteSparsity;

typedef struct {
    const char *name;          /* NUL-terminated inside the model's bytes */
    int type;                  /* TensorType */
    int ndim, shape[TFL_MAX_DIMS];
    const unsigned char *data; /* constant contents, NULL for activations */
    size_t bytes;
    int has_sparsity;
    TfliteSparsity sparsity;
} TfliteTensor;

typedef struct {
    int builtin;               /* BuiltinOperator */
    int n_in, in[TFL_MAX_OP_IO];   /* tensor indices; -1 = optional input absent */
    int n_out, out[TFL_MAX_OP_IO];
    int padding, stride_w, stride_h, dilation_w, dilation_h, depth_multiplier;
    int activation, filter_w, filter_h;
    int align_corners, half_pixel_centers, axis, block_size;
} TfliteOp;

typedef struct {
    const unsigned char *base;
    size_t size;
    char name[256];
    int version;
    int n_tensors;
    TfliteTensor *tensors;
    int n_ops;
    TfliteOp *ops;
    int n_inputs, inputs[TFL_MAX_OP_IO];
    int n_outputs, outputs[TFL_MAX_OP_IO];
} TfliteModel;

/* Parses bytes (kept, not copied); name is used in messages. TK_EFORMAT on a malformed file,
 * TK_EUNSUPPORTED on a well-formed one outside what takt reads (several subgraphs, ...). */
StatusCode tflite_parse(TfliteModel *m, const void *bytes, size_t size, const char *name,
                        Status *st);
void tflite_free(TfliteModel *m);
const char *tflite_op_name(int builtin); /* "CONV_2D", or "BUILTIN_<n>" for others */
/* Expands the sparse constant tensor `t` into its dense row-major contents (elem_size bytes
 * per element, count = product of the shape) — what the DENSIFY operator computes. */
StatusCode tflite_densify(const TfliteModel *m, int t, void *dst, size_t elem_size,
                          size_t count, Status *st);

/* Converts a BlazePose-style .tflite into a .tkw holding the weights (float16 or float32) in
 * the layouts pose/net.c wants and the operator graph plus provenance as metadata (keys
 * below, graph syntax in io/tflite_import.c). DEQUANTIZE and DENSIFY are resolved here. */
StatusCode tflite_import(const char *in_path, const char *out_path, Dtype weight_dtype,
                         Status *st);

/* ---------------------------------------------------------------- images
 *
 * PNG and JPEG through stb_image (Debian's libstb). Every image becomes 8-bit RGB: grey is
 * replicated to the three channels, an alpha channel is dropped (not composited, as MediaPipe
 * drops it), 16-bit PNGs are reduced to 8 bits. Images with no pixels, or larger than the
 * limits below, are refused before any pixel memory is allocated. */

#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS (64L * 1024 * 1024)

typedef struct {
    int width, height;
    unsigned char *rgb; /* width * height * 3 bytes, row-major, no padding */
    size_t capacity;    /* bytes allocated; loads reuse the buffer when it is large enough */
} Image;

/* (Re)sizes img to width x height, keeping the buffer when it is large enough; the pixels are
 * not cleared. */
StatusCode image_resize_buffer(Image *img, int width, int height, Status *st);
void image_free(Image *img);
/* Errors name the file: unreadable, not an image, zero-size, too large. */
StatusCode image_load(Image *img, const char *path, Status *st);
StatusCode image_load_memory(Image *img, const void *bytes, size_t size, const char *name,
                             Status *st);
/* Writes img (8-bit RGB) as a PNG with libpng, through an AtomicFile (io/png.c). */
StatusCode png_write_rgb(const char *path, const Image *img, Status *st);

/* ---------------------------------------------------------------- video (frame sources)
 *
 * One interface over every input `takt pose` accepts:
 *   a single image (PNG/JPEG);
 *   a folder of images (PNG/JPEG by extension, sorted by name) or a glob pattern ("f*.png");
 *   Y4M, as `ffmpeg -i in.mp4 -f yuv4mpegpipe -` writes it, from a file or stdin ("-"):
 *     4:2:0 (C420jpeg, C420mpeg2, C420paldv, C420) and 4:4:4 (C444), 8 bits; YUV -> RGB with
 *     BT.601 limited-range coefficients and bicubic chroma upsampling, as ffmpeg's swscale
 *     does by default (within 1 level of `ffmpeg -pix_fmt rgb24`);
 *   raw RGB24 frames (stdin or a file) when opts.raw_width/raw_height are given;
 *   a video file in a container (MP4/MOV, Matroska/WebM, AVI, FLV, Ogg, MPEG-PS/TS, known by
 *     its first bytes): decoded by an ffmpeg child process into Y4M on a pipe (clear error
 *     when ffmpeg is not installed; its exit status is checked at the end of the stream).
 * A frame that cannot be read (a corrupt Y4M frame header, an unreadable image in a folder, a
 * truncated last frame) is reported as VIDEO_BAD_FRAME with the reason in st->msg and the
 * source moves on to the next frame; it still counts in the frame index, so times stay right. */

typedef enum { VIDEO_IMAGE, VIDEO_IMAGES, VIDEO_Y4M, VIDEO_RAW } VideoKind;
typedef enum { VIDEO_FRAME, VIDEO_END, VIDEO_BAD_FRAME } VideoRead;

typedef struct {
    int raw_width, raw_height; /* > 0: the input is raw RGB24 frames of this size */
    double fps;                /* frame rate of raw input, or of an image sequence; 0 = none */
} VideoOptions;

typedef struct VideoSource VideoSource;

/* input: a path, a glob pattern, or "-" for stdin. */
StatusCode video_open(VideoSource **v, const char *input, const VideoOptions *opts, Status *st);
/* Reads the next frame into frame (its buffer reused); *what says what happened. A returned
 * error (I/O failure, a Y4M header that cannot be parsed) ends the stream. */
StatusCode video_read(VideoSource *v, Image *frame, VideoRead *what, Status *st);
void video_close(VideoSource *v);
VideoKind video_kind(const VideoSource *v);
/* Frames per second (the Y4M header's, else opts.fps), 0 when unknown. */
double video_fps(const VideoSource *v);
/* Number of frames when it can be known in advance (folders, seekable Y4M/raw files), else -1. */
long video_frame_count(const VideoSource *v);
/* 0-based index of the frame just read (bad frames included). */
long video_frame_index(const VideoSource *v);
long video_bad_frames(const VideoSource *v);
/* The file the frame just read came from (image sources), else the input name. */
const char *video_frame_name(const VideoSource *v);

/* ---------------------------------------------------------------- plots
 *
 * PNG figures a person can read (io/plot.c, io/font.c): drawing on an Image (anti-aliased
 * lines, markers and circles, rectangles, text in takt's own bitmap font), and five plot
 * types with axes, "nice" ticks, grid, title, axis labels and legend. Colours follow the
 * Okabe-Ito palette (distinguishable with the common colour-vision deficiencies); beyond its
 * 8 colours scatter markers also change shape. Every plot is written through png_write_rgb,
 * so a failed write leaves nothing under the real name. Pixel centres are at integer + 0.5;
 * drawing outside the image is clipped. */

#define FONT_W 5        /* glyph cell of the built-in font, in pixels at scale 1 */
#define FONT_H 9
#define FONT_ASCENT 7   /* rows above the baseline (capitals and digits) */
#define FONT_ADVANCE 6
#define FONT_MAX_SCALE 8

/* Width in pixels of text (one glyph per UTF-8 character; '?' for those outside ASCII). */
int font_text_width(const char *text, int scale);
/* The glyph of c as (FONT_W*scale) x (FONT_H*scale) bytes, 1 = ink; scale 1..FONT_MAX_SCALE. */
void font_glyph_mask(unsigned char c, int scale, unsigned char *mask);

typedef struct {
    unsigned char r, g, b;
} Rgb;

typedef enum { MARKER_CIRCLE, MARKER_SQUARE, MARKER_TRIANGLE, MARKER_DIAMOND,
               MARKER_TRIANGLE_DOWN, MARKER_COUNT } MarkerShape;
typedef enum { TEXT_LEFT, TEXT_CENTER, TEXT_RIGHT } TextAlign;

#define PLOT_PALETTE_SIZE 8
/* Okabe-Ito colour i (cyclic; i >= 0), in an order that keeps the first ones far apart. */
Rgb plot_palette(int i);
/* Marker shape for class i: circles for the first PLOT_PALETTE_SIZE, then the next shape. */
MarkerShape plot_marker_for(int i);
#define PLOT_NOISE_RGB ((Rgb){170, 170, 170})

/* A white width x height image with its own buffer (free with image_free or free(img->rgb)). */
StatusCode plot_image_new(Image *img, int width, int height, Status *st);
/* alpha in [0,1] blends over what is there. Rectangles cover the pixels whose centres lie in
 * [x0,x1) x [y0,y1). */
void draw_rect(Image *img, double x0, double y0, double x1, double y1, Rgb c, float alpha);
void draw_line(Image *img, double x0, double y0, double x1, double y1, double width, Rgb c);
void draw_dashed_line(Image *img, double x0, double y0, double x1, double y1, double width,
                      double dash, Rgb c);
void draw_circle(Image *img, double cx, double cy, double radius, Rgb c);
/* A filled marker with a darker rim; its centre pixel has exactly colour c. */
void draw_marker(Image *img, double cx, double cy, double radius, MarkerShape shape, Rgb c);
/* y is the top of the text cell; scale 1..FONT_MAX_SCALE (2 is the plots' normal size). */
void draw_text(Image *img, double x, double y, const char *text, int scale, Rgb c,
               TextAlign align);
/* Reads bottom to top, centred on (cx, cy) (a y-axis label). */
void draw_text_up(Image *img, double cx, double cy, const char *text, int scale, Rgb c);

typedef struct {
    int width, height;                  /* pixels; 0 = 900 x 640 */
    const char *title, *x_label, *y_label; /* NULL = none */
} PlotStyle;

/* Points (xy: n x 2) coloured by labels (NULL = all one colour; -1 = noise, light grey),
 * legend "cluster k" or label_names[k] (k < n_names) on the right. */
StatusCode plot_scatter(const char *path, const PlotStyle *style, const float *xy, int n,
                        const int *labels, const char *const *label_names, int n_names,
                        Status *st);

typedef struct {
    const char *name;  /* legend entry (NULL = none) */
    const double *x;   /* NULL = 1, 2, ..., n */
    const double *y;   /* non-finite values break the line */
    int n;
    int markers;       /* 1: a marker on every point */
} PlotSeries;

typedef struct {
    PlotStyle style;
    int log_y;              /* logarithmic y axis (values <= 0 are left out) */
    double mark_x;          /* NAN = none; else a dashed vertical line there (the chosen k) */
    const char *mark_label; /* text beside it */
} LinePlotOptions;

/* Several series on one pair of axes (elbow curves, training and validation loss). */
StatusCode plot_lines(const char *path, const LinePlotOptions *opt, const PlotSeries *series,
                      int n_series, Status *st);

typedef struct {
    PlotStyle style;
    const char *const *row_names, *const *col_names; /* NULL = 0, 1, ... */
    int show_values;     /* the value in every cell */
    int normalize_rows;  /* colour by the share of the row's sum (confusion matrices) */
} HeatmapOptions;

/* values: rows x cols, row-major (row 0 at the top). */
StatusCode plot_heatmap(const char *path, const HeatmapOptions *opt, const double *values,
                        int rows, int cols, Status *st);

typedef struct {
    PlotStyle style;
    double cut_height; /* NAN = none; else subtrees merged below it get one colour each and a
                        * dashed line marks it (scipy's color_threshold) */
    int max_leaves;    /* show the last max_leaves clusters (scipy's truncate_mode='lastp');
                        * 0 = 30; labels are row numbers or "(size)" */
} DendrogramOptions;

/* Z: (n-1) x 4 linkage in scipy's format (hier_linkage's output). */
StatusCode plot_dendrogram(const char *path, const DendrogramOptions *opt, const double *Z,
                           int n, Status *st);

typedef struct {
    double start, end; /* seconds */
    int label;         /* 0..n_labels-1, or -1 = absent (nobody in view) */
} PlotSegment;

typedef struct {
    PlotStyle style;
    const char *const *label_names; /* n_labels names (NULL = "action k") */
    int n_labels;
} TimelineOptions;

/* A band with every segment, then one lane per label, over a time axis (m:ss or h:mm:ss). */
StatusCode plot_timeline(const char *path, const TimelineOptions *opt, const PlotSegment *seg,
                         int n, Status *st);

#endif
