/* bvh — Biovision Hierarchy motion capture: the reader (HIERARCHY of joints, MOTION of
 * frames) and forward kinematics to world joint positions.
 *
 * The file is treated as hostile: the hierarchy is parsed without recursion (a file of
 * nested JOINTs cannot exhaust the stack), the frame buffer is sized from what the file can
 * actually hold rather than from the declared "Frames:", and every error names the file, the
 * line and what was expected.
 *
 * Conventions (those of the BVH format as Biovision and the common exporters write it):
 *   - a joint's local rotation is the product of its rotation channels in the order they are
 *     listed, intrinsic: "Zrotation Xrotation Yrotation" gives Rz·Rx·Ry, angles in degrees;
 *   - world rotation = parent world rotation · local rotation; world position = parent world
 *     position + parent world rotation · local translation;
 *   - the local translation is the OFFSET, except that a position channel replaces the
 *     OFFSET's component on its axis. This is what the converted datasets in ../shared/data
 *     (bandai_namco_1, inhard_sample, where every joint has 6 channels) were computed with:
 *     adding the channel to the OFFSET instead would put Bandai's hips 4.5 m off the origin.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io.h"

#define BVH_TOKEN_SHOWN 24
#define BVH_NUMBER_CHARS 63
#define BVH_MAX_FILE_BYTES ((size_t)1 << 31)

typedef struct {
    const char *text;
    size_t size, pos;
    int line;
    const char *name; /* the file, for messages */
    /* the token just read */
    const char *tok;
    size_t tok_len;
    int tok_line;
} Lexer;

/* The token as printable text for a message (fuzzed files hold arbitrary bytes). */
static const char *token_shown(const char *tok, size_t len, char *buf)
{
    size_t n = len < BVH_TOKEN_SHOWN ? len : BVH_TOKEN_SHOWN;
    for (size_t i = 0; i < n; i++)
        buf[i] = isprint((unsigned char)tok[i]) ? tok[i] : '?';
    if (len > n) {
        memcpy(buf + n, "...", 4);
    } else {
        buf[n] = '\0';
    }
    return buf;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Next whitespace-separated token (crossing lines); 0 at the end of the text. */
static int lex_next(Lexer *lx)
{
    while (lx->pos < lx->size && (is_blank(lx->text[lx->pos]) || lx->text[lx->pos] == '\n')) {
        if (lx->text[lx->pos] == '\n')
            lx->line++;
        lx->pos++;
    }
    if (lx->pos >= lx->size) {
        lx->tok = NULL;
        lx->tok_len = 0;
        lx->tok_line = lx->line;
        return 0;
    }
    size_t start = lx->pos;
    while (lx->pos < lx->size && !is_blank(lx->text[lx->pos]) && lx->text[lx->pos] != '\n')
        lx->pos++;
    lx->tok = lx->text + start;
    lx->tok_len = lx->pos - start;
    lx->tok_line = lx->line;
    return 1;
}

static int tok_is(const Lexer *lx, const char *word)
{
    size_t n = strlen(word);
    return lx->tok && lx->tok_len == n && strncasecmp(lx->tok, word, n) == 0;
}

static StatusCode fail_at(const Lexer *lx, Status *st, const char *expected)
{
    char shown[BVH_TOKEN_SHOWN + 4];
    if (!lx->tok)
        return status_fail(st, TK_EFORMAT, "%s: line %d: expected %s, found the end of the file",
                           lx->name, lx->tok_line, expected);
    return status_fail(st, TK_EFORMAT, "%s: line %d: expected %s, found '%s'", lx->name,
                       lx->tok_line, expected, token_shown(lx->tok, lx->tok_len, shown));
}

/* Reads the next token, which must be `word`. */
static StatusCode expect_word(Lexer *lx, const char *word, Status *st)
{
    lex_next(lx);
    if (!tok_is(lx, word)) {
        char what[48];
        snprintf(what, sizeof what, "'%s'", word);
        return fail_at(lx, st, what);
    }
    return TK_OK;
}

/* A decimal number filling the whole token, within float range (motion is kept as float). */
static int parse_double(const char *tok, size_t len, double *out)
{
    char buf[BVH_NUMBER_CHARS + 1];
    if (len == 0 || len > BVH_NUMBER_CHARS)
        return 0;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len || !(fabs(v) <= FLT_MAX))
        return 0;
    *out = v;
    return 1;
}

