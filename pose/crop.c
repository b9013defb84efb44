/* crop.c — a rotated region of the frame into a model's input tensor, as MediaPipe's
 * ImageToTensorCalculator does it:
 *   the ROI in pixels (image_to_tensor_utils.cc GetRoi; the whole image when there is none),
 *   grown to the tensor's aspect ratio with the padding reported (PadRoi, keep_aspect_ratio),
 *   and the tensor's normalised pixel centres mapped into the image by the matrix of
 *   GetRotatedSubRectToRectTransformMatrix: centre + R(rotation) * ((u - 1/2) * width,
 *   (v - 1/2) * height).
 * The reference results come from MediaPipe's GPU converter (image_to_tensor_converter_gl_*.cc,
 * which the web solution uses): bilinear texture sampling with texel centres at integer + 1/2,
 * clamp-to-edge for BORDER_REPLICATE (the landmark graph leaves border_mode unset, which means
 * replicate) and, for BORDER_ZERO (the detector), zero wherever the sample point falls outside
 * the image. Values map 0..255 onto [lo, hi] after sampling, so a zero border becomes lo. */
#include "pose.h"

#include <math.h>

static float texel(const Image *img, int x, int y, int c)
{
    x = x < 0 ? 0 : x >= img->width ? img->width - 1 : x;
    y = y < 0 ? 0 : y >= img->height ? img->height - 1 : y;
    return (float)img->rgb[3 * ((size_t)y * img->width + x) + c];
}

StatusCode pose_crop(const Image *img, const PoseRect *roi, int out_w, int out_h, float lo,
                     float hi, PoseBorder border, float *dst, PoseLetterbox *pad, Status *st)
{
    if (img->width <= 0 || img->height <= 0 || !img->rgb)
        return status_fail(st, TK_EINVAL, "crop: empty image");
    if (out_w <= 0 || out_h <= 0)
        return status_fail(st, TK_EINVAL, "crop: output size %dx%d", out_w, out_h);
    const float W = (float)img->width, H = (float)img->height;
    float cx = 0.5f * W, cy = 0.5f * H, rw = W, rh = H, rot = 0.0f;
    if (roi) {
        cx = roi->x_center * W;
        cy = roi->y_center * H;
        rw = roi->width * W;
        rh = roi->height * H;
        rot = roi->rotation;
    }
    if (!(rw > 0.0f) || !(rh > 0.0f) || !isfinite(rw) || !isfinite(rh) || !isfinite(cx) ||
        !isfinite(cy) || !isfinite(rot))
        return status_fail(st, TK_EINVAL, "crop: ROI %gx%g pixels is empty or not finite", (double)rw,
                           (double)rh);
    const float tensor_aspect = (float)out_h / (float)out_w, roi_aspect = rh / rw;
    PoseLetterbox p = {0};
    if (tensor_aspect > roi_aspect) {
        p.top = p.bottom = (1.0f - roi_aspect / tensor_aspect) / 2.0f;
        rh = rw * tensor_aspect;
    } else {
        p.left = p.right = (1.0f - tensor_aspect / roi_aspect) / 2.0f;
        rw = rh / tensor_aspect;
    }
    if (pad)
        *pad = p;
    const float c = cosf(rot), s = sinf(rot), scale = (hi - lo) / 255.0f;
    for (int oy = 0; oy < out_h; oy++) {
        const float v = ((float)oy + 0.5f) / (float)out_h - 0.5f;
        for (int ox = 0; ox < out_w; ox++) {
            const float u = ((float)ox + 0.5f) / (float)out_w - 0.5f;
            const float X = cx + c * u * rw - s * v * rh;
            const float Y = cy + s * u * rw + c * v * rh;
            float *o = dst + 3 * ((size_t)oy * out_w + ox);
            if (border == POSE_BORDER_ZERO && (X < 0.0f || X > W || Y < 0.0f || Y > H)) {
                o[0] = o[1] = o[2] = lo;
                continue;
            }
            /* Clamped first so that far-away samples stay in int range; clamp-to-edge gives
             * the same value anywhere beyond the border. */
            const float sx = fminf(fmaxf(X - 0.5f, -1.0f), W), sy = fminf(fmaxf(Y - 0.5f, -1.0f), H);
            const float fx0 = floorf(sx), fy0 = floorf(sy);
            const float fx = sx - fx0, fy = sy - fy0;
            const int x0 = (int)fx0, y0 = (int)fy0;
            for (int ch = 0; ch < 3; ch++) {
                const float top = texel(img, x0, y0, ch) * (1.0f - fx) + texel(img, x0 + 1, y0, ch) * fx;
                const float bot = texel(img, x0, y0 + 1, ch) * (1.0f - fx) +
                                  texel(img, x0 + 1, y0 + 1, ch) * fx;
                o[ch] = (top * (1.0f - fy) + bot * fy) * scale + lo;
            }
        }
    }
    return TK_OK;
}
