#!/usr/bin/python3
"""Reference data for tests/test_cli_cluster.c, made once with Debian's python3-sklearn 1.2.1
and python3-scipy:

  blobs.csv            90 rows: frame, three features, label (text): three well-separated
                       Gaussian blobs, so every clustering method should recover them exactly
  pred.csv, true.csv   40 predicted cluster ids (one cluster more than there are classes,
                       plus DBSCAN-style noise -1) and 40 true class names
  expected.txt         scikit-learn's ARI and NMI of pred vs true, the accuracy after matching
                       clusters to classes one-to-one (scipy's linear_sum_assignment), and
                       precision/recall/F1 per class of the matched predictions (clusters left
                       unmatched become the class "(unmatched)"), macro and weighted

Run from the repository root:  /usr/bin/python3 tests/data/cli_cluster/make_golden.py
"""
import os

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (adjusted_rand_score, normalized_mutual_info_score,
                             precision_recall_fscore_support)

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)

centres = np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 0.0], [0.0, 8.0, 8.0]])
names = ["reach", "grasp", "move"]
with open(os.path.join(HERE, "blobs.csv"), "w") as f:
    f.write("frame,f1,f2,f3,label\n")
    for i in range(90):
        k = i % 3
        x = centres[k] + rng.normal(0.0, 0.6, 3)
        f.write(f"{i},{x[0]:.5f},{x[1]:.5f},{x[2]:.5f},{names[k]}\n")

classes = ["assemble", "inspect", "pack", "wait"]
truth = np.array([classes[i % 4] for i in range(40)])
cluster_of = {"assemble": 2, "inspect": 0, "pack": 3, "wait": 1}
pred = np.array([cluster_of[t] for t in truth])
pred[[3, 7, 11]] = 4          # an extra cluster
pred[[0, 21]] = -1            # noise
pred[[5, 14, 26]] = [3, 2, 0]  # plain mistakes
with open(os.path.join(HERE, "pred.csv"), "w") as f:
    f.write("row,label\n")
    f.writelines(f"{i},{p}\n" for i, p in enumerate(pred))
with open(os.path.join(HERE, "true.csv"), "w") as f:
    f.write("frame,label\n")
    f.writelines(f"{i},{t}\n" for i, t in enumerate(truth))

pred_ids = sorted(set(pred))
count = np.zeros((len(pred_ids), len(classes)))
for p, t in zip(pred, truth):
    count[pred_ids.index(p), classes.index(t)] += 1
rows, cols = linear_sum_assignment(-count)
to_class = {pred_ids[r]: classes[c] for r, c in zip(rows, cols)}
mapped = np.array([to_class.get(p, "(unmatched)") for p in pred])
labels = classes + ["(unmatched)"]
prec, rec, f1, sup = precision_recall_fscore_support(truth, mapped, labels=labels,
                                                     zero_division=0)
macro = precision_recall_fscore_support(truth, mapped, labels=labels, average="macro",
                                        zero_division=0)
weighted = precision_recall_fscore_support(truth, mapped, labels=labels, average="weighted",
                                           zero_division=0)
with open(os.path.join(HERE, "expected.txt"), "w") as f:
    f.write(f"ari {adjusted_rand_score(truth, pred):.6f}\n")
    f.write(f"nmi {normalized_mutual_info_score(truth, pred):.6f}\n")
    f.write(f"accuracy {count[rows, cols].sum() / len(pred):.6f}\n")
    for name, p, r, s in zip(labels, prec, rec, f1):
        f.write(f"{name} {p:.6f} {r:.6f} {s:.6f}\n")
    f.write(f"macro {macro[0]:.6f} {macro[1]:.6f} {macro[2]:.6f}\n")
    f.write(f"weighted {weighted[0]:.6f} {weighted[1]:.6f} {weighted[2]:.6f}\n")
