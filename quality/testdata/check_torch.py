"""Recomputes the quality classifier's outputs with PyTorch.

Usage: check_torch.py CLASSIFIER IO [IO ...]

CLASSIFIER is a file written by quality.Classifier.SaveFile; each IO file
holds x (N, 1, 28, 28), and the features (N, 64) and logits (N, 10) ebm
computed. The network is rebuilt as the torch.nn.Sequential that
quality.NewClassifier documents and loaded with load_state_dict(strict=True)
after dropping the "reference.*" statistics. Prints one line per IO file:
"ok NAME: ..." or "MISMATCH NAME: ...".
"""
import json
import os
import struct
import sys

import torch

DTYPES = {"F64": torch.float64, "F32": torch.float32}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[b:e]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def main():
    torch.set_num_threads(1)
    sd = load(sys.argv[1])
    sd = {k: v for k, v in sd.items() if not k.startswith("reference.")}
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5, stride=2, padding=2), torch.nn.SiLU(),
        torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.SiLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 7 * 7, 64), torch.nn.SiLU(),
        torch.nn.Linear(64, 10),
    )
    net.load_state_dict(sd, strict=True)
    net = net.double()  # the float32 weights exactly, computed in float64
    for path in sys.argv[2:]:
        io = load(path)
        with torch.no_grad():
            feat = net[:7](io["x"])
            logits = net[7](feat)
        name = os.path.basename(path)
        errs = []
        for what, ours, theirs in (("features", io["features"], feat), ("logits", io["logits"], logits)):
            err = ((ours - theirs).abs() / theirs.abs().clamp(min=1)).max().item()
            errs.append(f"{what} max error {err:.2e}")
            # ebm computes in float32: a few ulps of 1e-7 each, summed over
            # up to 1568 terms.
            if err > 2e-5:
                print(f"MISMATCH {name}: " + ", ".join(errs))
                break
        else:
            print(f"ok {name}: " + ", ".join(errs))


if __name__ == "__main__":
    main()
