/* anchors.c — the pose detector's SSD anchors, as MediaPipe's SsdAnchorsCalculator
 * (mediapipe/calculators/tflite/ssd_anchors_calculator.cc) builds them from the options in
 * mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt: 5 layers, strides 8, 16, 32, 32,
 * 32 on a 224x224 input, aspect ratio 1.0 plus the interpolated-scale anchor (default ratio
 * 1.0), offsets 0.5, fixed_anchor_size. With a fixed anchor size every anchor is 1x1 and only
 * the centres matter; consecutive layers with the same stride share one grid, so the three
 * stride-32 layers give 6 anchors per cell: 28*28*2 + 14*14*2 + 7*7*6 = 2254. */
#include "pose.h"

#include <math.h>

int pose_anchors(PoseAnchor *anchors, int capacity)
{
    static const int strides[] = {8, 16, 32, 32, 32};
    const int n_layers = (int)(sizeof strides / sizeof strides[0]);
    const int per_layer = 2; /* one aspect ratio + the interpolated scale */
    if (capacity < POSE_DET_ANCHORS)
        return 0;
    int n = 0;
    for (int layer = 0; layer < n_layers;) {
        int last = layer;
        while (last < n_layers && strides[last] == strides[layer])
            last++;
        const int per_cell = per_layer * (last - layer);
        /* The calculator computes the grid as ceil(size / stride) in float. */
        const int rows = (int)ceilf((float)POSE_DET_SIZE / (float)strides[layer]);
        const int cols = rows;
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
                for (int k = 0; k < per_cell; k++) {
                    anchors[n].x_center = ((float)x + 0.5f) / (float)cols;
                    anchors[n].y_center = ((float)y + 0.5f) / (float)rows;
                    anchors[n].w = 1.0f;
                    anchors[n].h = 1.0f;
                    n++;
                }
        layer = last;
    }
    return n;
}
