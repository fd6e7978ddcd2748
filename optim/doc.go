// Package optim holds the optimisers that train ebm's models: Adam (and
// AdamW) with PyTorch's update rule, gradient-norm clipping as
// torch.nn.utils.clip_grad_norm_, and learning-rate schedules.
//
// Optimisers update graph.Param values in place, so every compiled graph
// sees the new parameters at its next run. Their state (moments, step
// count) can be exported and restored for checkpoints that resume a run
// bit for bit.
package optim
