package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/ebmgo/ebm/energy"
)

// Box is an axis-aligned rectangle [XMin, XMax] × [YMin, YMax].
type Box struct {
	XMin, XMax, YMin, YMax float64
}

// Contains reports whether (x, y) lies in the box, edges included.
func (b Box) Contains(x, y float64) bool {
	return b.XMin <= x && x <= b.XMax && b.YMin <= y && y <= b.YMax
}

// Toy is a distribution on the plane with an exact, normalised density: one
// of the two-dimensional data sets density estimators and EBMs are tested
// on. Build one from its parameter struct (EightGaussians{}.Toy(),
// Rings{Std: 0.05}.Toy(), ...) or by name with ToyByName.
//
// A Toy is an energy.Differentiable whose f is the exact log-density, so it
// can also serve as a sampler's target with a known answer. All methods are
// safe for concurrent use.
type Toy struct {
	name string
	box  Box
	// point draws one sample into p[0:2].
	point func(rng *rand.Rand, p []float64)
	// logp returns log p(x, y) and, if grad is not nil, stores ∇ log p in
	// grad[0:2].
	logp func(x, y float64, grad []float64) float64
	// entropy returns the exact entropy; nil means quadrature on a grid of
	// spacing h over box.
	entropy func() float64
	h       float64
	// cm is the curve mixture behind the curve-based sets, nil otherwise.
	cm *curveMix

	entOnce sync.Once
	ent     float64
}

var _ energy.Differentiable = (*Toy)(nil)

// Name returns the toy's name as ToyByName knows it, e.g. "8gaussians".
func (t *Toy) Name() string { return t.name }

// Dim returns 2.
func (t *Toy) Dim() int { return 2 }

// Bounds returns a box that holds all but a negligible part (below 10⁻¹²)
// of the probability mass: the domain Entropy integrates over and a good
// frame for plots.
func (t *Toy) Bounds() Box { return t.box }

// Sample fills dst with len(dst)/2 independent points (x₀, y₀, x₁, y₁, ...)
// drawn with rng. It panics if rng is nil or len(dst) is odd.
func (t *Toy) Sample(rng *rand.Rand, dst []float64) {
	if rng == nil {
		panic("datasets: Toy.Sample: nil *rand.Rand")
	}
	if len(dst)%2 != 0 {
		panic(fmt.Sprintf("datasets: Toy.Sample: dst has odd length %d; it holds (x, y) pairs", len(dst)))
	}
	for i := 0; i < len(dst); i += 2 {
		t.point(rng, dst[i:i+2])
	}
}

// SampleN returns n points drawn with rng, row-major in a new slice of
// length 2n.
func (t *Toy) SampleN(rng *rand.Rand, n int) []float64 {
	if n < 0 {
		panic(fmt.Sprintf("datasets: Toy.SampleN: negative n %d", n))
	}
	x := make([]float64, 2*n)
	t.Sample(rng, x)
	return x
}

// LogDensity returns log p(x) for one point x = (x₀, x₁); it is −Inf where
// the density is zero (outside the checkerboard's squares). It panics if
// len(x) ≠ 2.
func (t *Toy) LogDensity(x []float64) float64 {
	if len(x) != 2 {
		panic(fmt.Sprintf("datasets: Toy.LogDensity: point has %d coordinates, want 2", len(x)))
	}
	return t.logp(x[0], x[1], nil)
}

// LogDensityGrad returns log p(x) and stores ∇ₓ log p(x) in grad (length
// 2). The checkerboard's gradient is zero wherever it is defined.
func (t *Toy) LogDensityGrad(x, grad []float64) float64 {
	if len(x) != 2 || len(grad) != 2 {
		panic(fmt.Sprintf("datasets: Toy.LogDensityGrad: point has %d and gradient %d coordinates, want 2", len(x), len(grad)))
	}
	return t.logp(x[0], x[1], grad)
}

// F sets dst[n] = log p(x_n) for the len(dst) points in x, implementing
// energy.Energy with the normalised log-density as f.
func (t *Toy) F(dst, x []float64) error {
	if len(x) != 2*len(dst) {
		return fmt.Errorf("datasets: %s: F: batch of %d values for %d outputs, want %d: %w", t.name, len(x), len(dst), 2*len(dst), energy.ErrShape)
	}
	for n := range dst {
		dst[n] = t.logp(x[2*n], x[2*n+1], nil)
	}
	return nil
}

