#!/usr/bin/env python3
"""make_golden.py — reference tensors for tests/test_seqae_weak.c, computed by PyTorch
(Debian's python3-torch 1.13.1) on the small model of tests/data/nn/make_golden.py, for the
two weak decoders: the latent at step 0 and zeros after (decoder_input = first; files without
prefix) and the latent repeated with the decoder GRU frozen at its initial weights
(fixed_decoder; files prefixed fixed_, whose grads.bin has zeros for dec.*).

    /usr/bin/python3 tests/data/seqae_weak/make_golden.py   (writes next to itself)

Raw little-endian float32 files, the layout of tests/data/nn/ (see golden.json here):
  params.bin  initial parameters, state_dict order     x.bin     input [B, T, F]
  out.bin     reconstruction [B, T, F]                  loss.bin  MSE (1 value)
  grads.bin   d(loss)/d(parameters) at params.bin       adam3.bin parameters after 3 Adam steps
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "nn"))
from make_golden import SeqAE, flat  # noqa: E402  (the same model definition)


class SeqAEFirst(SeqAE):
    """The latent is the decoder's input at step 0 only ("Predict & Cluster", Su et al.,
    CVPR 2020: a weak decoder makes the encoder's latent carry the motion)."""

    def forward(self, x):
        _, (h, _) = self.enc(x)
        z = self.to_latent(torch.cat([h[-2], h[-1]], dim=1))
        dec_in = torch.zeros(x.shape[0], x.shape[1], z.shape[1])
        dec_in[:, 0] = z
        y, _ = self.dec(dec_in)
        return self.out(y)


def save(name, array):
    array.tofile(os.path.join(HERE, name))


def run(prefix, model, x):
    save(prefix + "params.bin", flat(model.state_dict().values()))
    save(prefix + "x.bin", x.numpy().astype("<f4"))
    loss_fn = torch.nn.MSELoss()
    out = model(x)
    loss = loss_fn(out, x)
    loss.backward()
    save(prefix + "out.bin", out.detach().numpy().astype("<f4"))
    save(prefix + "loss.bin", loss.detach().reshape(1).numpy().astype("<f4"))
    save(prefix + "grads.bin", flat([torch.zeros_like(p) if p.grad is None else p.grad
                                     for p in model.parameters()]))
    # Adam skips parameters without a gradient, as a zero gradient leaves ours unchanged.
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(model(x), x).backward()
        opt.step()
    save(prefix + "adam3.bin", flat(model.state_dict().values()))
    return loss


def main():
    torch.manual_seed(2026)
    torch.set_num_threads(1)
    model = SeqAEFirst(features=5, hidden=8, latent=4)
    x = torch.rand(3, 6, 5)
    loss = run("", model, x)
    fixed = SeqAE(features=5, hidden=8, latent=4)
    for p in fixed.dec.parameters():
        p.requires_grad_(False)
    fixed_loss = run("fixed_", fixed, torch.rand(3, 6, 5))
    meta = {"torch": torch.__version__, "features": 5, "hidden": 8, "latent": 4, "seq_len": 6,
            "batch": 3, "layers": 2, "decoder_input": "first", "adam": {"lr": 1e-2},
            "params": sum(p.numel() for p in model.parameters()), "loss": loss.item(),
            "fixed_": {"decoder_input": "repeat", "fixed_decoder": True,
                       "loss": fixed_loss.item()}}
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
