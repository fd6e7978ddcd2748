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
//   - Flatten, GlobalAvgPool (the mean over H×W of each channel) and
//     Sequential.
//   - Noise-conditional layers for score models f_θ(x; σ), which read the
//     noise level through graph.Builder.Noise: NoiseBias adds a learned
//     embedding of log σ to every channel, NoiseScale divides the energy
//     by σ; NewNoiseCNN (NewMNISTNoiseCNN) is NewCNN with both.
//   - ResBlock, a pre-activation residual block
//     y = Skip(x) + Conv2(act(Conv1(act(x)))), Skip a strided 1×1
//     convolution when the block changes channels or size, else x.
//
// Parameters are initialised as PyTorch initialises them: Linear and
// Conv2d weights and biases uniform on ±1/√fan_in (kaiming_uniform with
// a = √5). Layers are float32 unless converted with graph.Cast. Parameter
// names follow a PyTorch state_dict ("0.weight", "0.bias", "2.weight", ...)
// and come in a stable order, so a state_dict saved as safetensors by
// PyTorch loads into the same architecture here, and back.
//
// NewMLP, NewImageMLP, NewCNN (NewMNISTCNN on 1×28×28) and NewResNet build
// the architectures the benchmarks, the trainer and cmd/mnist-ebm share:
// NewCNN is the published convolutional image energy sized from any
// C×H×W input, NewResNet the small residual energy of IGEBM-style
// papers for 32×32 colour. Both are checked against the same modules in
// PyTorch (nn/testdata/torchref.py): energies, ∇x and ∇θ agree to 10⁻¹²
// in float64.
//
// # Concurrency
//
// Models are not safe for concurrent use. Compiling a graph from a model
// writes to its parameters' tensors (Gorgonia sets their engine), so
// graphs of one model are compiled one at a time; once compiled, several
// graphs of the model run concurrently, one goroutine each, while nothing
// writes the parameters (TestConcurrentGraphs; race-detector clean).
package nn
