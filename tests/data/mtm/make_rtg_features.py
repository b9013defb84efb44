#!/usr/bin/python3
"""A real labelled MTM-style set for `takt mtm compare`: joint angles from the 2-D OpenPose
skeletons of ../shared/data/reach_to_grasp (tabletop reach, grasp and move of a cube; MIT).

Each frame is labelled by its phase in the movement, from sequences.csv's reach-to-grasp window
(the authors' onset/end): before the onset the hand rests ("H0"), inside the window it reaches
("R"), after it the cube is picked up and moved ("M"). Codes are MTM-style names, not a claim
that the phases are exact MTM-2 elements.

Joint mapping to the MTM-2 angles (MediaPipe indices in brackets; OpenPose has no hips, so the
mid-hip stands for both):
  r_elbow    RShoulder(1)-RElbow(2)-RWrist(3)          [12-14-16]
  l_elbow    LShoulder(4)-LElbow(5)-LWrist(6)          [11-13-15]
  r_shoulder MidHip(7)-RShoulder(1)-RElbow(2)          [24-12-14]
  l_shoulder MidHip(7)-LShoulder(4)-LElbow(5)          [23-11-13]
  r_wrist    RElbow(2)-RWrist(3)-RMiddleFingerTip(11)  [14-16-18]; the source keeps no pinky
             and no left hand, so there is no l_wrist feature
  r_wrist_x/y, l_wrist_x/y: wrist positions in pixels
Frames with any needed joint undetected ((0,0) in the source) are left out; every `step`-th
frame is kept to keep the table small.

    /usr/bin/python3 tests/data/mtm/make_rtg_features.py ../shared/data/reach_to_grasp OUT.csv [step]
"""
import csv
import sys

import numpy as np


def angle(a, b, c):
    u, v = a - b, c - b
    cos = (u * v).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def main():
    d, out = sys.argv[1], sys.argv[2]
    step = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    win = {}
    with open(d + "/sequences.csv") as f:
        for r in csv.DictReader(f):
            win[int(r["seq_id"])] = (int(r["rtg_onset_frame"]), int(r["rtg_end_frame"]))
    raw = np.loadtxt(d + "/reach_to_grasp.csv", delimiter=",", skiprows=1, dtype=np.float64)
    seq, frame = raw[:, 0].astype(int), raw[:, 1].astype(int)
    p = raw[:, 3:].reshape(len(raw), 12, 2)
    need = [1, 2, 3, 4, 5, 6, 7, 11]
    ok = np.all(np.any(p[:, need, :] != 0, axis=2), axis=1) & (frame % step == 0)
    p, seq, frame = p[ok], seq[ok], frame[ok]
    onset = np.array([win[s][0] for s in seq])
    end = np.array([win[s][1] for s in seq])
    label = np.where(frame < onset, "H0", np.where(frame <= end, "R", "M"))
    feats = {
        "l_elbow": angle(p[:, 4], p[:, 5], p[:, 6]),
        "r_elbow": angle(p[:, 1], p[:, 2], p[:, 3]),
        "l_shoulder": angle(p[:, 7], p[:, 4], p[:, 5]),
        "r_shoulder": angle(p[:, 7], p[:, 1], p[:, 2]),
        "r_wrist": angle(p[:, 2], p[:, 3], p[:, 11]),
        "l_wrist_x": p[:, 6, 0], "l_wrist_y": p[:, 6, 1],
        "r_wrist_x": p[:, 3, 0], "r_wrist_y": p[:, 3, 1],
    }
    names = list(feats)
    valid = np.all(np.isfinite(np.stack([feats[n] for n in names], 1)), axis=1)
    with open(out, "w") as f:
        f.write("seq_id,frame,label," + ",".join(names) + "\n")
        for i in np.nonzero(valid)[0]:
            f.write("%d,%d,%s,%s\n" % (seq[i], frame[i], label[i],
                                       ",".join("%.4f" % feats[n][i] for n in names)))
    counts = {c: int((label[valid] == c).sum()) for c in ("H0", "R", "M")}
    print(out, int(valid.sum()), "rows", counts)


if __name__ == "__main__":
    main()