static StatusCode expect_number(Lexer *lx, const char *what, double *out, Status *st)
{
    lex_next(lx);
    if (!lx->tok || !parse_double(lx->tok, lx->tok_len, out))
        return fail_at(lx, st, what);
    return TK_OK;
}

static StatusCode expect_offset(Lexer *lx, double offset[3], Status *st)
{
    StatusCode code = expect_word(lx, "OFFSET", st);
    for (int k = 0; k < 3 && code == TK_OK; k++)
        code = expect_number(lx, "three OFFSET numbers", &offset[k], st);
    return code;
}

static int channel_kind(const Lexer *lx)
{
    static const char *const names[6] = {"Xposition", "Yposition", "Zposition",
                                         "Xrotation", "Yrotation", "Zrotation"};
    for (int k = 0; k < 6; k++)
        if (tok_is(lx, names[k]))
            return k;
    return -1;
}

static StatusCode expect_channels(Lexer *lx, BvhJoint *j, Status *st)
{
    StatusCode code = expect_word(lx, "CHANNELS", st);
    if (code != TK_OK)
        return code;
    lex_next(lx);
    if (!tok_is(lx, "3") && !tok_is(lx, "6"))
        return fail_at(lx, st, "a channel count of 3 or 6");
    j->n_channels = lx->tok[0] - '0';
    unsigned seen = 0;
    for (int c = 0; c < j->n_channels; c++) {
        lex_next(lx);
        int kind = channel_kind(lx);
        if (kind < 0)
            return fail_at(lx, st, "a channel name (Xposition ... Zrotation)");
        if (seen & (1u << kind))
            return fail_at(lx, st, "a channel not already listed for this joint");
        seen |= 1u << kind;
        j->channel[c] = (unsigned char)kind;
    }
    return TK_OK;
}

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return p;
    int n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(p, (size_t)n * elem);
    if (q)
        *cap = n;
    return q;
}

/* HIERARCHY ... up to and including the MOTION keyword. */
static StatusCode parse_hierarchy(Lexer *lx, Bvh *b, Status *st)
{
    StatusCode code = expect_word(lx, "HIERARCHY", st);
    if (code != TK_OK)
        return code;
    int joint_cap = 0, end_cap = 0, depth_cap = 0, depth = 0;
    int *open = NULL; /* joints whose '{' is not closed yet, outermost first */
    for (;;) {
        lex_next(lx);
        int is_root = tok_is(lx, "ROOT"), is_joint = tok_is(lx, "JOINT");
        if (is_root || is_joint) {
            if (is_root && depth > 0) {
                code = fail_at(lx, st, "JOINT, End Site or '}' inside a joint");
                break;
            }
            if (is_joint && depth == 0) {
                code = fail_at(lx, st, "ROOT (a JOINT must be inside a ROOT)");
                break;
            }
            BvhJoint *joints = grow(b->joints, &joint_cap, b->n_joints + 1, sizeof *joints);
            int *stack = grow(open, &depth_cap, depth + 1, sizeof *open);
            if (joints)
                b->joints = joints;
            if (stack)
                open = stack;
            if (!joints || !stack) {
                code = status_fail(st, TK_ENOMEM, "%s: out of memory for %d joints", lx->name,
                                   b->n_joints + 1);
                break;
            }
            BvhJoint *j = &b->joints[b->n_joints];
            memset(j, 0, sizeof *j);
            j->line = lx->tok_line;
            j->parent = depth > 0 ? open[depth - 1] : -1;
            lex_next(lx);
            if (!lx->tok || lx->tok_len >= BVH_NAME_MAX || tok_is(lx, "{")) {
                code = fail_at(lx, st, "a joint name (up to 63 characters)");
                break;
            }
            memcpy(j->name, lx->tok, lx->tok_len);
            j->name[lx->tok_len] = '\0';
            if ((code = expect_word(lx, "{", st)) != TK_OK ||
                (code = expect_offset(lx, j->offset, st)) != TK_OK ||
                (code = expect_channels(lx, j, st)) != TK_OK)
                break;
            j->first_channel = b->n_channels;
            b->n_channels += j->n_channels;
            open[depth++] = b->n_joints++;
        } else if (tok_is(lx, "End")) {
            if (depth == 0) {
                code = fail_at(lx, st, "ROOT or MOTION (an End Site must be inside a joint)");
                break;
            }
            BvhEndSite *ends = grow(b->end_sites, &end_cap, b->n_end_sites + 1, sizeof *ends);
            if (!ends) {
                code = status_fail(st, TK_ENOMEM, "%s: out of memory for %d end sites",
                                   lx->name, b->n_end_sites + 1);
                break;
            }
            b->end_sites = ends;
            BvhEndSite *e = &b->end_sites[b->n_end_sites];
            e->parent = open[depth - 1];
            if ((code = expect_word(lx, "Site", st)) != TK_OK ||
                (code = expect_word(lx, "{", st)) != TK_OK ||
                (code = expect_offset(lx, e->offset, st)) != TK_OK ||
                (code = expect_word(lx, "}", st)) != TK_OK)
                break;
            b->n_end_sites++;
        } else if (tok_is(lx, "}")) {
            if (depth == 0) {
                code = fail_at(lx, st, "ROOT or MOTION ('}' closes no joint)");
                break;
            }
            depth--;
        } else if (tok_is(lx, "MOTION")) {
            if (depth > 0) {
                const BvhJoint *j = &b->joints[open[depth - 1]];
                code = status_fail(st, TK_EFORMAT,
                                   "%s: line %d: MOTION inside joint '%s' declared on line %d "
                                   "(its '}' is missing: unbalanced braces)",
                                   lx->name, lx->tok_line, j->name, j->line);
            } else if (b->n_joints == 0) {
                code = status_fail(st, TK_EFORMAT, "%s: line %d: MOTION before any ROOT",
                                   lx->name, lx->tok_line);
            }
            break;
        } else if (!lx->tok && depth > 0) {
            const BvhJoint *j = &b->joints[open[depth - 1]];
            code = status_fail(st, TK_EFORMAT,
                               "%s: line %d: the file ends inside joint '%s' declared on "
                               "line %d (its '}' and MOTION are missing)",
                               lx->name, lx->tok_line, j->name, j->line);
            break;
        } else {
            code = fail_at(lx, st, depth > 0 ? "JOINT, End Site or '}'" : "ROOT or MOTION");
            break;
        }
    }
    free(open);
    return code;
}

