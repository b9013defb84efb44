#!/usr/bin/python3
"""PyTorch reference for the bidirectional LSTM classifier (tests/test_classifier_bilstm.c):
nn.LSTM(5, 6, 2, batch_first=True, bidirectional=True) -> fc = nn.Linear(12, 4) reading
cat(h_n[-2], h_n[-1]) (the final states of both directions of the top layer), and the same
weights reading the mean of the LSTM outputs over the steps instead. Cross-entropy on a batch
of 3 sequences of 7 steps.

Writes raw little-endian float32 (int32 for labels):
  bilstm_params.bin   state_dict order (lstm.*_l0, *_l0_reverse, ..., fc.weight, fc.bias)
  bilstm_x.bin [3,7,5]  bilstm_y.bin [3]
  bilstm_out.bin [3,4] logits, bilstm_loss.bin [1], bilstm_grads.bin (as params)
  bilstm_adam3.bin    params after 3 Adam steps (lr 1e-2, weight_decay 0.01)
  bilstm_mean_out.bin, bilstm_mean_loss.bin, bilstm_mean_grads.bin   the mean-pooled variant
  bilstm_pyr_params.bin, bilstm_pyr_out.bin, bilstm_pyr_loss.bin, bilstm_pyr_grads.bin
                      the temporal-pyramid variant (fresh weights, seed 6, same x and y):
                      fc = nn.Linear(96, 4) reading cat(h_n[-2], h_n[-1], the mean of the
                      outputs over steps [0,7), [0,3) [3,7), [0,1) [1,3) [3,5) [5,7))
Run once from this folder with Debian's python3-torch: /usr/bin/python3 make_bilstm_golden.py
"""
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class BiLstmClassifier(nn.Module):
    def __init__(self, features, hidden, layers, classes, pool_mean):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)
        self.pool_mean = pool_mean

    def forward(self, x):
        out, (h, _) = self.lstm(x)
        z = out.mean(1) if self.pool_mean else torch.cat([h[-2], h[-1]], 1)
        return self.fc(z)


class PyramidClassifier(nn.Module):
    """Final states of both directions, then the mean of the outputs over the whole
    sequence, its halves and its quarters (steps [j*T//P, (j+1)*T//P) of P parts)."""

    def __init__(self, features, hidden, layers, classes):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(8 * 2 * hidden, classes)

    def forward(self, x):
        out, (h, _) = self.lstm(x)
        T = out.shape[1]
        parts = [h[-2], h[-1]]
        for p in (1, 2, 4):
            parts += [out[:, j * T // p:(j + 1) * T // p].mean(1) for j in range(p)]
        return self.fc(torch.cat(parts, 1))


def save(name, t):
    t.detach().numpy().astype("<i4" if t.dtype == torch.int64 else "<f4").tofile(
        os.path.join(HERE, name))


def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def main():
    torch.manual_seed(5)
    model = BiLstmClassifier(5, 6, 2, 4, pool_mean=False)
    x = torch.randn(3, 7, 5)
    y = torch.tensor([1, 3, 0])
    save("bilstm_params.bin", flat(model.state_dict().values()))
    save("bilstm_x.bin", x)
    save("bilstm_y.bin", y)
    loss_fn = nn.CrossEntropyLoss()
    for pool_mean, prefix in ((False, "bilstm"), (True, "bilstm_mean")):
        model.pool_mean = pool_mean
        model.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        save(f"{prefix}_out.bin", out)
        save(f"{prefix}_loss.bin", loss.reshape(1))
        save(f"{prefix}_grads.bin", flat([p.grad for p in model.parameters()]))
    model.pool_mean = False
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.01)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    save("bilstm_adam3.bin", flat(model.state_dict().values()))
    torch.manual_seed(6)
    pyr = PyramidClassifier(5, 6, 2, 4)
    save("bilstm_pyr_params.bin", flat(pyr.state_dict().values()))
    out = pyr(x)
    loss = loss_fn(out, y)
    loss.backward()
    save("bilstm_pyr_out.bin", out)
    save("bilstm_pyr_loss.bin", loss.reshape(1))
    save("bilstm_pyr_grads.bin", flat([p.grad for p in pyr.parameters()]))
    print("torch", torch.__version__, "params", sum(p.numel() for p in model.parameters()),
          [(k, list(v.shape)) for k, v in model.state_dict().items()][:5])


if __name__ == "__main__":
    main()
