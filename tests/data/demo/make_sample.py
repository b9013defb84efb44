#!/usr/bin/env python3
"""The bundled demo sample: the first 12 movements of participant P1 of ../shared/data/reach_to_grasp
(MIT, see README.md here) with the per-frame phase truth (rest, reach_to_grasp, move) from its
sequences.csv (rtg_onset_frame <= frame <= rtg_end_frame is reach-to-grasp, the rule of the
dataset's README). Run from the repository root: python3 tests/data/demo/make_sample.py"""
import csv, os, sys

SHARED = os.environ.get("TAKT_SHARED", "../shared")
SRC = os.path.join(SHARED, "data", "reach_to_grasp")
OUT = os.path.dirname(os.path.abspath(__file__))
MOVEMENTS = 12

with open(os.path.join(SRC, "sequences.csv")) as f:
    seqs = [r for r in csv.DictReader(f) if r["participant"] == "P1"][:MOVEMENTS]
keep = {int(r["seq_id"]): (int(r["rtg_onset_frame"]), int(r["rtg_end_frame"])) for r in seqs}

with open(os.path.join(SRC, "reach_to_grasp.csv")) as f, \
     open(os.path.join(OUT, "reach_to_grasp_p1.csv"), "w", newline="") as out, \
     open(os.path.join(OUT, "phases.csv"), "w", newline="") as truth:
    rd = csv.reader(f)
    header = next(rd)
    out.write(",".join(header) + "\n")
    truth.write("seq_id,frame,label\n")
    for row in rd:
        sid = int(row[0])
        if sid not in keep:
            continue
        out.write(",".join(row) + "\n")
        onset, end = keep[sid]
        frame = int(row[1])
        phase = "rest" if frame < onset else "reach_to_grasp" if frame <= end else "move"
        truth.write(f"{sid},{frame},{phase}\n")
print("wrote", len(keep), "movements", file=sys.stderr)
