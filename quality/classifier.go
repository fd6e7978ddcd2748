package quality

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// Sizes of the MNIST classifier's input and outputs.
const (
	// Side is the height and width of an MNIST image; one image has
	// Pixels = Side·Side values in [−1, 1], row-major.
	Side   = 28
	Pixels = Side * Side
	// Classes is the number of digit classes, the default of
	// ClassifierConfig.
	Classes = 10
	// FeatureDim is the size of the penultimate features the Fréchet
	// distance compares, for every classifier.
	FeatureDim = 64
)

// evalBatch is the batch size the classifier's inference graph is
// compiled for; shorter inputs are padded.
const evalBatch = 500

// Classifier is the judge that scores samples: a small CNN on images in
// [−1, 1] (see NewClassifier for MNIST's and NewClassifierFor for any
// other labelled images), together with the Gaussian fit of its
// penultimate features on the test images that the Fréchet distance
// compares samples with.
//
// Run, Accuracy and Score may be called from several goroutines at once:
// they are serialised on one compiled graph. Train and SetReference change
// the classifier and must not run concurrently with anything else on it.
type Classifier struct {
	// Net is the network, an nn.Sequential ending in the Linear(64→K)
	// head. Training updates its parameters in place.
	Net *nn.Sequential
	// Ref is the Gaussian fit of the penultimate features of the
	// reference images (the test set); nil for a classifier whose
	// reference has not been computed (see SetReference). Score needs it
	// for the Fréchet distance.
	Ref *Gaussian
	// Meta holds the facts about training stored with the weights, such
	// as "test_accuracy" and "command"; nil if none.
	Meta map[string]string

	cfg ClassifierConfig // complete: every zero replaced by its default
	// The index of the layer whose output is the feature vector, and of
	// the head.
	featureLayer, headLayer int

	mu  sync.Mutex
	fwd *graph.Forward
	out []float64 // evalBatch × (FeatureDim + K)
	in  []float64 // evalBatch × Dim(), for padded batches
}

// ClassifierConfig is the input shape and classes of NewClassifierFor.
// The zero value is MNIST's: 1×28×28 images, 10 classes.
type ClassifierConfig struct {
	// Channels, Height and Width are the shape of one input image; all
	// zero means MNIST's 1×28×28.
	Channels, Height, Width int
	// Classes is the number of classes, at least 2; 0 means
	// len(ClassNames), or 10 without names.
	Classes int
	// ClassNames names the classes, index by index: Classes names, or
	// none (then Names returns numbers).
	ClassNames []string
	// Filters is the number of channels of the first convolution, doubled
	// by each further one; 0 means 16.
	Filters int
}

// complete checks cfg and fills in the defaults.
func (cfg ClassifierConfig) complete() (ClassifierConfig, error) {
	if cfg.Channels == 0 && cfg.Height == 0 && cfg.Width == 0 {
		cfg.Channels, cfg.Height, cfg.Width = 1, Side, Side
	}
	if cfg.Classes == 0 {
		cfg.Classes = Classes
		if len(cfg.ClassNames) > 0 {
			cfg.Classes = len(cfg.ClassNames)
		}
	}
	if cfg.Filters == 0 {
		cfg.Filters = 16
	}
	switch {
	case cfg.Channels <= 0 || cfg.Height <= 0 || cfg.Width <= 0:
		return cfg, fmt.Errorf("quality: classifier input %d×%d×%d: every size must be positive: %w", cfg.Channels, cfg.Height, cfg.Width, ErrInput)
	case cfg.Classes < 2 || cfg.Classes > 1<<16:
		return cfg, fmt.Errorf("quality: %d classes: want 2 to 65536: %w", cfg.Classes, ErrInput)
	case cfg.ClassNames != nil && len(cfg.ClassNames) != cfg.Classes:
		return cfg, fmt.Errorf("quality: %d class names for %d classes: %w", len(cfg.ClassNames), cfg.Classes, ErrInput)
	case cfg.Filters < 0 || cfg.Filters > 1024:
		return cfg, fmt.Errorf("quality: Filters %d: want 1 to 1024: %w", cfg.Filters, ErrInput)
	}
	cfg.ClassNames = slices.Clone(cfg.ClassNames)
	return cfg, nil
}

