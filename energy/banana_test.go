package energy_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// The banana is Haario et al.'s form, f ∘ φ_b with φ_b(x) = (x₁, x₂ +
// b(x₁² − σ₁²)): its ridge x₂ = −b(x₁² − σ₁²) bends to negative x₂ for
// b > 0, and the exact draws' third moment of x₂ is −8b³σ₁⁶ (within a
// few standard errors, over several seeds).
func TestBananaHaarioForm(t *testing.T) {
	const b, s1 = 0.1, 2.0
	e, err := energy.NewBanana(b, s1)
	if err != nil {
		t.Fatal(err)
	}
	x1 := 4.0
	ridge := -b * (x1*x1 - s1*s1)
	f := make([]float64, 2)
	if err := e.F(f, []float64{x1, ridge, x1, -ridge}); err != nil {
		t.Fatal(err)
	}
	if want := -x1 * x1 / (2 * s1 * s1); math.Abs(f[0]-want) > 1e-12 || !(f[0] > f[1]) {
		t.Errorf("f on the ridge (%g, %g) = %g (want %g), mirrored point %g", x1, ridge, f[0], want, f[1])
	}
	const n = 200000
	want := -8 * b * b * b * math.Pow(s1, 6)
	x := make([]float64, 2*n)
	for seed := range uint64(3) {
		if err := e.Sample(rand.New(rand.NewPCG(seed, 7)), x); err != nil {
			t.Fatal(err)
		}
		var m3, m6 float64
		for i := 1; i < len(x); i += 2 {
			c := x[i] * x[i] * x[i]
			m3 += c
			m6 += c * c
		}
		m3 /= n
		se := math.Sqrt((m6/n - m3*m3) / n)
		if math.Abs(m3-want) > 4*se {
			t.Errorf("seed %d: E[x₂³] = %.4f ± %.4f, want %.4f", seed, m3, se, want)
		}
	}
}
