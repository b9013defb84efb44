"""IDEC/DEC clustering loss reference (tests/test_idec.c), made with PyTorch (Debian's
python3-torch 1.13.1): Student's t soft assignment Q, target P, KL(P || Q) as
torch.nn.functional.kl_div(Q.log(), P, reduction='batchmean') with P held constant, and its
gradients for the latent rows z and the centres mu by autograd. Run once from this folder:
    /usr/bin/python3 make_golden.py
Writes raw little-endian float32 files (shapes in golden.json)."""
import json

import numpy as np
import torch

N, D, K = 7, 5, 3
g = torch.Generator().manual_seed(6)
z = (torch.randn(N, D, generator=g, dtype=torch.float64) * 1.3).float()
mu = (torch.randn(K, D, generator=g, dtype=torch.float64) * 1.3).float()


def soft_assign(z, mu):
    w = 1.0 / (1.0 + ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1))
    return w / w.sum(1, keepdim=True)


# The reference in double precision, stored as float32.
zd = z.double().requires_grad_(True)
mud = mu.double().requires_grad_(True)
q = soft_assign(zd, mud)
qd = q.detach()
w = qd ** 2 / qd.sum(0)
p = (w / w.sum(1, keepdim=True)).detach()
kl = torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")
kl.backward()

out = {"z": z, "mu": mu, "q": qd, "p": p, "kl": kl.detach().reshape(1),
       "dz": zd.grad, "dmu": mud.grad}
for name, t in out.items():
    np.asarray(t.detach().numpy(), dtype="<f4").tofile(f"{name}.bin")
json.dump({"n": N, "d": D, "k": K, "torch": torch.__version__,
           "files": {n: list(t.shape) for n, t in out.items()}},
          open("golden.json", "w"), indent=1)
