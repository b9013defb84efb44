#!/usr/bin/env python3
"""seqae_torch.py — the PyTorch anchor of `takt bench seqae` and `takt bench harclf`
(workloads A and B of shared/bench/README.md), run on the same data as takt in the same run.

    python3 seqae_torch.py seqae  --data ROWS.bin --rows N --threads T [--warmup 10 --steps 50]
    python3 seqae_torch.py harclf --data X.bin --labels Y.bin --rows N --threads T [...]

A: SeqAE (2-layer BiLSTM(66->32) encoder, [h_n fwd, h_n bwd] -> Linear(64->32), latent
repeated 40x -> 2-layer BiGRU(32->32) -> Linear(64->66)), MSE, Adam 3e-3, batch 64, batches in
file order; encode = encoder + latent on batches of 256 under torch.no_grad().
B: 2-layer LSTM(66->64) -> Linear(64->8) on the last step, cross-entropy, Adam 1e-3, batch 8.
Prints "metric value" lines: train_seq_per_s, encode_seq_per_s (A), peak_rss_mb.
Threads: with T = 1 everything runs on one thread; with T = 2 torch's own pool gets 1 thread and
OpenBLAS 2 (the caller sets OPENBLAS_NUM_THREADS), the fastest 2-core setting of
shared/bench/ANCHORS.md ("no variables set"; both pools at 2 fight over the cores).
Exit code 3 when torch or numpy is missing.
"""
import argparse
import resource
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:
    print(f"{e.name} is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(3)


class SeqAE(nn.Module):
    def __init__(self, features=66, hidden=32, latent=32):
        super().__init__()
        self.enc = nn.LSTM(features, hidden, 2, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * hidden, latent)
        self.dec = nn.GRU(latent, hidden, 2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, features)

    def encode(self, x):
        _, (h, _) = self.enc(x)
        return self.to_latent(torch.cat([h[-2], h[-1]], dim=1))

    def forward(self, x):
        z = self.encode(x)
        y, _ = self.dec(z.unsqueeze(1).repeat(1, x.shape[1], 1))
        return self.out(y)


class LstmClassifier(nn.Module):
    def __init__(self, features=66, hidden=64, classes=8):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, 2, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


def train_rate(model, loss_fn, opt, batches, warmup, steps):
    def step(i):
        x, y = batches[i % len(batches)]
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(warmup, warmup + steps):
        step(i)
    elapsed = time.perf_counter() - start
    return steps * batches[0][0].shape[0] / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", choices=["seqae", "harclf"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--encode-reps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    if args.workload == "seqae":
        x = torch.from_numpy(np.fromfile(args.data, dtype="<f4").reshape(args.rows, 40, 66))
        model = SeqAE()
        batches = [(x[i:i + 64], x[i:i + 64]) for i in range(0, args.rows - 63, 64)]
        rate = train_rate(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=3e-3),
                          batches, args.warmup, args.steps)
        print(f"train_seq_per_s {rate:.3f}")
        enc = [x[i:i + 256] for i in range(0, args.rows - 255, 256)]
        with torch.no_grad():
            for b in enc[:2]:
                model.encode(b)
            start = time.perf_counter()
            for i in range(args.encode_reps):
                model.encode(enc[i % len(enc)])
            elapsed = time.perf_counter() - start
        print(f"encode_seq_per_s {args.encode_reps * 256 / elapsed:.3f}")
    else:
        x = torch.from_numpy(np.fromfile(args.data, dtype="<f4").reshape(args.rows, 200, 66))
        y = torch.from_numpy(np.fromfile(args.labels, dtype="<i4").astype(np.int64))
        model = LstmClassifier()
        batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, args.rows - 7, 8)]
        rate = train_rate(model, nn.CrossEntropyLoss(),
                          torch.optim.Adam(model.parameters(), lr=1e-3), batches, args.warmup,
                          args.steps)
        print(f"train_seq_per_s {rate:.3f}")
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()
