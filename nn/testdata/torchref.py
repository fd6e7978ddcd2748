"""Plain-Python safetensors I/O and the reference models of ebm's nn tests.

Debian ships torch but no `safetensors` package, so these helpers read and
write the format directly: an 8-byte little-endian header length, a JSON
header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
raw little-endian tensor bytes. The writer follows the reference
implementation: tensors by descending dtype alignment, then by name; compact
JSON; header padded with spaces to a multiple of 8 bytes.
"""
import json
import struct
import sys

import torch

if sys.byteorder != "little":
    raise SystemExit("torchref: big-endian hosts are not supported")

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
    "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
    "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
# The reference's Dtype enum order (increasing alignment); the writer puts
# higher ranks first.
RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3",
        "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
        "I32", "U32", "F32", "C64", "F64", "I64", "U64"]


def _bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)  # numpy has no bfloat16
    return t.numpy().tobytes()


def encode(tensors, metadata=None):
    """Returns the bytes of a safetensors file holding tensors (a dict)."""
    items = sorted(tensors.items(), key=lambda kv: (-RANK.index(NAMES[kv[1].dtype]), kv[0].encode()))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name, t in items:
        b = _bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def save(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def load(path):
    """Returns (tensors, metadata) from a safetensors file, checking that the
    data offsets tile the data part exactly."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    body = data[8 + n:]
    out, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        if b != end:
            raise ValueError(f"{path}: tensor {name}: offsets {b},{e} do not follow {end}")
        end = e
        dt = DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(body[b:e]), dtype=dt) if e > b else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    if end != len(body):
        raise ValueError(f"{path}: {len(body) - end} trailing bytes")
    return out, metadata


def small_cnn():
    """The model of nn's interop tests, for inputs (N, 1, 8, 8)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), torch.nn.SiLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 4 * 4, 16), torch.nn.SiLU(),
        torch.nn.Linear(16, 1),
    )


def mnist_cnn(hidden):
    """The UvA tutorial 8 MNIST energy (ebm's nn.NewMNISTCNN) as a plain
    Sequential, for inputs (N, 1, 28, 28)."""
    c1, c2, c3 = hidden // 2, hidden, 2 * hidden
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 5, stride=2, padding=4), torch.nn.SiLU(),
        torch.nn.Conv2d(c1, c2, 3, stride=2, padding=1), torch.nn.SiLU(),
        torch.nn.Conv2d(c2, c3, 3, stride=2, padding=1), torch.nn.SiLU(),
        torch.nn.Conv2d(c3, c3, 3, stride=2, padding=1), torch.nn.SiLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * c3, c3), torch.nn.SiLU(),
        torch.nn.Linear(c3, 1),
    )


def cnn(channels, height, width, hidden):
    """ebm's nn.NewCNN: the tutorial energy for inputs (N, C, H, W)."""
    c1, c2, c3 = hidden // 2, hidden, 2 * hidden
    h, w = height, width
    layers = []
    for cin, cout, k, p in [(channels, c1, 5, 4), (c1, c2, 3, 1), (c2, c3, 3, 1), (c3, c3, 3, 1)]:
        layers += [torch.nn.Conv2d(cin, cout, k, stride=2, padding=p), torch.nn.SiLU()]
        h, w = (h + 2 * p - k) // 2 + 1, (w + 2 * p - k) // 2 + 1
    layers += [torch.nn.Flatten(), torch.nn.Linear(c3 * h * w, c3), torch.nn.SiLU(), torch.nn.Linear(c3, 1)]
    return torch.nn.Sequential(*layers)


class ResBlock(torch.nn.Module):
    """ebm's nn.ResBlock: y = skip(x) + conv2(silu(conv1(silu(x))))."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = torch.nn.Conv2d(cin, cout, 1, stride=stride) if cin != cout or stride != 1 else None

    def forward(self, x):
        h = self.conv2(torch.nn.functional.silu(self.conv1(torch.nn.functional.silu(x))))
        return (x if self.skip is None else self.skip(x)) + h


class GlobalAvgPool(torch.nn.Module):
    """ebm's nn.GlobalAvgPool: (N, C, H, W) → (N, C)."""

    def forward(self, x):
        return x.mean((2, 3))


def resnet(channels, filters, stages, blocks):
    """ebm's nn.NewResNet."""
    layers = [torch.nn.Conv2d(channels, filters, 3, padding=1)]
    cin = filters
    for s in range(stages):
        cout = filters << s
        for k in range(blocks):
            layers.append(ResBlock(cin, cout, 2 if s > 0 and k == 0 else 1))
            cin = cout
    layers += [torch.nn.SiLU(), GlobalAvgPool(), torch.nn.Linear(cin, 1)]
    return torch.nn.Sequential(*layers)


def param_grads(model, x):
    """∇θ of Σ f over the batch x, by parameter name, in the dtype of x."""
    model.zero_grad()
    model(x).sum().backward()
    return {"dparam." + k: p.grad.detach().clone() for k, p in model.named_parameters()}


def energies(model, x):
    """f(x) per sample and ∇x of their sum, in the dtype of x."""
    x = x.clone().requires_grad_(True)
    f = model(x).squeeze(-1)
    (g,) = torch.autograd.grad(f.sum(), x)
    return f.detach(), g
