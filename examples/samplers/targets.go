package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/viz"
)

// target is one distribution of the study, with its exact moments.
type target struct {
	Name, Desc string
	E          energy.Analytic
	Mean       []float64
	Var        []float64 // diagonal of the covariance
	// Box frames 2-D pictures of the draws (of coordinates 0 and 1).
	Box viz.Box
	// LogP2 is the exact log-density of the coordinates a picture shows,
	// as a function of the picture's (x, y); nil means the energy itself
	// (a 2-D target).
	LogP2 func(x, y float64) float64
	// PlotXY picks the picture's (x, y) from a draw.
	PlotXY func(x []float64) (float64, float64)
	// XLabel and YLabel name the picture's axes.
	XLabel, YLabel string
}

// targetNames are the targets the study knows, in table order.
var targetNames = []string{"banana", "rosenbrock", "funnel", "gauss100"}

// newTarget builds a target by name. cond is the condition number of the
// ill-conditioned Gaussian, whose random rotation comes from seed.
func newTarget(name string, cond float64, seed uint64) (*target, error) {
	t := &target{Name: name, XLabel: "x₁", YLabel: "x₂"}
	t.PlotXY = func(x []float64) (float64, float64) { return x[0], x[1] }
	switch name {
	case "banana":
		e, err := energy.NewBanana(0.1, 10)
		if err != nil {
			return nil, err
		}
		t.E, t.Desc = e, "Haario et al.'s strongly twisted banana, b = 0.1, σ₁ = 10 (2-D; Var x₂ = 201)"
		t.Box = viz.Box{XMin: -35, XMax: 35, YMin: -100, YMax: 20}
	case "rosenbrock":
		e, err := energy.NewRosenbrock(1, 100)
		if err != nil {
			return nil, err
		}
		t.E, t.Desc = e, "Rosenbrock distribution, a = 1, b = 100, s = 1/20 (2-D; Var x₂ = 240.1)"
		t.Box = viz.Box{XMin: -11, XMax: 13, YMin: -10, YMax: 150}
	case "funnel":
		const sigma = 3
		e, err := energy.NewFunnel(10, sigma)
		if err != nil {
			return nil, err
		}
		t.E, t.Desc = e, "Neal's funnel, d = 10, v ~ N(0, 3²), x_i | v ~ N(0, e^v)"
		t.Box = viz.Box{XMin: -25, XMax: 25, YMin: -9, YMax: 9}
		t.XLabel, t.YLabel = "x₁", "v"
		t.PlotXY = func(x []float64) (float64, float64) { return x[1], x[0] }
		// The (x₁, v) marginal: N(v; 0, σ²)·N(x₁; 0, e^v).
		t.LogP2 = func(x1, v float64) float64 {
			return -v*v/(2*sigma*sigma) - math.Log(2*math.Pi*sigma) - v/2 - x1*x1*math.Exp(-v)/2
		}
	case "gauss100":
		e, err := energy.NewIllConditionedGaussian(100, cond, rand.New(rand.NewPCG(seed, 100)))
		if err != nil {
			return nil, err
		}
		t.E = e
		t.Desc = fmt.Sprintf("100-d Gaussian, eigenvalues log-spaced from 1 to 1/%g, randomly rotated", cond)
		c := e.Cov()
		s := 4 * math.Sqrt(math.Max(c[0], c[101]))
		t.Box = viz.Box{XMin: -s, XMax: s, YMin: -s, YMax: s}
		// The (x₁, x₂) marginal of a zero-mean Gaussian.
		a, b, d := c[0], c[1], c[101]
		det := a*d - b*b
		t.LogP2 = func(x, y float64) float64 {
			return -(d*x*x-2*b*x*y+a*y*y)/(2*det) - math.Log(2*math.Pi) - math.Log(det)/2
		}
	default:
		return nil, fmt.Errorf("unknown target %q (want one of %v)", name, targetNames)
	}
	t.Mean = t.E.Mean()
	d := t.E.Dim()
	cov := t.E.Cov()
	t.Var = make([]float64, d)
	for i := range d {
		t.Var[i] = cov[i*d+i]
	}
	return t, nil
}

// field returns the exact log-density of the picture's coordinates over
// its box.
func (t *target) field(n int) (*viz.Field, error) {
	if t.LogP2 != nil {
		return viz.NewField(t.Box, n, n, t.LogP2)
	}
	return viz.EnergyField(t.E, t.Box, n, n)
}
