#!/usr/bin/env python3
"""make_golden.py — reference tensors for tests/test_nn_golden.c, computed by PyTorch (Debian's
python3-torch 1.13.1) on small models with fixed weights and inputs.

    /usr/bin/python3 tests/data/nn/make_golden.py      (run from anywhere; writes next to itself)

For each model (seqae, lstmclf, mlp) it writes raw little-endian float32 files:
  <model>_params.bin   initial parameters, state_dict order, flattened row-major
  <model>_x.bin        the input batch (batch-first)      <model>_y.bin  int32 labels (classifiers)
  <model>_out.bin      the forward output (reconstruction [B,T,F] / logits [B,C])
  <model>_loss.bin     the loss (1 value)
  <model>_grads.bin    d(loss)/d(parameters) at the initial parameters, same layout as params
  <model>_adam3.bin    parameters after 3 Adam steps on the same batch (settings in golden.json)
and golden.json with every shape and setting.
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)
torch.set_num_threads(1)


class SeqAE(nn.Module):
    """Workload A's model: BiLSTM encoder, [h_n fwd, h_n bwd] of the top layer -> latent,
    latent repeated -> BiGRU decoder -> per-step linear."""

    def __init__(self, features, hidden, latent, layers=2):
        super().__init__()
        self.enc = nn.LSTM(features, hidden, layers, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * hidden, latent)
        self.dec = nn.GRU(latent, hidden, layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, features)

    def forward(self, x):
        _, (h, _) = self.enc(x)
        z = self.to_latent(torch.cat([h[-2], h[-1]], dim=1))
        y, _ = self.dec(z.unsqueeze(1).repeat(1, x.shape[1], 1))
        return self.out(y)


class LstmClassifier(nn.Module):
    def __init__(self, features, hidden, layers, classes):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, layers, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


class Mlp(nn.Module):
    def __init__(self, n_in, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors]).numpy().astype("<f4")


def save(name, array):
    array.tofile(os.path.join(HERE, name))


def run(name, model, x, y, loss_fn, adam_kwargs):
    save(f"{name}_params.bin", flat(model.state_dict().values()))
    save(f"{name}_x.bin", x.numpy().astype("<f4"))
    if y is not None:
        save(f"{name}_y.bin", y.numpy().astype("<i4"))
    out = model(x)
    loss = loss_fn(out, x if y is None else y)
    loss.backward()
    save(f"{name}_out.bin", out.detach().numpy().astype("<f4"))
    save(f"{name}_loss.bin", loss.detach().reshape(1).numpy().astype("<f4"))
    # named_parameters follows state_dict order for these modules (no buffers).
    save(f"{name}_grads.bin", flat([p.grad for p in model.parameters()]))
    opt = torch.optim.Adam(model.parameters(), **adam_kwargs)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(model(x), x if y is None else y).backward()
        opt.step()
    save(f"{name}_adam3.bin", flat(model.state_dict().values()))
    return {"x_shape": list(x.shape), "out_shape": list(out.shape), "loss": loss.item(),
            "params": sum(p.numel() for p in model.parameters()), "adam": adam_kwargs,
            "tensors": [[k, list(v.shape)] for k, v in model.state_dict().items()]}


def main():
    meta = {"torch": torch.__version__}
    ae = SeqAE(features=5, hidden=8, latent=4)
    x = torch.rand(3, 6, 5)
    meta["seqae"] = run("seqae", ae, x, None, nn.MSELoss(), {"lr": 1e-2})
    meta["seqae"].update(features=5, hidden=8, latent=4, seq_len=6, batch=3, layers=2)

    clf = LstmClassifier(features=5, hidden=6, layers=2, classes=4)
    x = torch.randn(3, 7, 5)
    y = torch.tensor([2, 0, 3])
    meta["lstmclf"] = run("lstmclf", clf, x, y, nn.CrossEntropyLoss(),
                          {"lr": 1e-2, "weight_decay": 0.01})
    meta["lstmclf"].update(features=5, hidden=6, layers=2, classes=4, seq_len=7, batch=3)

    mlp = Mlp(6, 10, 5)
    x = torch.randn(8, 6)
    y = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    meta["mlp"] = run("mlp", mlp, x, y, nn.CrossEntropyLoss(), {"lr": 1e-2})
    meta["mlp"].update(n_in=6, hidden=10, classes=5, batch=8)

    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
