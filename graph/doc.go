// Package graph compiles models into reusable Gorgonia machines that give
// the three things energy-based models need: per-sample energies f(x), the
// input gradient ∇x f for samplers, and a training loss with ∇θ.
//
// A model (package nn, or any graph.Model, or a Go function over Gorgonia
// nodes wrapped in Func) maps a batch x of shape (N, event...) to one value
// per sample, f_θ(x_n), the unnormalised log-density of the EBM
// p_θ(x) ∝ exp(f_θ(x)).
//
//   - NewEnergy compiles f for a sample shape and dtype. Its F and FGrad
//     make it an energy.Differentiable, so every sampler in package
//     sampling runs on it. FGrad runs on the subgraph that leads to f and
//     ∇x Σ_n f(x_n) = (∇x f(x_n))_n, pruned of all ∇θ work.
//
//   - NewLoss compiles a scalar loss of the energies of several input
//     batches that share the parameter nodes, with ∂loss/∂θ for every
//     parameter. CDLoss is the contrastive-divergence loss of image EBMs:
//
//     L = mean f(x⁻) − mean f(x⁺) + α·(mean f(x⁺)² + mean f(x⁻)²)
//
//     whose θ-gradient estimates the negative log-likelihood gradient
//     −∇θ log p_θ(x⁺) = −∇θ f(x⁺) + E_{x∼p_θ}[∇θ f(x)] when x⁻ ∼ p_θ.
//
// Graphs are built once per batch size and reused: a step binds new data,
// runs the tape machine and resets it, with no graph building. Parameters
// are shared by storage: the graphs read each Param's Value tensor, so an
// optimizer that updates it in place is seen at the next run.
//
// Shape mistakes surface as errors (ShapeError, matched by energy.ErrShape) that
// name the layer and both shapes; panics from inside Gorgonia during
// compilation are turned into errors.
//
// Compiled machines are not safe for concurrent use; compile one per
// goroutine.
package graph
