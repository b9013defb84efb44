#!/usr/bin/python3
"""Reference per-frame body features for tests/test_classify_body.c, made with SciPy/NumPy
(not with takt's code): a random 6-joint skeleton sequence, centred on joint 0, turned about
the vertical (y) axis by scipy's Rotation.align_vectors so that the mean joint 1 -> joint 2
direction seen from above points along +x, divided by the mean joint 0 - joint 3 distance,
then the unit bone vectors of BONES, all pairwise joint distances (scipy.spatial.distance.pdist,
pairs i < j in row-major order) and frame-to-frame changes (0 for the first frame).

Writes (raw little-endian float32):
  body_x.bin      the raw frames          [FRAMES x 18]
  body_full.bin   positions, bones, distances, then their changes   [FRAMES x 2*(18+3*B+15)]
  body_bones.bin  bones only (no positions, no velocity)            [FRAMES x 3*B]
Run once from this folder with Debian's python3-scipy: /usr/bin/python3 make_body_golden.py
"""
import numpy as np
from scipy.spatial.distance import pdist
from scipy.spatial.transform import Rotation

FRAMES, JOINTS = 7, 6
BONES = [(0, 3), (3, 4), (4, 5), (0, 1), (0, 2)]

rng = np.random.RandomState(8)
x = rng.uniform(-1.0, 1.0, size=(FRAMES, JOINTS, 3)).astype(np.float32)
x[:, 2, 0] += 1.5  # joint 2 to the right of joint 1 on average, turned below
turn = Rotation.from_euler("y", 2.2)
x = turn.apply(x.reshape(-1, 3)).reshape(FRAMES, JOINTS, 3).astype(np.float32)

p = x.astype(np.float64) - x[:, :1, :].astype(np.float64)
d = (p[:, 2] - p[:, 1]).mean(axis=0)
# Two pairs (the direction seen from above onto +x, the vertical onto itself): the turn about
# the vertical axis, uniquely.
seen = np.array([d[0], 0.0, d[2]]) / np.hypot(d[0], d[2])
face, _ = Rotation.align_vectors([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [seen, [0.0, 1.0, 0.0]])
p = face.apply(p.reshape(-1, 3)).reshape(FRAMES, JOINTS, 3)
p /= np.linalg.norm(p[:, 3] - p[:, 0], axis=1).mean()

bones = np.stack([(p[:, b] - p[:, a]) / np.linalg.norm(p[:, b] - p[:, a], axis=1)[:, None]
                  for a, b in BONES], axis=1).reshape(FRAMES, -1)
dist = np.stack([pdist(f) for f in p])
feat = np.concatenate([p.reshape(FRAMES, -1), bones, dist], axis=1)
vel = np.diff(feat, axis=0, prepend=feat[:1])
full = np.concatenate([feat, vel], axis=1)

x.astype("<f4").tofile("body_x.bin")
full.astype("<f4").tofile("body_full.bin")
# Bones only, of the raw frames (no centring, facing or scaling: directions do not change).
raw = x.astype(np.float64)
bones_raw = np.stack([(raw[:, b] - raw[:, a]) / np.linalg.norm(raw[:, b] - raw[:, a],
                                                               axis=1)[:, None]
                      for a, b in BONES], axis=1).reshape(FRAMES, -1)
bones_raw.astype("<f4").tofile("body_bones.bin")
print("frames", FRAMES, "joints", JOINTS, "full width", full.shape[1],
      "bones width", bones_raw.shape[1])
