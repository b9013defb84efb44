/* pose — MediaPipe's BlazePose networks run by takt's own kernels, and (see the pipeline
 * section) the pre- and post-processing around them.
 *
 * Dependencies: core, io.
 */
#ifndef TAKT_POSE_H
#define TAKT_POSE_H

#include "../core/core.h"

/* ---------------------------------------------------------------- network
 *
 * A PoseNet is one converted model (`takt weights import-tflite`, the .tkw files in
 * weights/): its weights as float32, its operator graph, and all activation memory, planned
 * once at load time in one arena (tensors whose lifetimes do not overlap share memory), so
 * running it allocates nothing. Kernels split rows between OpenMP threads; the same input
 * gives the same bytes with 1 or N threads. Not thread-safe: one PoseNet per concurrent caller. */

typedef struct PoseNet PoseNet;

StatusCode posenet_load(PoseNet **net, const char *tkw_path, Status *st);
/* The same, leaving out the named outputs (NULL-terminated list, e.g. {"Identity_2", NULL}
 * for the segmentation mask of the landmark models): operators only they need are not run
 * and posenet_output returns NULL for them. */
StatusCode posenet_load_ex(PoseNet **net, const char *tkw_path, const char *const *skip_outputs,
                           Status *st);
void posenet_free(PoseNet *net);
void posenet_input_shape(const PoseNet *net, int *h, int *w, int *c); /* NHWC, batch 1 */
float *posenet_input(PoseNet *net);  /* fill this (h*w*c floats) before run */
StatusCode posenet_run(PoseNet *net, Status *st);
/* "Identity", "Identity_1", ... (the TFLite output names); NULL if absent or skipped. The
 * tensor has the TFLite shape (e.g. 1x195) and stays valid until the next run or free. */
const Tensor *posenet_output(const PoseNet *net, const char *name);
/* The feature map the head of the named output reads (through its RESHAPE / LOGISTIC), e.g.
 * "Identity" of the landmark models -> the backbone's last map 1xHxWxC: a view valid after a
 * run until the next one. Refused when later operators reuse its memory. */
StatusCode posenet_head_input(const PoseNet *net, const char *output, Tensor *view,
                              Status *st);
const char *posenet_kind(const PoseNet *net); /* metadata "kind" */
/* Bytes of the arena (weights + activations) and of the activations alone. */
size_t posenet_memory(const PoseNet *net, size_t *activation_bytes);
/* Floating-point operations of one run (2 per multiply-add of the convolutions that run). */
double posenet_flops(const PoseNet *net);

/* Per-layer profile: with profiling on, each run adds every operator's time (and work) to the
 * total of its kind ("conv1x1", "conv", "dwconv", "add", "pad", ...). posenet_profile clears
 * the totals; posenet_profile_get fills up to POSENET_PROFILE_KINDS entries (the kinds that
 * ran) and returns their number. Off by default (two clock reads per operator when on). */
#define POSENET_PROFILE_KINDS 11
typedef struct {
    const char *name;
    double seconds, flops;
} PoseNetProfile;
void posenet_profile(PoseNet *net, int on);
int posenet_profile_get(const PoseNet *net, PoseNetProfile *out);
/* The same totals per operator that runs, in run order: its kind (as above), its line in the
 * graph, input and output height x width x channels (1 x 1 x n for flat tensors), kernel size
 * and stride of convolutions (0 otherwise), whether a 1x1 runs sparse or carries a fused ADD,
 * seconds summed over the profiled runs and floating-point operations of one run. Fills up
 * to max entries of out (out may be NULL) and returns the number of operators. */
typedef struct {
    const char *name;
    int line;
    int in_shape[3], out_shape[3];
    int kernel, stride, sparse, residual;
    double seconds, flops;
} PoseNetLayerProfile;
int posenet_profile_layers(const PoseNet *net, PoseNetLayerProfile *out, int max);

/* ---------------------------------------------------------------- pipeline
 *
 * MediaPipe's pose graph around the networks, with its constants (each file cites the
 * MediaPipe graph or calculator it follows):
 *   detector: whole frame letterboxed into 224x224, values in [-1,1] (crop.c); SSD anchors
 *   (anchors.c); boxes and 4 keypoints decoded, sigmoid scores >= 0.5, weighted NMS, letterbox
 *   removed (detect.c);
 *   ROI: keypoint 0 (hip centre) to keypoint 1 gives centre, size and rotation, then scaled
 *   1.25 and squared (roi.c); from landmarks the same with auxiliary landmarks 33 and 34;
 *   landmarks: ROI warped into 256x256, values in [0,1] (crop.c); 39 landmarks decoded,
 *   refined on the heatmap, projected back through the ROI, world landmarks rotated
 *   (landmarks.c); pose flag >= 0.5 means a person;
 *   smoothing: One-Euro filters as landmarks_smoothing_calculator (smooth.c);
 *   tracking: the detector runs only when there is no ROI from the previous frame (tracker.c).
 * Normalised coordinates are MediaPipe's: x by the image width, y by the height, z in x's
 * scale. Nothing here allocates per frame. */

