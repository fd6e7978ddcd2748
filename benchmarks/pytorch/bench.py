#!/usr/bin/python3
"""PyTorch reference for ebm's benchmarks (benchmarks/workloads.go).

Same models, shapes, settings and dtype (float32) as the Go workloads:

  langevin/toy2d   MLP 2-128-128-1 SiLU, batch 1024, one Langevin step
  langevin/mlp784  MLP 784-256-256-1 SiLU on (N,1,28,28), batch 128
  langevin/cnn     the UvA MNIST CNN (hidden 32), batch 128
  dsm/cnn          one denoising-score-matching step of the MNIST CNN, batch
                   128: x~ = x + 0.1 z, the score by autograd.grad with
                   create_graph=True, loss 0.5/N sum (0.1 s + z)^2, backward
                   (a double backward), Adam
  train/cnn        one iteration of ebm's trainer: a data batch with noise,
                   chains from a replay buffer (5% fresh), 60 Langevin steps,
                   CD loss (alpha 0.1), backward, Adam
  hmc/gauss100     one HMC transition (eps 0.08, 20 leapfrog steps, identity
                   mass, Metropolis correction) of 16 chains on N(0, diag s^2),
                   s = 0.1..1 in 100 dimensions, float64 as in Go
  gibbs/rbm784x500 one block Gibbs sweep (h|v, v|h) of 100 chains of a binary
                   RBM 784x500, W ~ N(0, 0.01^2), float64 as in Go

A Langevin step is the UvA recipe: x += N(0, 0.005^2), clamp to [-1, 1],
x += 10 * clamp(grad_x f, -0.03, 0.03), clamp to [-1, 1], with f the model
output (unnormalised log-density).

Usage: bench.py WORKLOAD [--seconds S] [--threads T] [--device cpu|cuda]
Prints one JSON object: workload, ops, seconds, ms_per_op, cpu_ms_per_op
(process CPU time, all threads), device, threads.
Run it with OMP_WAIT_POLICY=PASSIVE (the Go runner does): without it torch's
spinning OpenMP threads make timings swing tenfold on small machines.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn

STEP_SIZE, NOISE, GRAD_CLIP = 10.0, 0.005, 0.03
TRAIN_STEPS, ALPHA, LR = 60, 0.1, 1e-4
BUFFER, REINIT, TRAIN_DATA = 8192, 0.05, 1024
DSM_SIGMA = 0.1


def mlp(*sizes, image=False):
    layers = [nn.Flatten()] if image else []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def mnist_cnn(hidden=32):
    c1, c2, c3 = hidden // 2, hidden, 2 * hidden
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, stride=2, padding=4), nn.SiLU(),
        nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.SiLU(),
        nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.SiLU(),
        nn.Conv2d(c3, c3, 3, stride=2, padding=1), nn.SiLU(),
        nn.Flatten(),
        nn.Linear(4 * c3, c3), nn.SiLU(),
        nn.Linear(c3, 1),
    )


def langevin_step(model, x):
    x = (x + NOISE * torch.randn_like(x)).clamp_(-1, 1)
    x.requires_grad_(True)
    f = model(x)
    (g,) = torch.autograd.grad(f.sum(), x)
    with torch.no_grad():
        x = (x + STEP_SIZE * g.clamp_(-GRAD_CLIP, GRAD_CLIP)).clamp_(-1, 1)
    return x.detach()


def setup_hmc(device):
    d, n, eps, steps = 100, 16, 0.08, 20
    s = torch.linspace(0.1, 1.0, d, dtype=torch.float64, device=device)
    prec = 1 / s**2

    def f_grad(x):  # log-density and its gradient
        return -0.5 * (x * x * prec).sum(1), -x * prec

    state = {"x": torch.randn(n, d, dtype=torch.float64, device=device) * s}
    fx, gx = f_grad(state["x"])
    state["f"], state["g"] = fx, gx

    def op():
        x0, f0, g0 = state["x"], state["f"], state["g"]
        p0 = torch.randn_like(x0)
        x, g = x0, g0
        p = p0 + 0.5 * eps * g
        for i in range(steps):
            x = x + eps * p
            f, g = f_grad(x)
            if i + 1 < steps:
                p = p + eps * g
        p = p + 0.5 * eps * g
        log_acc = (f - 0.5 * (p * p).sum(1)) - (f0 - 0.5 * (p0 * p0).sum(1))
        acc = torch.log(torch.rand(n, dtype=torch.float64, device=device)) < log_acc
        state["x"] = torch.where(acc[:, None], x, x0)
        state["f"] = torch.where(acc, f, f0)
        state["g"] = torch.where(acc[:, None], g, g0)
    return op


def setup_gibbs(device):
    nv, nh, n = 784, 500, 100
    w = 0.01 * torch.randn(nv, nh, dtype=torch.float64, device=device)
    b = torch.zeros(nv, dtype=torch.float64, device=device)
    c = torch.zeros(nh, dtype=torch.float64, device=device)
    state = {"v": torch.randint(0, 2, (n, nv), device=device).double()}

    def op():
        h = torch.bernoulli(torch.sigmoid(state["v"] @ w + c))
        state["v"] = torch.bernoulli(torch.sigmoid(h @ w.t() + b))
    return op


def setup(name, device):
    torch.manual_seed(1)
    if name == "hmc/gauss100":
        return setup_hmc(device)
    if name == "gibbs/rbm784x500":
        return setup_gibbs(device)
    shape = {"langevin/toy2d": (1024, 2)}.get(name, (128, 1, 28, 28))
    if name == "langevin/toy2d":
        model = mlp(2, 128, 128, 1)
    elif name == "langevin/mlp784":
        model = mlp(784, 256, 256, 1, image=True)
    elif name in ("langevin/cnn", "train/cnn", "dsm/cnn"):
        model = mnist_cnn(32)
    else:
        raise SystemExit(f"bench.py: unknown workload {name!r}")
    model = model.to(device).float()
    state = {"x": torch.rand(shape, device=device) * 2 - 1}

    if name.startswith("langevin/"):
        for p in model.parameters():
            p.requires_grad_(False)

        def op():
            state["x"] = langevin_step(model, state["x"])
        return op

    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.0, 0.999))
    if name == "dsm/cnn":
        return setup_dsm(model, opt, shape, device)
    # The recipe of ebm's trainer (and the UvA tutorial): data batches with
    # N(0, 0.005^2) noise, chains started from a replay buffer of 8192
    # samples (5% from fresh uniform noise), pushed back after sampling.
    data = torch.rand((TRAIN_DATA,) + shape[1:], device=device) * 2 - 1
    n = shape[0]
    buf = torch.empty((BUFFER,) + shape[1:], device=device)
    ring = {"size": 0, "next": 0, "pos": TRAIN_DATA}

    def op():
        if ring["pos"] + n > TRAIN_DATA:
            ring["perm"], ring["pos"] = torch.randperm(TRAIN_DATA, device=device), 0
        xpos = data[ring["perm"][ring["pos"]:ring["pos"] + n]]
        ring["pos"] += n
        xpos = (xpos + NOISE * torch.randn_like(xpos)).clamp_(-1, 1)
        x = torch.rand(shape, device=device) * 2 - 1
        if ring["size"] > 0:
            keep = torch.rand(n, device=device) >= REINIT
            idx = torch.randint(0, ring["size"], (n,), device=device)
            x[keep] = buf[idx[keep]]
        for p in model.parameters():
            p.requires_grad_(False)
        for _ in range(TRAIN_STEPS):
            x = langevin_step(model, x)
        for p in model.parameters():
            p.requires_grad_(True)
        fp, fn = model(xpos).squeeze(1), model(x).squeeze(1)
        loss = fn.mean() - fp.mean() + ALPHA * ((fp ** 2).mean() + (fn ** 2).mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        slots = (ring["next"] + torch.arange(n, device=device)) % BUFFER
        buf[slots] = x
        ring["next"] = (ring["next"] + n) % BUFFER
        ring["size"] = min(ring["size"] + n, BUFFER)
    return op


def setup_dsm(model, opt, shape, device, sigma=DSM_SIGMA):
    # ebm's trainer.DenoisingScoreMatching{Sigma: 0.1}: a data batch,
    # x~ = x + sigma z, s = grad_x f(x~) kept in the graph, the
    # sigma^2-weighted loss, its gradient by a double backward, Adam.
    data = torch.rand((TRAIN_DATA,) + shape[1:], device=device) * 2 - 1
    n = shape[0]
    ring = {"pos": TRAIN_DATA}

    def op():
        if ring["pos"] + n > TRAIN_DATA:
            ring["perm"], ring["pos"] = torch.randperm(TRAIN_DATA, device=device), 0
        x = data[ring["perm"][ring["pos"]:ring["pos"] + n]]
        ring["pos"] += n
        z = torch.randn_like(x)
        xt = (x + sigma * z).requires_grad_(True)
        f = model(xt).squeeze(1)
        (s,) = torch.autograd.grad(f.sum(), xt, create_graph=True)
        loss = 0.5 * ((sigma * s + z) ** 2).sum() / n
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return op


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    op = setup(a.workload, dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    # Warm up: first calls allocate and pick kernels.
    t0 = time.perf_counter()
    while True:
        op()
        sync()
        if time.perf_counter() - t0 > min(1.0, a.seconds / 3):
            break
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        op()
        n += 1
        sync()
        el = time.perf_counter() - t0
        if el >= a.seconds and n >= 3:
            break
    cpu = time.process_time() - c0
    json.dump({"workload": a.workload, "ops": n, "seconds": el, "ms_per_op": el * 1e3 / n,
               "cpu_ms_per_op": cpu * 1e3 / n,
               "device": a.device, "threads": torch.get_num_threads(),
               "torch": torch.__version__}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
