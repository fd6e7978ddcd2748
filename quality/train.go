package quality

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	G "gorgonia.org/gorgonia"
)

// TrainConfig configures Train. The zero value trains for 12 epochs in
// batches of 128 with Adam at a peak learning rate of 2e-3, without
// augmentation.
type TrainConfig struct {
	// Epochs is the number of passes over the training set; 0 means 12.
	Epochs int
	// Batch is the mini-batch size; 0 means 128.
	Batch int
	// LR is Adam's peak learning rate (β = 0.9, 0.999), reached after a
	// linear warm-up over the first 200 steps and annealed to zero by a
	// cosine over the run; 0 means 2e-3.
	LR float64
	// WeightDecay is AdamW's decoupled weight decay; 0 means none.
	WeightDecay float64
	// MaxShift augments every training image by a random translation of
	// up to MaxShift pixels in each direction (black, −1, fills in); 0
	// means no augmentation. 2 helps MNIST's test accuracy.
	MaxShift int
	// Flip augments every training image by a left–right mirror with
	// probability ½, for photographs (not for digits or letters).
	Flip bool
	// Seed seeds the shuffling and the augmentation. Every value is
	// valid. The initial weights come from the classifier as given.
	Seed uint64
	// LogEvery is the number of steps between progress reports; 0 means
	// 100.
	LogEvery int
	// Progress, if not nil, is called every LogEvery steps and after
	// every epoch, from the goroutine that called Train.
	Progress func(TrainProgress)
}

// TrainProgress is a progress report of Train.
type TrainProgress struct {
	Epoch       int // the epoch the report belongs to, from 1
	Step, Steps int // steps done and in all
	// Loss and TrainAccuracy are the mean cross-entropy (nats) and the
	// accuracy on the training batches since the previous report
	// (augmented, with the weights as they changed over those steps).
	Loss, TrainAccuracy float64
	// EpochEnd is true for the report after an epoch; then TestAccuracy
	// is the accuracy on the test set (NaN when Train was given none).
	EpochEnd     bool
	TestAccuracy float64
	ItPerSec     float64 // training steps per second since the previous report
	Elapsed      time.Duration
}

// TrainResult sums up a training run.
type TrainResult struct {
	TestAccuracy float64 // final accuracy on the test set; NaN without one
	Steps        int
	Elapsed      time.Duration
}

