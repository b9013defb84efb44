#!/usr/bin/python3
"""Copies the raw-tensor checks of the BlazePose networks from ../shared/pose/tensors (TFLite
outputs recorded with tfjs-tflite, see ../shared/pose/README.md section 5) into small files
here, so that tests/test_posenet.c runs without ../shared. Run from the repository root:

    /usr/bin/python3 tests/data/pose/make_data.py [SHARED_DIR]

What is written (all little-endian):
  yoga_det_input.u8   the detector input of yoga_warrior_beach as uint8 pixels (the float
                      input is u/127.5 - 1; the script checks that this gives back the shared
                      file's exact bytes, by sha256)
  yoga_lmk_input.u8   the landmark input as uint8 pixels (float = u/255, same check)
  <case>.<output>.f32 float32 outputs; Identity_2 (segmentation) and Identity_3 (heatmap)
                      only every 7th element (index 0, 7, 14, ...) to keep the folder small
The synthetic inputs are not stored: their formula (in the shared manifest) is computed by
the test itself. Cases: detector, lite, full x yoga_warrior_beach, synthetic.
"""
import hashlib
import json
import os
import sys

import numpy as np

SUBSAMPLE = 7
SUBSAMPLED = ("Identity_2", "Identity_3")


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
    tdir = os.path.join(shared, "pose", "tensors")
    here = os.path.dirname(os.path.abspath(__file__))
    manifest = json.load(open(os.path.join(tdir, "manifest.json")))

    for name, scale, offset, out in (
        ("det_input_yoga_warrior_beach", 127.5, -1.0, "yoga_det_input.u8"),
        ("lmk_input_yoga_warrior_beach", 255.0, 0.0, "yoga_lmk_input.u8"),
    ):
        info = manifest["inputs"][name]
        x = np.fromfile(os.path.join(tdir, info["file"]), dtype="<f4")
        u = np.rint((x.astype(np.float64) - offset) * scale)
        assert u.min() >= 0 and u.max() <= 255
        u8 = u.astype(np.uint8)
        back = (u8.astype(np.float32) / np.float32(scale) + np.float32(offset)).astype("<f4")
        assert hashlib.sha256(back.tobytes()).hexdigest() == info["sha256"], name
        u8.tofile(os.path.join(here, out))

    for case in manifest["cases"]:
        for o in case["outputs"]:
            y = np.fromfile(os.path.join(tdir, o["file"]), dtype="<f4")
            if o["name"] in SUBSAMPLED:
                y = y[::SUBSAMPLE]
            y.astype("<f4").tofile(os.path.join(here, "%s.%s.f32" % (case["case"], o["name"])))


if __name__ == "__main__":
    main()