/* The rest of the current line must be blank. */
static StatusCode expect_line_end(Lexer *lx, Status *st)
{
    while (lx->pos < lx->size && is_blank(lx->text[lx->pos]))
        lx->pos++;
    if (lx->pos < lx->size && lx->text[lx->pos] != '\n') {
        lex_next(lx);
        return fail_at(lx, st, "the end of the line");
    }
    return TK_OK;
}

/* Frames: N, Frame Time: t, then N lines of n_channels numbers (blank lines ignored). */
static StatusCode parse_motion(Lexer *lx, Bvh *b, Status *st)
{
    StatusCode code;
    double frames, frame_time;
    if ((code = expect_line_end(lx, st)) != TK_OK ||
        (code = expect_word(lx, "Frames:", st)) != TK_OK)
        return code;
    int frames_line = lx->tok_line;
    lex_next(lx);
    if (!lx->tok || !parse_double(lx->tok, lx->tok_len, &frames) || frames < 0 ||
        frames != floor(frames) || frames * b->n_channels > (double)BVH_MAX_FILE_BYTES)
        return fail_at(lx, st, "a frame count (a whole number >= 0)");
    if ((code = expect_line_end(lx, st)) != TK_OK ||
        (code = expect_word(lx, "Frame", st)) != TK_OK ||
        (code = expect_word(lx, "Time:", st)) != TK_OK)
        return code;
    lex_next(lx);
    if (!lx->tok || !parse_double(lx->tok, lx->tok_len, &frame_time) || frame_time <= 0)
        return fail_at(lx, st, "a frame time in seconds (> 0)");
    if ((code = expect_line_end(lx, st)) != TK_OK)
        return code;
    b->n_frames = (int)frames;
    b->frame_time = frame_time;

    /* Each value takes at least one character and a separator, so the rest of the file holds
     * at most remaining / 2 + 1 values: a declared motion larger than that is truncated. It
     * is still parsed, so that the message can say where it ends, into a buffer sized by that
     * bound (which the frames parsed can never exceed). */
    size_t remaining = lx->size - lx->pos;
    size_t C = (size_t)b->n_channels;
    size_t cap_frames = (size_t)b->n_frames;
    if (cap_frames * C > remaining / 2 + 1)
        cap_frames = (remaining / 2 + 1) / C + 1;
    b->motion = malloc((cap_frames ? cap_frames : 1) * C * sizeof *b->motion);
    if (!b->motion)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d frames of %d channels",
                           lx->name, b->n_frames, b->n_channels);

    int f = 0;
    while (lx->pos < lx->size) {
        /* one line */
        size_t c = 0;
        int line = lx->line + 1;
        lx->pos++; /* the '\n' ending the previous line */
        lx->line++;
        for (;;) {
            while (lx->pos < lx->size && is_blank(lx->text[lx->pos]))
                lx->pos++;
            if (lx->pos >= lx->size || lx->text[lx->pos] == '\n')
                break;
            lex_next(lx);
            double v;
            if (f >= b->n_frames)
                return status_fail(st, TK_EFORMAT,
                                   "%s: line %d: more frames than the %d declared by "
                                   "'Frames:' on line %d",
                                   lx->name, line, b->n_frames, frames_line);
            if (!parse_double(lx->tok, lx->tok_len, &v)) {
                char shown[BVH_TOKEN_SHOWN + 4];
                return status_fail(st, TK_EFORMAT,
                                   "%s: line %d: frame %d, value %zu: '%s' is not a number",
                                   lx->name, line, f, c + 1,
                                   token_shown(lx->tok, lx->tok_len, shown));
            }
            if (c >= C)
                return status_fail(st, TK_EFORMAT,
                                   "%s: line %d: frame %d has more than the %zu values the "
                                   "HIERARCHY's channels call for",
                                   lx->name, line, f, C);
            b->motion[(size_t)f * C + c++] = (float)v;
        }
        if (c == 0)
            continue; /* a blank line */
        if (c != C)
            return status_fail(st, TK_EFORMAT,
                               "%s: line %d: frame %d has %zu values, expected %zu (one per "
                               "channel)",
                               lx->name, line, f, c, C);
        f++;
    }
    if (f < b->n_frames)
        return status_fail(st, TK_EFORMAT,
                           "%s: line %d: the file ends after %d of the %d frames declared by "
                           "'Frames:' on line %d (truncated MOTION)",
                           lx->name, lx->line, f, b->n_frames, frames_line);
    return TK_OK;
}

