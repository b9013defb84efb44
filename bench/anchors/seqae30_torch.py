#!/usr/bin/env python3
"""seqae30_torch.py — PyTorch side of the workload-A convergence question (issue 4): is the gap
between takt's and PyTorch's 30-epoch training MSE a real difference or the chaos of equivalent
trajectories? Runs PyTorch 1.13's SeqAE from ../shared/bench/seqae_init.bin, Adam 3e-3, batch
64, and prints one "epoch E train_mse M" line per epoch (the mean of the batch losses weighted by
batch size, as `takt bench seqae30` computes it) and, with --step-log, every step's loss.

    python3 seqae30_torch.py --shared ../shared [--epochs 30] [--order perm30|shuffle:SEED]
                             [--perturb none|ulp] [--step-log FILE] [--threads 1]

--order perm30 visits rows in ../shared/bench/seqae_perm30.bin order (the anchor's run);
shuffle:SEED uses numpy.random.default_rng(SEED).permutation per epoch instead.
--perturb ulp moves every initial weight by one float32 ulp towards +inf before training: a
change far below any difference of arithmetic between two correct implementations, so how far
two runs drift apart from it shows how chaotic the trajectory is.
seqae_20k is regenerated here from the recipe of ../shared/bench/README.md (numpy, bit-exact,
sha256 checked), as bench/seqae_data.c does for takt.
"""
import argparse
import hashlib
import sys

import numpy as np
import torch
import torch.nn as nn

N, T, F = 20000, 40, 66
SEED, PER = 20240601, 3 + 66 + 40 * 68
SHA256 = "10fdcd4e2f2c56ea60452e91545f0b7c4231b86e3ee941e619f5b61bce9b658d"
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def uniform_at(seed, idx):
    """splitmix64 output idx of `seed` as a double in [0, 1) (core/rng.c splitmix64_at)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (idx.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def seqae20k():
    tmpl = 0.15 * (2 * uniform_at(SEED + 1, np.arange(F)) - 1)
    base = np.arange(N, dtype=np.uint64) * np.uint64(PER)

    def u(j):
        return uniform_at(SEED, base + np.uint64(j))

    g = [0.35 + 0.30 * u(0), 0.35 + 0.30 * u(1)]
    sc = 0.70 + 0.60 * u(2)
    o = np.stack([sc * tmpl[f] + 0.01 * (2 * u(3 + f) - 1) for f in range(F)], axis=1)
    gv = [np.zeros(N), np.zeros(N)]
    v, d = np.zeros((N, F)), np.zeros((N, F))
    x = np.empty((N, T, F), dtype=np.float32)
    for t in range(T):
        b = 69 + 68 * t
        for c in range(2):
            gv[c] = 0.9 * gv[c] + 0.003 * (2 * u(b + c) - 1)
            g[c] = g[c] + gv[c]
        r = uniform_at(SEED, base[:, None] + np.uint64(b + 2) + np.arange(F, dtype=np.uint64))
        v = 0.8 * v + 0.004 * (2 * r - 1)
        d = d + v
        gf = np.stack([g[f % 2] for f in range(F)], axis=1)
        x[:, t, :] = np.clip((gf + o) + d, 0, 1).astype(np.float32)
    if hashlib.sha256(x.tobytes()).hexdigest() != SHA256:
        sys.exit("seqae_20k: regenerated data has the wrong sha256")
    return x


class SeqAE(nn.Module):
    def __init__(self, features=66, hidden=32, latent=32):
        super().__init__()
        self.enc = nn.LSTM(features, hidden, 2, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * hidden, latent)
        self.dec = nn.GRU(latent, hidden, 2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, features)

    def forward(self, x):
        _, (h, _) = self.enc(x)
        z = self.to_latent(torch.cat([h[-2], h[-1]], dim=1))
        y, _ = self.dec(z.unsqueeze(1).repeat(1, x.shape[1], 1))
        return self.out(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--order", default="perm30")
    ap.add_argument("--perturb", choices=["none", "ulp"], default="none")
    ap.add_argument("--step-log")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = torch.from_numpy(seqae20k())
    model = SeqAE()
    flat = np.fromfile(f"{a.shared}/bench/seqae_init.bin", dtype=np.float32)
    if a.perturb == "ulp":
        flat = np.nextafter(flat, np.float32(np.inf))
    off = 0
    with torch.no_grad():
        for p in model.state_dict().values():
            p.copy_(torch.from_numpy(flat[off:off + p.numel()].reshape(p.shape)))
            off += p.numel()
    assert off == flat.size
    if a.order == "perm30":
        perm = np.fromfile(f"{a.shared}/bench/seqae_perm30.bin", dtype=np.int32).reshape(30, N)
    else:
        rng = np.random.default_rng(int(a.order.split(":")[1]))
        perm = np.stack([rng.permutation(N) for _ in range(a.epochs)])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.MSELoss()
    log = open(a.step_log, "w") if a.step_log else None
    for e in range(a.epochs):
        total = 0.0
        for first in range(0, N, 64):
            idx = torch.from_numpy(perm[e, first:first + 64].astype(np.int64))
            xb = x[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            if log:
                print(f"{loss.item():.9g}", file=log)
        print(f"epoch {e + 1} train_mse {total / N:.9g}", flush=True)


if __name__ == "__main__":
    main()