// FGrad sets dst[n] = log p(x_n) and grad[2n:2n+2] = ∇ log p(x_n),
// implementing energy.Differentiable.
func (t *Toy) FGrad(dst, grad, x []float64) error {
	if len(x) != 2*len(dst) || len(grad) != len(x) {
		return fmt.Errorf("datasets: %s: FGrad: batch of %d values, gradient of %d, for %d outputs, want %d each: %w", t.name, len(x), len(grad), len(dst), 2*len(dst), energy.ErrShape)
	}
	for n := range dst {
		dst[n] = t.logp(x[2*n], x[2*n+1], grad[2*n:2*n+2])
	}
	return nil
}

// Entropy returns the differential entropy H = −∫ p log p in nats. It is
// exact where a closed form exists (the checkerboard) and otherwise the
// midpoint rule over Bounds on a grid fine enough (spacing ≤ half the
// smallest length scale of the density) that its error is below 10⁻⁶ nats;
// the tests check this against a grid of half the spacing and against
// Monte Carlo. The first call computes it (up to about a second for the
// curve-based sets) and later calls return the stored value.
func (t *Toy) Entropy() float64 {
	t.entOnce.Do(func() {
		if t.entropy != nil {
			t.ent = t.entropy()
			return
		}
		t.ent = t.quadEntropy(t.h)
	})
	return t.ent
}

// quadEntropy is −∫∫ p log p by the midpoint rule with cells of side about
// h covering Bounds.
func (t *Toy) quadEntropy(h float64) float64 {
	return t.integrate(h, func(lp float64) float64 {
		if math.IsInf(lp, -1) {
			return 0
		}
		return -math.Exp(lp) * lp
	})
}

// integrate returns ∫∫ g(log p) over Bounds by the midpoint rule with
// square-ish cells of side at most h.
func (t *Toy) integrate(h float64, g func(logp float64) float64) float64 {
	b := t.box
	nx := int(math.Ceil((b.XMax - b.XMin) / h))
	ny := int(math.Ceil((b.YMax - b.YMin) / h))
	hx, hy := (b.XMax-b.XMin)/float64(nx), (b.YMax-b.YMin)/float64(ny)
	return gridSum(b.XMin, b.YMin, hx, hy, nx, ny, func(x, y float64) float64 {
		return g(t.logp(x, y, nil))
	})
}

// The toy distributions by name; the names are FFJORD's (lib/toy_data.py).
var toys = map[string]func() (*Toy, error){
	"8gaussians":   EightGaussians{}.Toy,
	"rings":        Rings{}.Toy,
	"moons":        Moons{}.Toy,
	"checkerboard": Checkerboard{}.Toy,
	"swissroll":    SwissRoll{}.Toy,
	"pinwheel":     Pinwheel{}.Toy,
	"2spirals":     TwoSpirals{}.Toy,
}

// ToyNames returns the names ToyByName accepts, sorted.
func ToyNames() []string {
	names := make([]string, 0, len(toys))
	for n := range toys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ToyByName returns the toy distribution with the given FFJORD name and
// default parameters: "8gaussians", "rings", "moons", "checkerboard",
// "swissroll", "pinwheel" or "2spirals".
func ToyByName(name string) (*Toy, error) {
	f, ok := toys[name]
	if !ok {
		return nil, fmt.Errorf("datasets: unknown toy data set %q; choose one of %s", name, strings.Join(ToyNames(), ", "))
	}
	return f()
}

// positiveOr returns def for a zero parameter v, v if it is positive and
// finite, and an error naming the parameter otherwise.
func positiveOr(what string, v, def float64) (float64, error) {
	if v == 0 {
		return def, nil
	}
	if !(v > 0) || math.IsInf(v, 1) {
		return 0, fmt.Errorf("datasets: %s is %v; want a positive, finite value (0 means the default %v)", what, v, def)
	}
	return v, nil
}

// log2pi is log 2π.
var log2pi = math.Log(2 * math.Pi)
