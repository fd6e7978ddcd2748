package quality

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gaussian returns N(mean, cov) with cov given as a full row-major matrix.
func gaussian(mean, cov []float64) *Gaussian {
	return &Gaussian{N: 100, Mean: mean, Cov: mat.NewSymDense(len(mean), cov)}
}

// randomRotation returns a d×d orthogonal matrix (QR of a Gaussian matrix).
func randomRotation(rng *rand.Rand, d int) *mat.Dense {
	a := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// rotated returns Q·diag(l)·Qᵀ as a row-major slice.
func rotated(q *mat.Dense, l []float64) []float64 {
	d := len(l)
	out := make([]float64, d*d)
	for i := range d {
		for j := range d {
			s := 0.0
			for k := range d {
				s += q.At(i, k) * l[k] * q.At(j, k)
			}
			out[i*d+j] = s
		}
	}
	// Exact symmetry, as NewSymDense reads the upper triangle only.
	for i := range d {
		for j := range i {
			out[i*d+j] = out[j*d+i]
		}
	}
	return out
}

// randomCov returns a random covariance A·Aᵀ/d + eps·I.
func randomCov(rng *rand.Rand, d int, eps float64) []float64 {
	a := make([]float64, d*d)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	c := make([]float64, d*d)
	for i := range d {
		for j := range d {
			s := 0.0
			for k := range d {
				s += a[i*d+k] * a[j*d+k]
			}
			c[i*d+j] = s / float64(d)
		}
		c[i*d+i] += eps
	}
	return c
}

func randVec(rng *rand.Rand, d int, scale float64) []float64 {
	v := make([]float64, d)
	for i := range v {
		v[i] = scale * rng.NormFloat64()
	}
	return v
}

func mustFD(t *testing.T, a, b *Gaussian) float64 {
	t.Helper()
	fd, err := FrechetDistance(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// For covariances with common eigenvectors, C₁ = Q diag(a) Qᵀ and
// C₂ = Q diag(b) Qᵀ, the distance is ‖μ₁−μ₂‖² + Σ(√aᵢ − √bᵢ)².
func TestFrechetCommutingClosedForm(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 1))
		for _, d := range []int{1, 2, 5, 64} {
			a, b := make([]float64, d), make([]float64, d)
			want := 0.0
			for i := range d {
				a[i] = rng.ExpFloat64() * 3
				b[i] = rng.ExpFloat64()
				if i == 0 && d > 1 {
					b[i] = 0 // a singular covariance
				}
				want += math.Pow(math.Sqrt(a[i])-math.Sqrt(b[i]), 2)
			}
			m1, m2 := randVec(rng, d, 1), randVec(rng, d, 1)
			for i := range d {
				want += (m1[i] - m2[i]) * (m1[i] - m2[i])
			}
			for _, diag := range []bool{true, false} {
				var c1, c2 []float64
				if diag {
					c1, c2 = make([]float64, d*d), make([]float64, d*d)
					for i := range d {
						c1[i*d+i], c2[i*d+i] = a[i], b[i]
					}
				} else {
					q := randomRotation(rng, d)
					c1, c2 = rotated(q, a), rotated(q, b)
				}
				got := mustFD(t, gaussian(m1, c1), gaussian(m2, c2))
				// A zero eigenvalue of C₂ comes out of the rotation as
				// ±1e-16, whose square root is 1e-8: the square root is
				// not Lipschitz at 0, so singular rotated covariances
				// are accurate to √ε only, as with any method.
				tol := 1e-9
				if d > 1 && !diag {
					tol = 1e-6
				}
				if math.Abs(got-want) > tol*(1+want) {
					t.Errorf("seed %d, d %d, diagonal %v: FD %.15g, want %.15g", seed, d, diag, got, want)
				}
			}
		}
	}
}

// In two dimensions tr √M = √(tr M + 2√det M) for a positive
// semi-definite M, and M = C₁^½ C₂ C₁^½ has tr M = tr C₁C₂ and
// det M = det C₁ det C₂: a closed form for covariances that do not commute.
func TestFrechetNonCommuting2D(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 2))
		c1, c2 := randomCov(rng, 2, 0.01), randomCov(rng, 2, 0.01)
		m1, m2 := randVec(rng, 2, 1), randVec(rng, 2, 1)
		trC1C2 := c1[0]*c2[0] + c1[1]*c2[2] + c1[2]*c2[1] + c1[3]*c2[3]
		det := (c1[0]*c1[3] - c1[1]*c1[2]) * (c2[0]*c2[3] - c2[1]*c2[2])
		want := (m1[0]-m2[0])*(m1[0]-m2[0]) + (m1[1]-m2[1])*(m1[1]-m2[1]) +
			c1[0] + c1[3] + c2[0] + c2[3] - 2*math.Sqrt(trC1C2+2*math.Sqrt(det))
		got := mustFD(t, gaussian(m1, c1), gaussian(m2, c2))
		if math.Abs(got-want) > 1e-10*(1+want) {
			t.Errorf("seed %d: FD %.15g, want %.15g", seed, got, want)
		}
	}
}

