#!/usr/bin/python3
"""make_golden.py — a small synthetic BVH of our own (ours to ship) and its world joint
positions computed with SciPy's rotations, the reference tests/test_bvh.c checks takt's
forward kinematics against.

The skeleton mixes channel counts (3 and 6) and orders (ZXY, XYZ, YXZ, ZYX with the position
channels last, XZY), has End Sites and two branches; the file uses CRLF line ends, tabs and
blank lines between frames, as real exporters sometimes do. Convention (BVH): a joint's local
rotation is intrinsic in channel order (scipy's upper-case sequences, "ZXY" = Rz·Rx·Ry); its
translation is the OFFSET with position channels replacing their components.

Run from this folder: /usr/bin/python3 make_golden.py  (numpy 1.24, scipy 1.10, Debian 12)
Writes synthetic.bvh, synthetic_positions.bin (float32 little-endian, frames x points x 3,
joints in file order then End Sites in file order) and synthetic.json (shapes).
"""
import json

import numpy as np
from scipy.spatial.transform import Rotation

FRAMES = 12
# name, parent, offset, channels; None channels = End Site
SKELETON = [
    ("Pelvis", None, (1.5, 90.0, -2.0),
     "Xposition Yposition Zposition Zrotation Xrotation Yrotation"),
    ("Spine", "Pelvis", (0.0, 12.5, 0.5), "Xrotation Yrotation Zrotation"),
    ("Head", "Spine", (0.0, 30.0, 1.0), "Yrotation Xrotation Zrotation"),
    ("Head_end", "Head", (0.0, 15.0, 0.0), None),
    ("Arm_L", "Spine", (15.0, 25.0, 0.0),
     "Zrotation Yrotation Xrotation Xposition Yposition Zposition"),
    ("Hand_L", "Arm_L", (27.5, 0.0, 0.0), "Zrotation Xrotation Yrotation"),
    ("Hand_L_end", "Hand_L", (9.0, -1.0, 0.5), None),
    ("Leg_R", "Pelvis", (-9.0, -5.0, 0.0), "Xrotation Zrotation Yrotation"),
    ("Leg_R_end", "Leg_R", (0.0, -45.0, 3.0), None),
]


def main():
    rng = np.random.default_rng(20261121)
    joints = [s for s in SKELETON if s[3] is not None]
    ends = [s for s in SKELETON if s[3] is None]
    channels = {s[0]: s[3].split() for s in joints}
    n_ch = sum(len(c) for c in channels.values())
    motion = np.round(rng.uniform(-180, 180, size=(FRAMES, n_ch)), 4)
    # position channels: near the OFFSET for realism (they replace it)
    col = 0
    for name, _, off, _ in joints:
        for ch in channels[name]:
            if ch.endswith("position"):
                axis = "XYZ".index(ch[0])
                motion[:, col] = np.round(off[axis] + rng.uniform(-20, 20, FRAMES), 4)
            col += 1

    # --- the BVH text
    lines = ["HIERARCHY"]
    children = {}
    for s in SKELETON:
        children.setdefault(s[1], []).append(s)

    def emit(s, depth):
        tab = "\t" * depth
        name, _, off, ch = s
        if ch is None:
            lines.append(tab + "End Site")
        else:
            lines.append(tab + ("ROOT " if s[1] is None else "JOINT ") + name)
        lines.append(tab + "{")
        lines.append(tab + "\tOFFSET %g %g %g" % off)
        if ch is not None:
            lines.append(tab + "\tCHANNELS %d %s" % (len(ch.split()), ch))
            for c in children.get(name, []):
                emit(c, depth + 1)
        lines.append(tab + "}")

    emit(SKELETON[0], 0)
    lines.append("MOTION")
    lines.append("Frames:\t%d" % FRAMES)
    lines.append("Frame Time: 0.0333333")
    for f in range(FRAMES):
        lines.append("\t".join("%.4f" % v for v in motion[f]) + ("  " if f % 2 else ""))
        if f % 4 == 3:
            lines.append("")
    with open("synthetic.bvh", "w", newline="") as fp:
        fp.write("\r\n".join(lines) + "\r\n")

    # --- forward kinematics with scipy
    points = len(joints) + len(ends)
    pos = np.zeros((FRAMES, points, 3))
    for f in range(FRAMES):
        world = {}
        col = 0
        for j, (name, parent, off, _) in enumerate(joints):
            t = np.array(off, dtype=float)
            order, angles = "", []
            for ch in channels[name]:
                v = motion[f, col]
                col += 1
                if ch.endswith("position"):
                    t["XYZ".index(ch[0])] = v
                else:
                    order += ch[0]
                    angles.append(v)
            local = Rotation.from_euler(order, angles, degrees=True)
            if parent is None:
                p, r = t, local
            else:
                pp, pr = world[parent]
                p, r = pp + pr.apply(t), pr * local
            world[name] = (p, r)
            pos[f, j] = p
        for e, (name, parent, off, _) in enumerate(ends):
            pp, pr = world[parent]
            pos[f, len(joints) + e] = pp + pr.apply(np.array(off, dtype=float))
    pos.astype("<f4").tofile("synthetic_positions.bin")
    with open("synthetic.json", "w") as fp:
        json.dump({"frames": FRAMES, "joints": len(joints), "end_sites": len(ends),
                   "channels": n_ch, "points": points,
                   "positions": "synthetic_positions.bin float32 [frames, points, 3]"},
                  fp, indent=1)
        fp.write("\n")


if __name__ == "__main__":
    main()
