"""Writes the PyTorch reference of the datasets resize tests.

Run from the repository root with Debian's interpreter (python3-torch 1.13):

    /usr/bin/python3 datasets/testdata/make_resize.py

For each case it stores a random input image "in_K" (float64, H×W, values in
[0, 1]) and torch's antialiased bilinear resize of it, "out_K", computed by

    torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear",
                                    align_corners=False, antialias=True)

in float64 (PIL's BILINEAR filter, which torchvision's Resize uses).
"""
import os
import sys

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "nn", "testdata"))
import torchref  # noqa: E402

# (input h, w) → (output h, w): shrinking by non-integer and integer
# factors, enlarging, one axis unchanged, one up and one down.
CASES = [((7, 5), (3, 2)), ((16, 16), (4, 4)), ((5, 7), (11, 13)), ((9, 4), (9, 10)),
         ((10, 10), (7, 13)), ((28, 28), (32, 32)), ((32, 32), (28, 28)), ((40, 24), (16, 16))]


def main():
    torch.manual_seed(20261203)
    out = {}
    for k, ((h, w), (oh, ow)) in enumerate(CASES):
        x = torch.rand(h, w, dtype=torch.float64)
        y = F.interpolate(x[None, None], size=(oh, ow), mode="bilinear", align_corners=False, antialias=True)[0, 0]
        out[f"in_{k}"] = x
        out[f"out_{k}"] = y
    meta = {"source": "datasets/testdata/make_resize.py", "torch": torch.__version__}
    torchref.save(os.path.join(here, "resize_torch.safetensors"), out, meta)


if __name__ == "__main__":
    main()