#include "../io/io.h"

#define POSE_DET_SIZE 224      /* detector input, square */
#define POSE_DET_ANCHORS 2254  /* 28x28x2 + 14x14x2 + 7x7x6 */
#define POSE_DET_COORDS 12     /* per anchor: box (4) + 4 keypoints (x, y) */
#define POSE_DET_KEYPOINTS 4
#define POSE_LMK_SIZE 256      /* landmark model input, square */
#define POSE_LMK_ALL 39        /* landmark model outputs: 33 body + 6 auxiliary */
#define POSE_LANDMARKS 33      /* MediaPipe's body landmarks (the CSV) */
#define POSE_AUX_FIRST 33      /* auxiliary landmarks 33 (hip centre), 34 (scale point) */
#define POSE_HEATMAP_SIZE 64
#define POSE_PRESENCE_MIN 0.5f /* pose flag threshold (tensors_to_pose_landmarks...pbtxt) */

/* MediaPipe's skeleton: landmark pairs joined by a bone (pose/connections.c). */
#define POSE_CONNECTIONS 35
extern const int pose_connections[POSE_CONNECTIONS][2];

typedef struct {
    float x_center, y_center, w, h; /* normalised to the detector input */
} PoseAnchor;

typedef struct {
    float score;
    float xmin, ymin, width, height;            /* normalised */
    float keypoints[POSE_DET_KEYPOINTS][2];     /* (x, y) normalised */
} PoseDetection;

/* Padding added to keep the aspect ratio, as fractions of the tensor: left, top, right, bottom. */
typedef struct {
    float left, top, right, bottom;
} PoseLetterbox;

/* A rotated rectangle normalised to the image (MediaPipe's NormalizedRect); rotation in radians,
 * clockwise in image coordinates (y down). */
typedef struct {
    float x_center, y_center, width, height, rotation;
} PoseRect;

typedef struct {
    float x, y, z, visibility, presence;
} PoseLandmark;

typedef struct {
    float score;                          /* pose presence (the model's Identity_1) */
    PoseLandmark landmarks[POSE_LMK_ALL]; /* normalised to the image */
    PoseLandmark world[POSE_LANDMARKS];   /* metres, origin between the hips */
} PoseLandmarks;

/* SSD anchors as MediaPipe's SsdAnchorsCalculator with pose_detection_cpu.pbtxt's options;
 * writes POSE_DET_ANCHORS anchors and returns that count (0 if capacity is too small). */
int pose_anchors(PoseAnchor *anchors, int capacity);

typedef enum { POSE_BORDER_ZERO, POSE_BORDER_REPLICATE } PoseBorder;

/* ImageToTensorCalculator: the region roi (NULL = the whole image) of img, padded to the tensor's
 * aspect ratio (the padding is reported in pad, may be NULL), sampled bilinearly at the tensor's
 * pixel centres as MediaPipe's GPU converter does, into out_h x out_w x 3 floats mapping 0..255
 * to lo..hi. Samples outside the image are zero (POSE_BORDER_ZERO, before the value mapping)
 * or the nearest edge pixel. Fails only for an empty image or ROI. */
StatusCode pose_crop(const Image *img, const PoseRect *roi, int out_w, int out_h, float lo,
                     float hi, PoseBorder border, float *dst, PoseLetterbox *pad, Status *st);

/* Everything the detector's post-processing needs, allocated once (about 170 KB). */
typedef struct PoseDetectorPost PoseDetectorPost;
StatusCode pose_detector_post_new(PoseDetectorPost **p, Status *st);
void pose_detector_post_free(PoseDetectorPost *p);
/* TensorsToDetections + NonMaxSuppression (weighted) on the detector outputs boxes
 * (POSE_DET_ANCHORS x 12) and score logits (POSE_DET_ANCHORS): up to max_out detections,
 * best first, in the detector tensor's normalised coordinates. Returns the count. */
int pose_detect_decode(PoseDetectorPost *p, const float *boxes, const float *scores,
                       PoseDetection *out, int max_out);
/* DetectionLetterboxRemoval: from tensor coordinates to image coordinates. */
void pose_detection_remove_letterbox(PoseDetection *det, const PoseLetterbox *pad);

/* AlignmentPointsRectsCalculator: centre at (x0,y0), size twice the distance to (x1,y1), rotation
 * that turns the (x0,y0)->(x1,y1) vector upright (target 90 degrees); points normalised. */
void pose_alignment_rect(float x0, float y0, float x1, float y1, int img_w, int img_h,
                         PoseRect *rect);
/* RectTransformationCalculator with scale 1.25 and square_long. */
void pose_rect_expand(PoseRect *rect, int img_w, int img_h);
/* PoseDetectionToRoi: keypoints 0 and 1 of the detection. */
void pose_roi_from_detection(const PoseDetection *det, int img_w, int img_h, PoseRect *roi);
/* PoseLandmarksToRoi: auxiliary landmarks 33 and 34. */
void pose_roi_from_landmarks(const PoseLandmarks *lm, int img_w, int img_h, PoseRect *roi);

