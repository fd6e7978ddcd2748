package energy_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// shifted adds a constant to an energy's f.
type shifted struct {
	energy.Energy
	c float64
}

func (s shifted) F(dst, x []float64) error {
	if err := s.Energy.F(dst, x); err != nil {
		return err
	}
	for i := range dst {
		dst[i] += s.c
	}
	return nil
}

// nanAt returns NaN for x > 1.
type nanAt struct{}

func (nanAt) Dim() int { return 1 }
func (nanAt) F(dst, x []float64) error {
	for i, v := range x {
		dst[i] = -v * v
		if v > 1 {
			dst[i] = math.NaN()
		}
	}
	return nil
}

func TestQuadrature3D(t *testing.T) {
	g := must(energy.NewGaussian([]float64{0.5, 0, -0.5}, []float64{1, 0.2, 0, 0.2, 0.8, 0.1, 0, 0.1, 1.5}))
	r, err := energy.Quadrature(t.Context(), g, energy.Grid{Lo: []float64{-9, -9, -9}, Hi: []float64{9, 9, 9}, N: []int{64, 64, 64}})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.LogZ - g.LogZ(); math.Abs(d) > 1e-9 {
		t.Errorf("3-D log Z off by %.3g", d)
	}
	cov := g.Cov()
	for i := range cov {
		if math.Abs(r.Cov[i]-cov[i]) > 1e-9 {
			t.Errorf("cov[%d] = %v, want %v", i, r.Cov[i], cov[i])
		}
	}
}

// TestQuadratureErrorEstimate checks that the error estimate covers the
// actual error on a grid too coarse for the energy, and that a box too
// small for the mass shows as EdgeMass.
func TestQuadratureErrorEstimate(t *testing.T) {
	g := must(energy.NewDiagGaussian([]float64{0.1}, []float64{0.09}))
	for _, n := range []int{8, 12, 16, 24} {
		r, err := energy.Quadrature(t.Context(), g, energy.Grid{Lo: []float64{-3}, Hi: []float64{3}, N: []int{n}})
		if err != nil {
			t.Fatal(err)
		}
		actual := math.Abs(r.LogZ - g.LogZ())
		t.Logf("N=%d: error %.3g, estimate %.3g", n, actual, r.Err)
		if actual > r.Err {
			t.Errorf("N=%d: actual error %.3g above the estimate %.3g", n, actual, r.Err)
		}
	}
	r, err := energy.Quadrature(t.Context(), g, energy.Grid{Lo: []float64{-0.3}, Hi: []float64{0.3}, N: []int{64}})
	if err != nil {
		t.Fatal(err)
	}
	if r.EdgeMass < 1e-3 {
		t.Errorf("box of ±1σ: edge mass %.3g, want a clear warning", r.EdgeMass)
	}
	// Large |f|: the same Gaussian shifted by −1e4 and +1e4.
	for _, c := range []float64{-1e4, 1e4} {
		lz, errEst, err := energy.LogZQuadrature(shifted{g, c}, energy.Grid{Lo: []float64{-4}, Hi: []float64{4}, N: []int{256}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(lz-(g.LogZ()+c)) > 1e-9 || errEst > 1e-9 {
			t.Errorf("shift %g: log Z %.12g ± %.3g, want %.12g", c, lz, errEst, g.LogZ()+c)
		}
	}
}

func TestQuadratureErrors(t *testing.T) {
	g2 := must(energy.NewDiagGaussian([]float64{0, 0}, []float64{1, 1}))
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		e    energy.Energy
		g    energy.Grid
		want error
	}{
		{"bounds", g2, energy.Grid{Lo: []float64{-1}, Hi: []float64{1, 1}}, energy.ErrShape},
		{"N entries", g2, energy.Grid{Lo: []float64{-1, -1}, Hi: []float64{1, 1}, N: []int{4}}, energy.ErrShape},
		{"odd N", g2, energy.Grid{Lo: []float64{-1, -1}, Hi: []float64{1, 1}, N: []int{4, 5}}, energy.ErrParameter},
		{"empty box", g2, energy.Grid{Lo: []float64{-1, 1}, Hi: []float64{1, 1}}, energy.ErrParameter},
		{"too many points", g2, energy.Grid{Lo: []float64{-1, -1}, Hi: []float64{1, 1}, N: []int{1 << 14, 1 << 14}}, energy.ErrTooLarge},
		{"NaN", nanAt{}, energy.Grid{Lo: []float64{-2}, Hi: []float64{2}, N: []int{16}}, nil},
	} {
		_, err := energy.Quadrature(ctx, tc.e, tc.g)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: error %v, want one wrapping %v", tc.name, err, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := energy.Quadrature(cctx, g2, energy.Grid{Lo: []float64{-1, -1}, Hi: []float64{1, 1}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
