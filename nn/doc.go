// Package nn holds the layers energy networks are built from, with
// PyTorch's conventions so that models and weights move between ebm and
// PyTorch both ways.
//
// Layers implement graph.Model and are compiled by package graph:
//
//   - Linear: y = x·Wᵀ + b, W of shape (out, in), like torch.nn.Linear.
//   - Conv2d: y[n,o] = b[o] + Σ_c W[o,c] ⋆ x[n,c], the cross-correlation of
//     torch.nn.Conv2d with stride and zero padding; W of shape
//     (out, in, k, k), inputs NCHW.
//   - Activations, each one fused operation forward and backward:
//     SiLU/Swish x·σ(x); LeakyReLU max(x, s·x); Softplus log(1+eˣ) (linear
//     above 20, as torch); ELU; Tanh; Sigmoid σ(x) = 1/(1+e⁻ˣ).
//   - Flatten and Sequential.
//
// Parameters are initialised as PyTorch initialises them: Linear and
// Conv2d weights and biases uniform on ±1/√fan_in (kaiming_uniform with
// a = √5). Layers are float32 unless converted with graph.Cast. Parameter
// names follow a PyTorch state_dict ("0.weight", "0.bias", "2.weight", ...)
// and come in a stable order, so a state_dict saved as safetensors by
// PyTorch loads into the same architecture here, and back.
//
// NewMLP, NewImageMLP and NewMNISTCNN build the architectures the
// benchmarks, the trainer and cmd/mnist-ebm share.
package nn
