"""Regenerates the PyTorch reference files of ebm's nn and safetensors tests.

Run from the repository root with Debian's interpreter (python3-torch 1.13):

    /usr/bin/python3 nn/testdata/make_torch.py

It writes, with a fixed seed:
  nn/testdata/torch_model.safetensors       small_cnn() state_dict, F32
  nn/testdata/torch_model_bf16.safetensors  the same weights rounded to BF16
  nn/testdata/torch_io.safetensors          inputs x (F64), torch's energies and
                                            ∇x of their sum, in float64 (f64, grad64:
                                            the F32 weights run in double) and
                                            float32 (f32, grad32)
  nn/testdata/torch_mnist_cnn.safetensors   mnist_cnn(4) state_dict, F32
  nn/testdata/torch_mnist_cnn_io.safetensors  its inputs and outputs, as above
  nn/testdata/torch_cnn_rgb.safetensors     cnn(3, 32, 32, 4) state_dict (nn.NewCNN)
  nn/testdata/torch_resnet.safetensors      resnet(3, 4, 3, 2) state_dict (nn.NewResNet)
  nn/testdata/torch_{cnn_rgb,resnet}_io.safetensors  inputs and outputs as above,
                                            and ∇θ of Σf in float64 ("dparam.NAME")
  internal/safetensors/testdata/torch_dtypes.safetensors
                                            special values in F16, BF16, F32, I32,
                                            I64 with torch's float64 conversions
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchref  # noqa: E402

META = {"format": "pt", "source": "nn/testdata/make_torch.py", "torch": torch.__version__}


def reference(model, x):
    """Inputs and torch's outputs in float32 and float64."""
    m32 = model.float()
    f32, g32 = torchref.energies(m32, x.float())
    m64 = model.double()  # the same (float32-representable) weights in double
    f64, g64 = torchref.energies(m64, x)
    model.float()
    return {"x": x, "f64": f64, "grad64": g64, "f32": f32, "grad32": g32}


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    nn_dir = os.path.join(root, "nn", "testdata")
    st_dir = os.path.join(root, "internal", "safetensors", "testdata")
    os.makedirs(st_dir, exist_ok=True)

    torch.manual_seed(20261128)
    model = torchref.small_cnn()
    sd = model.state_dict()
    torchref.save(os.path.join(nn_dir, "torch_model.safetensors"), sd, META)
    torchref.save(os.path.join(nn_dir, "torch_model_bf16.safetensors"),
                  {k: v.bfloat16() for k, v in sd.items()}, META)
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    torchref.save(os.path.join(nn_dir, "torch_io.safetensors"), reference(model, x), META)

    torch.manual_seed(7)
    mnist = torchref.mnist_cnn(4)
    torchref.save(os.path.join(nn_dir, "torch_mnist_cnn.safetensors"), mnist.state_dict(), META)
    x = torch.rand(2, 1, 28, 28, dtype=torch.float64) * 2 - 1
    torchref.save(os.path.join(nn_dir, "torch_mnist_cnn_io.safetensors"), reference(mnist, x), META)

    # The general CNN on 3×32×32 and the ResNet, with ∇θ in float64 too.
    for name, seed, model, shape in [("cnn_rgb", 11, lambda: torchref.cnn(3, 32, 32, 4), (2, 3, 32, 32)),
                                     ("resnet", 12, lambda: torchref.resnet(3, 4, 3, 2), (2, 3, 16, 12))]:
        torch.manual_seed(seed)
        m = model()
        torchref.save(os.path.join(nn_dir, f"torch_{name}.safetensors"), m.state_dict(), META)
        x = torch.rand(*shape, dtype=torch.float64) * 2 - 1
        ref = reference(m, x)
        ref.update(torchref.param_grads(m.double(), x))
        m.float()
        torchref.save(os.path.join(nn_dir, f"torch_{name}_io.safetensors"), ref, META)

    # Conversions: values chosen to hit rounding, subnormals, ±0, ±Inf,
    # NaN and the extremes of each type.
    v = torch.tensor([0.0, -0.0, 1.0, -2.5, 1 / 3, 65504.0, 6.1e-5, 5.96e-8, 1e-7,
                      3.0e38, float("inf"), float("-inf"), float("nan"), 1234.567, -1e-3],
                     dtype=torch.float64)
    dt = {}
    for name, dtype in [("f16", torch.float16), ("bf16", torch.bfloat16), ("f32", torch.float32)]:
        t = v.to(dtype)
        dt[name] = t
        dt[name + "_as_f64"] = t.double()
    i = torch.tensor([0, 1, -1, 2**31 - 1, -2**31, 123456789], dtype=torch.int64)
    dt["i32"] = i.int()
    dt["i32_as_f64"] = i.int().double()
    i64 = torch.tensor([0, -1, 2**53, -2**62, 2**63 - 1], dtype=torch.int64)
    dt["i64"] = i64
    dt["i64_as_f64"] = i64.double()
    dt["u8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    dt["u8_as_f64"] = dt["u8"].double()
    dt["i8"] = torch.tensor([0, -128, 127], dtype=torch.int8)
    dt["i8_as_f64"] = dt["i8"].double()
    dt["bool"] = torch.tensor([True, False, True])
    dt["bool_as_f64"] = dt["bool"].double()
    torchref.save(os.path.join(st_dir, "torch_dtypes.safetensors"), dt, META)


if __name__ == "__main__":
    main()