/* TensorsToPoseLandmarks + inverse projection: raw = Identity (39 x 5, 256-pixel units),
 * heatmap = Identity_3 (64 x 64 x 39, may be NULL: no refinement), world = Identity_4 (39 x 3),
 * score = Identity_1; roi and pad are those the crop used. */
void pose_landmarks_decode(const float *raw, const float *heatmap, const float *world,
                           float score, const PoseRect *roi, const PoseLetterbox *pad,
                           PoseLandmarks *out);

/* PoseLandmarkFiltering: One-Euro filters on the 33 landmarks (min_cutoff 0.05, beta 80,
 * scaled by the object size) and on the world landmarks (0.1, 40, unscaled), low-pass on
 * visibility (alpha 0.1) — these only when enabled — and, always, the heavier filter on the
 * auxiliary landmarks (0.01, 10) that the next frame's ROI comes from. */
typedef struct PoseSmoother PoseSmoother;
StatusCode pose_smoother_new(PoseSmoother **s, int enabled, Status *st);
void pose_smoother_free(PoseSmoother *s);
/* Forgets the history (no person in the frame). */
void pose_smoother_reset(PoseSmoother *s);
/* Filters lm in place; time_s must increase from call to call (else lm is left unchanged). */
void pose_smoother_apply(PoseSmoother *s, double time_s, int img_w, int img_h,
                         PoseLandmarks *lm);

/* The per-frame state machine of pose_landmark_cpu.pbtxt. */
typedef struct {
    int tracking; /* 1: the next frame's ROI comes from this frame's landmarks (video) */
    int smooth;   /* 1: landmark smoothing (video default); auxiliary ones are always smoothed */
} PoseTrackerOptions;

typedef struct {
    int found;         /* a person: landmark score >= POSE_PRESENCE_MIN */
    int ran_detector;  /* the detector ran on this frame */
    PoseRect roi;      /* the ROI the landmark model saw (when it ran) */
    PoseLandmarks lm;  /* valid when found */
} PoseFrameResult;

typedef struct PoseTracker PoseTracker;
/* The tracker uses (does not own) the two networks. */
StatusCode pose_tracker_new(PoseTracker **t, PoseNet *detector, PoseNet *landmark,
                            const PoseTrackerOptions *opts, Status *st);
void pose_tracker_free(PoseTracker *t);
/* Forgets the previous ROI and the smoothing history. */
void pose_tracker_reset(PoseTracker *t);
StatusCode pose_tracker_process(PoseTracker *t, const Image *frame, double time_s,
                                PoseFrameResult *out, Status *st);

/* ---------------------------------------------------------------- joint angles (angles.c)
 *
 * The six angles of the MTM-2 method from the 33 landmarks of one frame, in degrees, in the
 * x-y plane of MediaPipe's normalised image coordinates: elbows (shoulder-elbow-wrist),
 * shoulders (hip-shoulder-elbow), wrists (elbow-wrist-pinky), left then right; plus the x-y
 * of both wrists. An angle whose joints are not all visible (visibility below the threshold)
 * or whose limb has zero length is marked invalid and left NAN, never guessed. */

#define POSE_ANGLES 6
#define POSE_ANGLE_FEATURES 10 /* the six angles, then l_wrist_x, l_wrist_y, r_wrist_x, r_wrist_y */
#define POSE_VISIBILITY_MIN 0.5f

typedef enum {
    ANGLE_L_ELBOW = 0, ANGLE_R_ELBOW, ANGLE_L_SHOULDER, ANGLE_R_SHOULDER, ANGLE_L_WRIST,
    ANGLE_R_WRIST
} PoseAngleId;

typedef struct {
    float value[POSE_ANGLE_FEATURES]; /* NAN where invalid */
    unsigned valid_mask;              /* bit i: value[i] is valid */
    int valid;                        /* every feature is valid */
} PoseAngles;

/* Feature names: "l_elbow", "r_elbow", "l_shoulder", "r_shoulder", "l_wrist", "r_wrist",
 * "l_wrist_x", "l_wrist_y", "r_wrist_x", "r_wrist_y"; NULL beyond. */
const char *pose_angle_name(int i);
/* The landmark indices (a, b, c) of angle id: the angle is measured at b. */
void pose_angle_joints(PoseAngleId id, int *a, int *b, int *c);
/* Angle at b between b->a and b->c in degrees, [0, 180]; NAN when either vector is zero. */
float pose_joint_angle(float ax, float ay, float bx, float by, float cx, float cy);
/* lm: 33 landmarks as x, y, z, visibility (the keypoints CSV's order, 132 floats). */
void pose_angles_compute(const float *lm, float min_visibility, PoseAngles *out);

#endif
