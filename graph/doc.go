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
//   - NewSecondOrderLoss compiles a loss that uses the model's derivatives
//     with respect to its input, through Terms: f, the score ∇x f, and
//     Hessian–vector products ∇x(vᵀ∇x f) = ∇²f·v, at the inputs or any
//     node computed from them, with ∇θ of the loss. That is the
//     score-matching family (exact, sliced, denoising), gradient
//     penalties, and the KL term of improved contrastive divergence, for
//     which Terms.FrozenF evaluates f with the parameters held fixed.
//     The derivatives are built by reverse-mode differentiation that,
//     unlike Gorgonia's Grad, runs again over a backward pass; every op
//     of the layers in package nn declares its derivatives in terms of
//     the same fast ops, to any order, so a second-order step runs on the
//     same SIMD kernels as a first-order one. An op on the way that
//     cannot be differentiated again is an error naming it, at compile
//     time.
//
//   - Noise-conditional models (score models f_θ(x; σ)) read the noise
//     level through Builder.Noise; Energy.SetNoise sets it for samplers,
//     and Terms takes it as a node per evaluation.
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