// NewClassifier returns an untrained MNIST classifier with PyTorch's
// initialisation drawn from rng:
//
//	0 Conv2d(1→16, 5×5, stride 2, pad 2)   28×28 → 14×14
//	1 SiLU
//	2 Conv2d(16→32, 3×3, stride 2, pad 1)  14×14 → 7×7
//	3 SiLU
//	4 Flatten                              32·7·7 = 1568
//	5 Linear(1568→64)
//	6 SiLU                                 features (64)
//	7 Linear(64→10)                        logits
//
// Parameter names are those of the torch.nn.Sequential of the same layers
// ("0.weight", "0.bias", "2.weight", ..., "7.bias"). It is
// NewClassifierFor with the zero ClassifierConfig. It panics if rng is
// nil.
func NewClassifier(rng *rand.Rand) *Classifier {
	c, err := NewClassifierFor(rng, ClassifierConfig{})
	if err != nil {
		panic(err) // unreachable: the zero config is valid
	}
	return c
}

// NewClassifierFor returns an untrained classifier of C×H×W images into K
// classes, with PyTorch's initialisation drawn from rng. With F =
// cfg.Filters, the network is
//
//	Conv2d(C→F, 5×5, stride 2, pad 2) SiLU      H → ⌈H/2⌉
//	Conv2d(F→2F, 3×3, stride 2, pad 1) SiLU     → ⌈H/4⌉
//	… one more Conv2d(→ twice the channels, 3×3, stride 2, pad 1) SiLU
//	  while the height or width is above 8 …
//	Flatten, Linear(→64) SiLU  [features φ(x) ∈ ℝ⁶⁴]  Linear(64→K)  [logits]
//
// so MNIST's 28×28 ends at 7×7 (NewClassifier) and CIFAR-10's 32×32 at
// 8×8. Parameter names are those of the torch.nn.Sequential of the same
// layers. A configuration that is not valid (see ClassifierConfig) is an
// error wrapping ErrInput; a nil rng panics.
func NewClassifierFor(rng *rand.Rand, cfg ClassifierConfig) (*Classifier, error) {
	if rng == nil {
		panic("quality: NewClassifierFor: nil *rand.Rand")
	}
	cfg, err := cfg.complete()
	if err != nil {
		return nil, err
	}
	f := cfg.Filters
	first := nn.NewConv2d(rng, cfg.Channels, f, 5, nn.Conv2dConfig{Stride: 2, Padding: 2})
	layers := []nn.Layer{first, nn.SiLU()}
	h, w := first.OutSize(cfg.Height), first.OutSize(cfg.Width)
	for k := 0; k == 0 || h > 8 || w > 8; k++ {
		c := nn.NewConv2d(rng, f, 2*f, 3, nn.Conv2dConfig{Stride: 2, Padding: 1})
		layers = append(layers, c, nn.SiLU())
		h, w, f = c.OutSize(h), c.OutSize(w), 2*f
	}
	layers = append(layers, nn.Flatten{}, nn.NewLinear(rng, f*h*w, FeatureDim), nn.SiLU())
	feature := len(layers) - 1
	layers = append(layers, nn.NewLinear(rng, FeatureDim, cfg.Classes))
	return &Classifier{Net: nn.NewSequential(layers...), cfg: cfg, featureLayer: feature, headLayer: feature + 1}, nil
}

// Shape returns the shape of one input image, {C, H, W}.
func (c *Classifier) Shape() []int { return []int{c.cfg.Channels, c.cfg.Height, c.cfg.Width} }

// Dim returns the number of values of one input image, C·H·W.
func (c *Classifier) Dim() int { return c.cfg.Channels * c.cfg.Height * c.cfg.Width }

// NumClasses returns the number of classes K.
func (c *Classifier) NumClasses() int { return c.cfg.Classes }

// Names returns the class names, numbered "0", "1", … where the
// classifier has none.
func (c *Classifier) Names() []string {
	if c.cfg.ClassNames != nil {
		return slices.Clone(c.cfg.ClassNames)
	}
	names := make([]string, c.cfg.Classes)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

// Config returns the configuration the classifier was built with, every
// default filled in.
func (c *Classifier) Config() ClassifierConfig {
	cfg := c.cfg
	cfg.ClassNames = slices.Clone(cfg.ClassNames)
	return cfg
}

// inference is the network as a model whose output, per sample, is the
// features followed by the logits: (N, FeatureDim+K), so one pass gives
// both.
func (c *Classifier) inference() graph.Model {
	return graph.Func{P: c.Net.Params(), Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
		body := &nn.Sequential{Layers: c.Net.Layers[:c.featureLayer+1]}
		feat, err := body.Forward(b, x)
		if err != nil {
			return nil, err
		}
		logits, err := c.Net.Layers[c.headLayer].Forward(b, feat)
		if err != nil {
			return nil, err
		}
		return G.Concat(1, feat, logits)
	}}
}

// Outputs holds the classifier's outputs on a batch of N images, row-major.
// Its methods only read it, so it is safe for concurrent use.
type Outputs struct {
	N        int
	K        int       // the number of classes
	Features []float64 // N × FeatureDim, the penultimate activations
	Logits   []float64 // N × K
}

