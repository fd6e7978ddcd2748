"""Recomputes ebm's training objectives in PyTorch (create_graph=True).

    /usr/bin/python3 trainer/testdata/objectives_torch.py CASE.safetensors [...]

Each CASE file, written by trainer's TestObjectivesAgainstPyTorch, holds a
model's parameters ("param/<name>"), the iteration's loss inputs
("input/<i>", "aux/<i>"), and ebm's float32 loss ("loss") and gradients
("grad/<name>"); its metadata names the architecture and the objective
with its settings. The script rebuilds the model as a torch
nn.Sequential with the same parameter names, computes the objective in
float32 with double backward through autograd, and compares. For each
case it prints a line starting with "ok" or "MISMATCH"; it exits 1 if
any case mismatched.
"""
import copy
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nn", "testdata"))
import torchref  # noqa: E402

FREQS = [0.25, 0.5, 1, 2, 4, 8]  # nn.NoiseFrequencies


class NoiseBias(torch.nn.Module):
    """ebm's nn.NoiseBias: x + (W φ(log σ) + b) per channel."""

    def __init__(self, c):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(c, 2 * len(FREQS)))
        self.bias = torch.nn.Parameter(torch.zeros(c))

    def forward(self, x, sigma):
        u = torch.log(sigma)[:, None] * torch.tensor(FREQS, dtype=x.dtype)[None, :]
        e = F.linear(torch.cat([torch.sin(u), torch.cos(u)], 1), self.weight, self.bias)
        return x + e.reshape(e.shape + (1,) * (x.dim() - 2))


class NoiseSequential(torch.nn.Sequential):
    """A Sequential whose NoiseBias layers, and a final division by σ
    (ebm's NoiseScale), take the noise level."""

    def forward(self, x, sigma=None):
        for m in self:
            x = m(x, sigma) if isinstance(m, NoiseBias) else m(x)
        if sigma is not None and getattr(self, "scale", False):
            x = x.reshape(-1) / sigma
        return x


ACTS = {"silu": torch.nn.SiLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
        "softplus": torch.nn.Softplus, "elu": torch.nn.ELU, "leakyrelu": lambda: torch.nn.LeakyReLU(0.2)}


def build(arch):
    if arch.startswith("mlp_"):
        act = ACTS[arch[4:]]
        return NoiseSequential(torch.nn.Linear(2, 8), act(), torch.nn.Linear(8, 8), act(), torch.nn.Linear(8, 1))
    if arch == "mnist_cnn4":
        return NoiseSequential(*torchref.mnist_cnn(4))
    if arch == "mnist_noise_cnn4":
        c1, c2, c3 = 2, 4, 8
        m = NoiseSequential(
            torch.nn.Conv2d(1, c1, 5, stride=2, padding=4), NoiseBias(c1), torch.nn.SiLU(),
            torch.nn.Conv2d(c1, c2, 3, stride=2, padding=1), NoiseBias(c2), torch.nn.SiLU(),
            torch.nn.Conv2d(c2, c3, 3, stride=2, padding=1), NoiseBias(c3), torch.nn.SiLU(),
            torch.nn.Conv2d(c3, c3, 3, stride=2, padding=1), NoiseBias(c3), torch.nn.SiLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(4 * c3, c3), NoiseBias(c3), torch.nn.SiLU(),
            torch.nn.Linear(c3, 1))
        m.scale = True
        return m
    raise ValueError(arch)


def energies(model, x, sigma=None):
    return model(x, sigma).reshape(x.shape[0])


def score(model, x, sigma=None):
    f = energies(model, x, sigma)
    (s,) = torch.autograd.grad(f.sum(), x, create_graph=True)
    return f, s


