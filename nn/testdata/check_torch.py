"""Checks a model file written by ebm against PyTorch.

    /usr/bin/python3 nn/testdata/check_torch.py MODEL.safetensors IO.safetensors ARCH [MODEL IO ARCH ...]

MODEL holds the parameters nn.SaveFile wrote; IO holds the inputs "x" and
ebm's float64 energies "f" and gradients "grad" (∇x of their sum); ARCH is
small_cnn, mnist_cnn4, cnn_rgb or resnet. The script reads MODEL with plain
Python, checks that its bytes are what the reference writer produces for
those tensors, loads it into the torch model with
load_state_dict(strict=True), runs it in float64 and compares. For each triple it prints a line starting with "ok"
or "MISMATCH", and it exits 1 if any triple mismatched.
"""
import sys
import os

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchref  # noqa: E402


def check(model_path, io_path, arch):
    sd, meta = torchref.load(model_path)
    with open(model_path, "rb") as f:
        raw = f.read()
    if raw != torchref.encode(sd, meta):
        print(f"MISMATCH {arch}: file bytes differ from the reference writer's for the same tensors")
        return False
    model = {"small_cnn": torchref.small_cnn, "mnist_cnn4": lambda: torchref.mnist_cnn(4),
             "cnn_rgb": lambda: torchref.cnn(3, 32, 32, 4),
             "resnet": lambda: torchref.resnet(3, 4, 3, 2)}[arch]()
    model.load_state_dict(sd, strict=True)
    model.double()
    io, _ = torchref.load(io_path)
    f, g = torchref.energies(model, io["x"].double())
    ef = ((f - io["f"]).abs() / io["f"].abs().clamp(min=1)).max().item()
    eg = ((g - io["grad"]).abs().max() / g.abs().max().clamp(min=1e-300)).item()
    ok = ef < 1e-9 and eg < 1e-9
    print(f"{'ok' if ok else 'MISMATCH'} {arch}: {len(sd)} tensors ({sum(t.numel() for t in sd.values())} values, "
          f"{sorted({torchref.NAMES[t.dtype] for t in sd.values()})}); "
          f"max rel error f {ef:.3g}, ∇x {eg:.3g}")
    return ok


def main(args):
    if len(args) == 0 or len(args) % 3:
        raise SystemExit(__doc__)
    results = [check(*args[i:i + 3]) for i in range(0, len(args), 3)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