// Probs returns the softmax of image i's logits in dst (allocated when
// nil), computed stably.
func (o *Outputs) Probs(dst []float64, i int) []float64 {
	if dst == nil {
		dst = make([]float64, o.K)
	}
	softmax(dst, o.Logits[i*o.K:(i+1)*o.K])
	return dst
}

// Predict returns the most likely class of each image.
func (o *Outputs) Predict() []int {
	pred := make([]int, o.N)
	for i := range pred {
		pred[i] = argmax(o.Logits[i*o.K : (i+1)*o.K])
	}
	return pred
}

// Run computes the features and logits of the n images in x (row-major,
// n×Dim(), values in [−1, 1]). It checks x first: a wrong length or a NaN
// or infinite pixel is an error that names the image. Run stops between
// batches of 500 images when ctx is cancelled, returning ctx.Err().
func (c *Classifier) Run(ctx context.Context, x []float64, n int) (*Outputs, error) {
	if err := c.checkImages(x, n); err != nil {
		return nil, err
	}
	k, d := c.cfg.Classes, c.Dim()
	o := &Outputs{N: n, K: k, Features: make([]float64, n*FeatureDim), Logits: make([]float64, n*k)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fwd == nil {
		fwd, err := graph.NewForward(c.inference(), graph.Config{Shape: c.Shape(), Batch: evalBatch})
		if err != nil {
			return nil, fmt.Errorf("quality: compile classifier: %w", err)
		}
		c.fwd = fwd
		c.out = make([]float64, evalBatch*(FeatureDim+k))
	}
	w := FeatureDim + k
	for lo := 0; lo < n; lo += evalBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+evalBatch, n)
		in := x[lo*d : hi*d]
		if hi-lo < evalBatch {
			if c.in == nil {
				c.in = make([]float64, evalBatch*d)
			}
			copy(c.in, in)
			clear(c.in[len(in):])
			in = c.in
		}
		if err := c.fwd.Run(c.out, in); err != nil {
			return nil, fmt.Errorf("quality: classifier: %w", err)
		}
		for i := lo; i < hi; i++ {
			row := c.out[(i-lo)*w : (i-lo+1)*w]
			copy(o.Features[i*FeatureDim:(i+1)*FeatureDim], row[:FeatureDim])
			copy(o.Logits[i*k:(i+1)*k], row[FeatureDim:])
		}
	}
	return o, nil
}

// Accuracy returns the fraction of the n images in x whose predicted
// class equals labels[i].
func (c *Classifier) Accuracy(ctx context.Context, x []float64, labels []int) (float64, error) {
	n := len(labels)
	if n == 0 {
		return 0, fmt.Errorf("quality: Accuracy: no labels")
	}
	o, err := c.Run(ctx, x, n)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, p := range o.Predict() {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(n), nil
}

// SetReference computes the Gaussian fit of the classifier's features on
// the n reference images in x (the MNIST test digits) and stores it in
// c.Ref.
func (c *Classifier) SetReference(ctx context.Context, x []float64, n int) error {
	o, err := c.Run(ctx, x, n)
	if err != nil {
		return err
	}
	g, err := FitGaussian(o.Features, n, FeatureDim)
	if err != nil {
		return fmt.Errorf("quality: reference features: %w", err)
	}
	c.Ref = g
	return nil
}

// checkImages reports an input that is not n finite images of the
// classifier's shape.
func (c *Classifier) checkImages(x []float64, n int) error {
	d := c.Dim()
	if n <= 0 {
		return fmt.Errorf("quality: %d images: need at least one: %w", n, ErrInput)
	}
	if len(x) != n*d {
		return fmt.Errorf("quality: %d values for %d images of %s = %d, want %d: %w", len(x), n, c.shapeString(), d, n*d, ErrInput)
	}
	hw, w := c.cfg.Height*c.cfg.Width, c.cfg.Width
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if c.cfg.Channels == 1 {
				return fmt.Errorf("quality: image %d pixel (%d, %d) is %v: %w", i/d, i%d/w, i%w, v, ErrInput)
			}
			return fmt.Errorf("quality: image %d channel %d pixel (%d, %d) is %v: %w", i/d, i%d/hw, i%hw/w, i%w, v, ErrInput)
		}
	}
	return nil
}

// shapeString formats the input shape: "28×28" for one channel,
// "3×32×32" for more.
func (c *Classifier) shapeString() string { return shapeString(c.Shape()) }

// softmax sets p = exp(z − max z) / Σ exp(z − max z).
func softmax(p, z []float64) {
	m := z[argmax(z)]
	s := 0.0
	for i, v := range z {
		p[i] = math.Exp(v - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}

func argmax(z []float64) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}