def objective(name, cfg, model, inp, aux, extra, alpha):
    if name == "esm":
        x = inp[0].clone().requires_grad_(True)
        n, d = x.shape[0], x[0].numel()
        _, s = score(model, x)
        loss = 0.5 * (s * s).sum()
        for i in range(d):
            e = torch.zeros_like(x).reshape(n, d)
            e[:, i] = 1
            e = e.reshape(x.shape)
            (hv,) = torch.autograd.grad((s * e).sum(), x, create_graph=True)
            loss = loss + (e * hv).sum()
        return loss / n
    if name == "ssm":
        x = inp[0].clone().requires_grad_(True)
        n = x.shape[0]
        _, s = score(model, x)
        m = len(aux)
        hess, norm = 0, 0
        for v in aux:
            (hv,) = torch.autograd.grad((s * v).sum(), x, create_graph=True)
            hess = hess + (v * hv).sum()
            if cfg["NoVarianceReduction"]:
                norm = norm + ((v * s).reshape(n, -1).sum(1) ** 2).sum()
        hess = hess / m
        norm = 0.5 * norm / m if cfg["NoVarianceReduction"] else 0.5 * (s * s).sum()
        return (hess + norm) / n
    if name == "dsm":
        x = inp[0].clone().requires_grad_(True)
        z, sig, sig1 = aux
        _, s = score(model, x, sig1 if cfg["Conditional"] else None)
        r = sig * s + z
        return 0.5 * (r * r).sum() / x.shape[0]
    if name == "nce":
        c = extra["objective.log_z"].sum()
        nu = inp[1].shape[0] // inp[0].shape[0]
        fx, fy = energies(model, inp[0]), energies(model, inp[1])
        gx = fx - c - aux[0] - math.log(nu)
        gy = fy - c - aux[1] - math.log(nu)
        return (F.softplus(-gx).sum() + F.softplus(gy).sum()) / inp[0].shape[0]
    if name == "icd":
        fp, fn = energies(model, inp[0]), energies(model, inp[1])
        loss = fn.mean() - fp.mean() + alpha * ((fp * fp).mean() + (fn * fn).mean())
        y = (inp[1] + aux[0]).requires_grad_(True)
        _, s = score(model, y)
        xt = y + cfg["KLStep"] * s
        frozen = copy.deepcopy(model).requires_grad_(False)  # θ̄: the same values, no gradient
        fk = energies(frozen, xt)
        return loss - cfg["KL"] * fk.mean()
    raise ValueError(name)


def check(path):
    ts, meta = torchref.load(path)
    arch, name = meta["arch"], meta["objective"]
    cfg = json.loads(meta["config"])
    model = build(arch)
    sd = {k[len("param/"):]: v for k, v in ts.items() if k.startswith("param/")}
    own = {k: v for k, v in sd.items() if k.startswith("objective.")}
    model.load_state_dict({k: v for k, v in sd.items() if k not in own}, strict=True)
    model.float()
    extra = {k: torch.nn.Parameter(v.float()) for k, v in own.items()}
    inp = [ts[f"input/{i}"].float() for i in range(int(meta["inputs"]))]
    aux = [ts[f"aux/{i}"].float() for i in range(int(meta["aux"]))]
    loss = objective(name, cfg, model, inp, aux, extra, float(meta["alpha"]))
    names = [k for k, _ in model.named_parameters()] + list(extra)
    params = [p for _, p in model.named_parameters()] + list(extra.values())
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    el = abs(loss.item() - ts["loss"].item()) / max(1.0, abs(loss.item()))
    eg, worst = 0.0, ""
    for n, g in zip(names, grads):
        g = torch.zeros_like(params[names.index(n)]) if g is None else g
        ours = ts[f"grad/{n}"].float()
        scale = max(g.abs().max().item(), 1e-3)
        e = (g - ours).abs().max().item() / scale
        if e > eg:
            eg, worst = e, n
    ok = el < 2e-5 and eg < 5e-5
    print(f"{'ok' if ok else 'MISMATCH'} {os.path.basename(path)}: {arch} {name}: loss {loss.item():.6g} "
          f"(rel. error {el:.2g}), max gradient error {eg:.2g} of the largest ({worst})")
    return ok


def main(args):
    if not args:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    return 0 if all([check(a) for a in args]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