// The distance is zero from a Gaussian to itself, symmetric, and a squared
// metric: √FD obeys the triangle inequality (it is the 2-Wasserstein
// distance).
func TestFrechetMetric(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		const d = 64
		// Covariances of the kind features give: a few large directions
		// and many tiny ones.
		g := make([]*Gaussian, 3)
		for i := range g {
			c := randomCov(rng, d, 1e-6)
			g[i] = gaussian(randVec(rng, d, 0.3), c)
		}
		for i := range g {
			if fd := mustFD(t, g[i], g[i]); fd > 1e-9 {
				t.Errorf("seed %d: FD to itself %g, want 0", seed, fd)
			}
		}
		ab, ba := mustFD(t, g[0], g[1]), mustFD(t, g[1], g[0])
		if math.Abs(ab-ba) > 1e-9*ab {
			t.Errorf("seed %d: FD(a, b) = %.15g, FD(b, a) = %.15g", seed, ab, ba)
		}
		ac, bc := mustFD(t, g[0], g[2]), mustFD(t, g[1], g[2])
		if math.Sqrt(ac) > math.Sqrt(ab)+math.Sqrt(bc)+1e-9 {
			t.Errorf("seed %d: triangle inequality fails: √%g > √%g + √%g", seed, ac, ab, bc)
		}
	}
}

// FitGaussian gives the sample mean and the unbiased covariance, and the
// distance between fits does not depend on the order of the samples.
func TestFitGaussian(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, d = 50, 3
	x := make([]float64, n*d)
	for i := range x {
		x[i] = 1e6 + rng.NormFloat64() // a large offset must not cancel badly
	}
	g, err := FitGaussian(x, n, d)
	if err != nil {
		t.Fatal(err)
	}
	for j := range d {
		m := 0.0
		for i := range n {
			m += x[i*d+j]
		}
		m /= n
		if math.Abs(g.Mean[j]-m) > 1e-9 {
			t.Errorf("mean[%d] = %v, want %v", j, g.Mean[j], m)
		}
		for k := range d {
			c := 0.0
			for i := range n {
				c += (x[i*d+j] - m) * (x[i*d+k] - m)
			}
			c /= n - 1
			if math.Abs(g.Cov.At(j, k)-c) > 1e-9 {
				t.Errorf("cov[%d,%d] = %v, want %v", j, k, g.Cov.At(j, k), c)
			}
		}
	}
	// Permute the rows.
	y := make([]float64, n*d)
	for i, p := range rng.Perm(n) {
		copy(y[i*d:(i+1)*d], x[p*d:(p+1)*d])
	}
	h, err := FitGaussian(y, n, d)
	if err != nil {
		t.Fatal(err)
	}
	other := gaussian([]float64{1e6, 1e6 + 1, 1e6}, []float64{2, 0.5, 0, 0.5, 1, 0, 0, 0, 1})
	fx, fy := mustFD(t, g, other), mustFD(t, h, other)
	if math.Abs(fx-fy) > 1e-9*fx {
		t.Errorf("FD depends on sample order: %.15g vs %.15g", fx, fy)
	}
	if fd := mustFD(t, g, h); fd > 1e-9 {
		t.Errorf("FD between fits of the same samples in another order: %g", fd)
	}
}

func TestFitGaussianBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    []float64
		n    int
	}{
		{"one vector", []float64{1, 2}, 1},
		{"wrong length", []float64{1, 2, 3}, 2},
		{"NaN", []float64{1, 2, math.NaN(), 4}, 2},
		{"Inf", []float64{1, math.Inf(-1), 3, 4}, 2},
	} {
		_, err := FitGaussian(tc.x, tc.n, 2)
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want one wrapping ErrInput", tc.name, err)
		}
	}
}

// A Monte Carlo check of the estimator: the FD between fits of two samples
// of one Gaussian tends to zero as the samples grow, its mean falling
// like 1/N.
func TestFrechetSampleBias(t *testing.T) {
	const d = 4
	mean := func(n int) float64 {
		s := 0.0
		const reps = 20
		for r := range uint64(reps) {
			rng := rand.New(rand.NewPCG(r, uint64(n)))
			draw := func() *Gaussian {
				x := make([]float64, n*d)
				for i := range x {
					x[i] = rng.NormFloat64() * float64(1+i%d)
				}
				g, err := FitGaussian(x, n, d)
				if err != nil {
					t.Fatal(err)
				}
				return g
			}
			s += mustFD(t, draw(), draw())
		}
		return s / reps
	}
	small, large := mean(100), mean(1600)
	// The bias scales like 1/N: 16× more samples, ~16× smaller. Allow a
	// factor 2 either way for the Monte Carlo error of 20 repetitions.
	if r := small / large; r < 8 || r > 32 {
		t.Errorf("mean FD %.4g at N=100 and %.4g at N=1600: ratio %.1f, want ≈ 16", small, large, r)
	}
}
