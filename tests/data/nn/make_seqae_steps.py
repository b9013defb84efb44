#!/usr/bin/env python3
"""make_seqae_steps.py — PyTorch's losses of the first 3 training steps of workload A from
../shared/bench/seqae_init.bin (Adam lr 3e-3, batches 0..2 of seqae_20k in file order), the
short check that tests/test_nn_seqae.c runs where the 60-step check is too slow (under
AddressSanitizer). Needs ../shared (run from the repository root or set TAKT_SHARED); writes
seqae_init_steps3.bin (3 float32 losses) next to itself.

seqae_20k rows 0..191 are regenerated from the recipe in shared/bench/README.md with numpy
(uint64 arithmetic wraps modulo 2^64; every double operation in the recipe's order, no fused
multiply-add), the same bytes as bench/seqae_data.c.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SeqAE  # noqa: E402  (the same model definition)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED, PER = 20240601, 2789


def uniforms(seed, idx):
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (idx.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def seqae_rows(n):
    tmpl = 0.15 * (2 * uniforms(SEED + 1, np.arange(66)) - 1)
    s = np.arange(n, dtype=np.uint64)[:, None] * np.uint64(PER)
    u = uniforms(SEED, s + np.arange(PER, dtype=np.uint64)[None, :])  # [n, PER]
    g = np.stack([0.35 + 0.30 * u[:, 0], 0.35 + 0.30 * u[:, 1]], axis=1)
    sc = 0.70 + 0.60 * u[:, 2]
    gv = np.zeros((n, 2))
    v = np.zeros((n, 66))
    d = np.zeros((n, 66))
    o = sc[:, None] * tmpl[None, :] + 0.01 * (2 * u[:, 3:69] - 1)
    x = np.empty((n, 40, 66), dtype=np.float32)
    parity = np.arange(66) % 2
    for t in range(40):
        b = 69 + 68 * t
        gv = 0.9 * gv + 0.003 * (2 * u[:, b:b + 2] - 1)
        g = g + gv
        v = 0.8 * v + 0.004 * (2 * u[:, b + 2:b + 68] - 1)
        d = d + v
        x[:, t, :] = np.minimum(1.0, np.maximum(0.0, g[:, parity] + o + d)).astype(np.float32)
    return x


def main():
    shared = os.environ.get("TAKT_SHARED", "../shared")
    init = np.fromfile(os.path.join(shared, "bench", "seqae_init.bin"), dtype="<f4")
    torch.set_num_threads(1)
    model = SeqAE(66, 32, 32)
    offset, state = 0, model.state_dict()
    for name, t in state.items():
        state[name] = torch.from_numpy(init[offset:offset + t.numel()].reshape(t.shape).copy())
        offset += t.numel()
    assert offset == init.size
    model.load_state_dict(state)
    x = torch.from_numpy(seqae_rows(192))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for i in range(3):
        batch = x[64 * i:64 * i + 64]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(batch), batch)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.array(losses, dtype="<f4").tofile(os.path.join(HERE, "seqae_init_steps3.bin"))
    print(losses)


if __name__ == "__main__":
    main()