void bvh_free(Bvh *b)
{
    free(b->joints);
    free(b->end_sites);
    free(b->motion);
    memset(b, 0, sizeof *b);
}

StatusCode bvh_parse(Bvh *b, const char *text, size_t size, const char *name, Status *st)
{
    memset(b, 0, sizeof *b);
    snprintf(b->path, sizeof b->path, "%s", name);
    Lexer lx = {.text = text, .size = size, .line = 1, .name = b->path};
    StatusCode code = parse_hierarchy(&lx, b, st);
    if (code == TK_OK)
        code = parse_motion(&lx, b, st);
    if (code != TK_OK) {
        bvh_free(b);
        snprintf(b->path, sizeof b->path, "%s", name);
    }
    return code;
}

StatusCode bvh_read(Bvh *b, const char *path, Status *st)
{
    memset(b, 0, sizeof *b);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return status_fail(st, TK_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    size_t size = 0, cap = 0;
    StatusCode code = TK_OK;
    for (;;) {
        if (size == cap) {
            size_t n = cap ? cap * 2 : (size_t)1 << 16;
            char *t = n <= BVH_MAX_FILE_BYTES ? realloc(text, n) : NULL;
            if (!t) {
                code = status_fail(st, n <= BVH_MAX_FILE_BYTES ? TK_ENOMEM : TK_EUNSUPPORTED,
                                   "%s: file larger than takt reads (%zu bytes)", path, cap);
                break;
            }
            text = t;
            cap = n;
        }
        size_t got = fread(text + size, 1, cap - size, fp);
        size += got;
        if (got == 0) {
            if (ferror(fp))
                code = status_fail(st, TK_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(fp);
    if (code == TK_OK)
        code = bvh_parse(b, text, size, path, st);
    free(text);
    return code;
}

int bvh_point_count(const Bvh *b, int with_end_sites)
{
    return b->n_joints + (with_end_sites ? b->n_end_sites : 0);
}

/* Rotation by `deg` degrees about one axis (0 x, 1 y, 2 z), right-handed, row-major. */
static void axis_rotation(int axis, double deg, double r[9])
{
    double a = deg * (M_PI / 180.0), c = cos(a), s = sin(a);
    int i = (axis + 1) % 3, k = (axis + 2) % 3;
    memset(r, 0, 9 * sizeof *r);
    r[axis * 3 + axis] = 1;
    r[i * 3 + i] = c;
    r[i * 3 + k] = -s;
    r[k * 3 + i] = s;
    r[k * 3 + k] = c;
}

static void mat3_mul(const double a[9], const double b[9], double out[9])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
}

/* world = parent_pos + parent_rot · local */
static void place(const double *parent_pos, const double *parent_rot, const double local[3],
                  double *world)
{
    for (int i = 0; i < 3; i++)
        world[i] = parent_pos[i] + parent_rot[i * 3] * local[0] +
                   parent_rot[i * 3 + 1] * local[1] + parent_rot[i * 3 + 2] * local[2];
}

StatusCode bvh_positions(const Bvh *b, int with_end_sites, float *out, Status *st)
{
    if (b->n_joints == 0)
        return TK_OK;
    /* per joint: world position (3) and world rotation (9), in double so that the float
     * output carries no error accumulated down long chains (finger tips) */
    double *pose = malloc((size_t)b->n_joints * 12 * sizeof *pose);
    if (!pose)
        return status_fail(st, TK_ENOMEM, "%s: out of memory for %d joints", b->path,
                           b->n_joints);
    static const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    static const double origin[3] = {0, 0, 0};
    const int P = bvh_point_count(b, with_end_sites);
    for (int f = 0; f < b->n_frames; f++) {
        const float *row = b->motion + (size_t)f * b->n_channels;
        float *o = out + (size_t)f * P * 3;
        for (int j = 0; j < b->n_joints; j++) {
            const BvhJoint *jt = &b->joints[j];
            double *pos = pose + (size_t)j * 12, *rot = pos + 3;
            double local[3] = {jt->offset[0], jt->offset[1], jt->offset[2]};
            double r[9], axis_r[9], tmp[9];
            memcpy(r, identity, sizeof r);
            for (int c = 0; c < jt->n_channels; c++) {
                int kind = jt->channel[c];
                double v = row[jt->first_channel + c];
                if (kind < BVH_XROTATION) {
                    local[kind] = v;
                } else {
                    axis_rotation(kind - BVH_XROTATION, v, axis_r);
                    mat3_mul(r, axis_r, tmp);
                    memcpy(r, tmp, sizeof r);
                }
            }
            const double *ppos = origin, *prot = identity;
            if (jt->parent >= 0) {
                ppos = pose + (size_t)jt->parent * 12;
                prot = ppos + 3;
            }
            place(ppos, prot, local, pos);
            mat3_mul(prot, r, rot);
            for (int k = 0; k < 3; k++)
                o[j * 3 + k] = (float)pos[k];
        }
        for (int e = 0; with_end_sites && e < b->n_end_sites; e++) {
            const BvhEndSite *es = &b->end_sites[e];
            const double *ppos = pose + (size_t)es->parent * 12;
            double pos[3];
            place(ppos, ppos + 3, es->offset, pos);
            for (int k = 0; k < 3; k++)
                o[(b->n_joints + e) * 3 + k] = (float)pos[k];
        }
    }
    free(pose);
    return TK_OK;
}

int bvh_rotation_count(const Bvh *b)
{
    int n = 0;
    for (int j = 0; j < b->n_joints; j++)
        for (int c = 0; c < b->joints[j].n_channels; c++)
            n += b->joints[j].channel[c] >= BVH_XROTATION;
    return n;
}

void bvh_rotations(const Bvh *b, float *out)
{
    for (int f = 0; f < b->n_frames; f++) {
        const float *row = b->motion + (size_t)f * b->n_channels;
        for (int j = 0; j < b->n_joints; j++) {
            const BvhJoint *jt = &b->joints[j];
            for (int c = 0; c < jt->n_channels; c++)
                if (jt->channel[c] >= BVH_XROTATION)
                    *out++ = row[jt->first_channel + c];
        }
    }
}

int bvh_joint_index(const Bvh *b, const char *name)
{
    for (int j = 0; j < b->n_joints; j++)
        if (!strcmp(b->joints[j].name, name))
            return j;
    return -1;
}
