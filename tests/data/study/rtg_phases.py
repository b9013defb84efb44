#!/usr/bin/env python3
"""Per-frame phase truth (seq_id,frame,label: rest, reach_to_grasp, move) of the whole
../shared/data/reach_to_grasp set, for `takt study --labels` experiments (not committed output:
the file is 5 MB). Rule of the dataset's README: rtg_onset_frame <= frame <= rtg_end_frame is
reach-to-grasp, before it rest, after it the pick-up-and-move.
usage: python3 tests/data/study/rtg_phases.py OUT.csv"""
import csv, os, sys

src = os.path.join(os.environ.get("TAKT_SHARED", "../shared"), "data", "reach_to_grasp")
with open(os.path.join(src, "sequences.csv")) as f:
    rtg = {int(r["seq_id"]): (int(r["rtg_onset_frame"]), int(r["rtg_end_frame"]))
           for r in csv.DictReader(f)}
with open(os.path.join(src, "reach_to_grasp.csv")) as f, open(sys.argv[1], "w") as out:
    rd = csv.reader(f)
    next(rd)
    out.write("seq_id,frame,label\n")
    for row in rd:
        sid, frame = int(row[0]), int(row[1])
        onset, end = rtg[sid]
        out.write(f"{sid},{frame},{'rest' if frame < onset else 'reach_to_grasp' if frame <= end else 'move'}\n")
