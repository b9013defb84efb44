#!/usr/bin/python3
"""PyTorch reference for label smoothing (tests/test_classifier_smoothing.c):
torch.nn.CrossEntropyLoss(label_smoothing=eps), i.e. targets (1 - eps) one-hot + eps / C.

Writes raw little-endian float32 (int32 for labels):
  smooth_logits.bin [5,7] (spread x20, so that some probabilities underflow in float32)
  smooth_y.bin [5], smooth_loss.bin [1], smooth_grad.bin [5,7]   eps 0.2, mean over rows
  bilstm_smooth_loss.bin [1], bilstm_smooth_grads.bin   the bidirectional LSTM classifier of
      make_bilstm_golden.py (its committed bilstm_params.bin, bilstm_x.bin, bilstm_y.bin, fc on
      both final states) trained on eps 0.1: loss and every gradient, state_dict order
Run once from this folder with Debian's python3-torch: /usr/bin/python3 make_smoothing_golden.py
"""
import os

import numpy as np
import torch
from torch import nn

from make_bilstm_golden import BiLstmClassifier, flat, save

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, dtype="<f4"):
    return torch.from_numpy(np.fromfile(os.path.join(HERE, name), dtype=dtype).copy())


def main():
    torch.manual_seed(8)
    logits = (20 * torch.randn(5, 7)).requires_grad_()
    y = torch.tensor([0, 6, 3, 3, 1])
    loss = nn.CrossEntropyLoss(label_smoothing=0.2)(logits, y)
    loss.backward()
    save("smooth_logits.bin", logits)
    save("smooth_y.bin", y)
    save("smooth_loss.bin", loss.reshape(1))
    save("smooth_grad.bin", logits.grad)

    model = BiLstmClassifier(5, 6, 2, 4, pool_mean=False)
    params = load("bilstm_params.bin")
    state, at = model.state_dict(), 0
    for k, v in state.items():
        state[k] = params[at:at + v.numel()].reshape(v.shape)
        at += v.numel()
    assert at == params.numel()
    model.load_state_dict(state)
    x = load("bilstm_x.bin").reshape(3, 7, 5)
    y = load("bilstm_y.bin", "<i4").long()
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), y)
    loss.backward()
    save("bilstm_smooth_loss.bin", loss.reshape(1))
    save("bilstm_smooth_grads.bin", flat([p.grad for p in model.parameters()]))
    print("torch", torch.__version__, "loss", loss.item())


if __name__ == "__main__":
    main()