// Train fits c.Net to the labelled images of train by minimising the
// cross-entropy −log softmax(z)_y of the logits z with Adam, and reports
// the accuracy on test (which may be nil) after every epoch. Both sets
// must be labelled, in [−1, 1] (datasets.Signed), of the classifier's
// shape, with labels below its number of classes (MNIST's:
// datasets.MNIST.ImageSet). It updates c.Net in place and leaves c.Ref
// alone: recompute it with SetReference. It returns ctx.Err() when ctx is
// cancelled, leaving the weights as they were after the last finished
// step.
func Train(ctx context.Context, c *Classifier, train, test *datasets.ImageSet, cfg TrainConfig) (TrainResult, error) {
	var res TrainResult
	if train == nil || train.N == 0 {
		return res, fmt.Errorf("quality: Train: no training images: %w", ErrInput)
	}
	for _, d := range []*datasets.ImageSet{train, test} {
		if d == nil {
			continue
		}
		if !slices.Equal(d.Shape(), c.Shape()) || d.Range != datasets.Signed {
			return res, fmt.Errorf("quality: Train: %s holds %s images in range %v; the classifier takes %s images in [−1, 1] (datasets.Signed): %w",
				d.Source, shapeString(d.Shape()), d.Range, c.shapeString(), ErrInput)
		}
		if d.Labels == nil {
			return res, fmt.Errorf("quality: Train: %s has no labels (put the images in one folder per class): %w", d.Source, ErrInput)
		}
		for i, y := range d.Labels {
			if y < 0 || y >= c.NumClasses() {
				return res, fmt.Errorf("quality: Train: %s: image %d has label %d, but the classifier has %d classes: %w", d.Source, i, y, c.NumClasses(), ErrInput)
			}
		}
	}
	if cfg.Epochs < 0 || cfg.Batch < 0 || cfg.LR < 0 || cfg.MaxShift < 0 || cfg.LogEvery < 0 {
		return TrainResult{}, fmt.Errorf("quality: Train: negative setting in TrainConfig{Epochs: %d, Batch: %d, LR: %g, MaxShift: %d, LogEvery: %d}: %w",
			cfg.Epochs, cfg.Batch, cfg.LR, cfg.MaxShift, cfg.LogEvery, ErrInput)
	}
	epochs := orDefault(cfg.Epochs, 12)
	batch := orDefault(cfg.Batch, 128)
	lr := cfg.LR
	if lr == 0 {
		lr = 2e-3
	}
	logEvery := orDefault(cfg.LogEvery, 100)
	if batch > train.N {
		return res, fmt.Errorf("quality: Train: batch %d is larger than the %d training images: %w", batch, train.N, ErrInput)
	}
	k, d, shape := c.NumClasses(), c.Dim(), c.Shape()

	loss, err := graph.NewLoss(c.Net, graph.LossConfig{
		Shape:   shape,
		Batches: []int{batch},
		Raw:     true,
		Aux:     [][]int{{batch, k}},
	}, crossEntropy(batch))
	if err != nil {
		return res, fmt.Errorf("quality: Train: %w", err)
	}
	opt, err := optim.NewAdam(c.Net.Params(), optim.AdamConfig{LR: lr, Beta1: 0.9, Beta2: 0.999, WeightDecay: cfg.WeightDecay})
	if err != nil {
		return res, fmt.Errorf("quality: Train: %w", err)
	}
	batches, err := datasets.NewBatches(train.Images, d, datasets.BatchConfig{Size: batch, Seed: cfg.Seed, Remainder: datasets.DropLast})
	if err != nil {
		return res, fmt.Errorf("quality: Train: %w: %w", err, ErrInput)
	}
	perEpoch := int(batches.BatchesPerEpoch())
	steps := epochs * perEpoch
	sched := optim.Schedule{Kind: "cosine", Total: steps, Warmup: min(200, steps/10)}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed_c1a55))

	x := make([]float64, batch*d)
	xs := make([]float64, batch*d)
	idx := make([]int, batch)
	onehot := make([]float64, batch*k)

	start := time.Now()
	last, lastStep := start, 0
	var sumLoss float64
	var right, seen, nb int
	report := func(p TrainProgress) {
		now := time.Now()
		p.Steps = steps
		p.Elapsed = now.Sub(start)
		if seen > 0 {
			p.Loss = sumLoss / float64(nb)
			p.TrainAccuracy = float64(right) / float64(seen)
		} else {
			p.Loss, p.TrainAccuracy = math.NaN(), math.NaN()
		}
		if dt := now.Sub(last).Seconds(); dt > 0 {
			p.ItPerSec = float64(p.Step-lastStep) / dt
		}
		sumLoss, right, seen, nb = 0, 0, 0, 0
		last, lastStep = now, p.Step
		if cfg.Progress != nil {
			cfg.Progress(p)
		}
	}
	res.TestAccuracy = math.NaN()
	for step := 0; step < steps; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		batches.Next(x, idx)
		in := x
		if cfg.MaxShift > 0 || cfg.Flip {
			for i := range batch {
				dr, dc := 0, 0
				if cfg.MaxShift > 0 {
					dr = rng.IntN(2*cfg.MaxShift+1) - cfg.MaxShift
					dc = rng.IntN(2*cfg.MaxShift+1) - cfg.MaxShift
				}
				img := xs[i*d : (i+1)*d]
				Shift(img, x[i*d:(i+1)*d], shape, dr, dc, -1)
				if cfg.Flip && rng.IntN(2) == 1 {
					mirror(img, shape)
				}
			}
			in = xs
		}
		clear(onehot)
		for i, j := range idx {
			onehot[i*k+train.Labels[j]] = 1
		}
		opt.SetLR(sched.LR(lr, step))
		l, err := loss.Run(in, onehot)
		if err != nil {
			return res, fmt.Errorf("quality: Train: step %d: %w", step, err)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return res, fmt.Errorf("quality: Train: step %d: loss is %v; lower the learning rate (%g)", step, l, lr)
		}
		if err := opt.Step(loss.Grads()); err != nil {
			return res, fmt.Errorf("quality: Train: step %d: %w", step, err)
		}
		res.Steps = step + 1
		sumLoss += l
		logits := loss.F(0)
		for i, j := range idx {
			if argmax(logits[i*k:(i+1)*k]) == train.Labels[j] {
				right++
			}
		}
		seen += batch
		nb++
		epoch := step/perEpoch + 1
		if (step+1)%perEpoch == 0 {
			acc := math.NaN()
			if test != nil {
				if acc, err = c.Accuracy(ctx, test.Images, test.Labels); err != nil {
					return res, fmt.Errorf("quality: Train: epoch %d: test accuracy: %w", epoch, err)
				}
			}
			res.TestAccuracy = acc
			report(TrainProgress{Epoch: epoch, Step: step + 1, EpochEnd: true, TestAccuracy: acc})
		} else if (step+1)%logEvery == 0 {
			report(TrainProgress{Epoch: epoch, Step: step + 1, TestAccuracy: math.NaN()})
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// crossEntropy is the mean over a batch of n of −log softmax(z)_y, with the
// labels y given one-hot as the loss's auxiliary input.
func crossEntropy(n int) graph.LossFunc {
	return func(b *graph.Builder, f []*G.Node) (*G.Node, error) {
		if len(f) != 2 {
			return nil, fmt.Errorf("cross-entropy takes logits and one-hot labels, got %d inputs", len(f))
		}
		logp, err := G.LogSoftMax(f[0], 1)
		if err != nil {
			return nil, err
		}
		picked, err := G.HadamardProd(logp, f[1])
		if err != nil {
			return nil, err
		}
		s, err := G.Sum(picked)
		if err != nil {
			return nil, err
		}
		return G.Mul(b.Constant(-1/float64(n)), s)
	}
}

// Shift writes to dst the image src of shape (C, H, W) translated by dr
// rows and dc columns (positive: down and right), filling the uncovered
// pixels with background. dst and src must not overlap. It panics if they
// do not hold one image of the shape.
func Shift(dst, src []float64, shape []int, dr, dc int, background float64) {
	if len(shape) != 3 || len(dst) != shape[0]*shape[1]*shape[2] || len(src) != len(dst) {
		panic(fmt.Sprintf("quality: Shift: images of %d and %d values, want one of shape %v", len(dst), len(src), shape))
	}
	h, w := shape[1], shape[2]
	for ch := range shape[0] {
		in, out := src[ch*h*w:(ch+1)*h*w], dst[ch*h*w:(ch+1)*h*w]
		for r := range h {
			row := out[r*w : (r+1)*w]
			sr := r - dr
			if sr < 0 || sr >= h {
				for c := range row {
					row[c] = background
				}
				continue
			}
			for c := range row {
				sc := c - dc
				if sc < 0 || sc >= w {
					row[c] = background
				} else {
					row[c] = in[sr*w+sc]
				}
			}
		}
	}
}

// mirror flips the image x of shape (C, H, W) left to right in place.
func mirror(x []float64, shape []int) {
	w := shape[2]
	for r := 0; r < len(x); r += w {
		slices.Reverse(x[r : r+w])
	}
}

// shapeString formats an image shape as Classifier.shapeString does.
func shapeString(s []int) string {
	if len(s) == 3 && s[0] == 1 {
		return fmt.Sprintf("%d×%d", s[1], s[2])
	}
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "×")
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
