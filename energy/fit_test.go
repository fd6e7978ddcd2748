package energy_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// FitGaussian recovers a correlated Gaussian's mean and covariance from
// its samples within 4 Monte Carlo standard errors, over several seeds.
func TestFitGaussianRecoversMoments(t *testing.T) {
	mean := []float64{1, -2, 0.5}
	cov := []float64{
		2.0, 0.8, -0.3,
		0.8, 1.0, 0.2,
		-0.3, 0.2, 0.5,
	}
	truth, err := energy.NewGaussian(mean, cov)
	if err != nil {
		t.Fatal(err)
	}
	const n, d = 20000, 3
	for _, seed := range []uint64{1, 2, 3} {
		x := make([]float64, n*d)
		if err := truth.Sample(rand.New(rand.NewPCG(seed, 4)), x); err != nil {
			t.Fatal(err)
		}
		g, err := energy.FitGaussian(x, n, 0)
		if err != nil {
			t.Fatal(err)
		}
		gm, gc := g.Mean(), g.Cov()
		for i := range d {
			if se := math.Sqrt(cov[i*d+i] / n); math.Abs(gm[i]-mean[i]) > 4*se {
				t.Errorf("seed %d: mean[%d] = %.4f, want %.4f ± %.4f", seed, i, gm[i], mean[i], 4*se)
			}
			for j := range d {
				// Var of a sample covariance: (Σii Σjj + Σij²)/n.
				se := math.Sqrt((cov[i*d+i]*cov[j*d+j] + cov[i*d+j]*cov[i*d+j]) / n)
				if math.Abs(gc[i*d+j]-cov[i*d+j]) > 4*se {
					t.Errorf("seed %d: cov[%d][%d] = %.4f, want %.4f ± %.4f", seed, i, j, gc[i*d+j], cov[i*d+j], 4*se)
				}
			}
		}
	}
}

// A coordinate that never varies (an image's corner pixel) gets the
// ridge's variance, so the fit stays a proper Gaussian.
func TestFitGaussianRidge(t *testing.T) {
	x := []float64{0, 1, 0, -1, 0, 3, 0, -3} // 4 samples of (0, v)
	g, err := energy.FitGaussian(x, 4, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	// Var of v: (1+1+9+9)/3; mean variance over both coordinates v̄ = 10/3.
	vbar := 20.0 / 3 / 2
	if c := g.Cov(); math.Abs(c[0]-0.1*vbar) > 1e-12 || math.Abs(c[3]-(20.0/3+0.1*vbar)) > 1e-12 {
		t.Errorf("covariance %v, want diag(%g, %g)", c, 0.1*vbar, 20.0/3+0.1*vbar)
	}
	if _, err := energy.FitGaussian(x, 4, 0); !errors.Is(err, energy.ErrParameter) {
		t.Errorf("a constant coordinate without a ridge: %v, want ErrParameter", err)
	}
}

func TestFitGaussianErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x     []float64
		n     int
		ridge float64
		want  error
	}{
		{"one sample", []float64{1, 2}, 1, 0, energy.ErrShape},
		{"ragged", []float64{1, 2, 3}, 2, 0, energy.ErrShape},
		{"negative ridge", []float64{1, 2}, 2, -1, energy.ErrParameter},
		{"NaN ridge", []float64{1, 2}, 2, math.NaN(), energy.ErrParameter},
		{"NaN value", []float64{1, math.NaN()}, 2, 0, energy.ErrParameter},
		{"constant", []float64{1, 1, 1}, 3, 0.1, energy.ErrParameter},
	} {
		if _, err := energy.FitGaussian(tc.x, tc.n, tc.ridge); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
