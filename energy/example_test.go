package energy_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// A Gaussian with full covariance: f, its gradient and the exact log Z.
func ExampleNewGaussian() {
	g, err := energy.NewGaussian([]float64{1, -1}, []float64{2, 0.5, 0.5, 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float64{1, -1, 2, 0} // two samples: the mean, and the mean + (1, 1)
	f := make([]float64, 2)
	grad := make([]float64, 4)
	if err := g.FGrad(f, grad, x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("f = %.4f %.4f\n", f[0], f[1])
	fmt.Printf("∇f at the second sample = %.4f\n", grad[2:])
	fmt.Printf("log Z = %.6f\n", g.LogZ())
	// Output:
	// f = 0.0000 -0.5714
	// ∇f at the second sample = [-0.2857 -0.8571]
	// log Z = 2.117685
}

// Errors name the parameter at fault.
func ExampleNewGaussian_notPositiveDefinite() {
	_, err := energy.NewGaussian([]float64{0, 0}, []float64{1, 2, 2, 1})
	fmt.Println(err)
	// Output:
	// energy: NewGaussian: 2×2 covariance is not positive definite (Cholesky pivot 1 is not positive): energy: invalid parameter
}

// The banana's moments are exact; its samples are exact draws.
func ExampleNewBanana() {
	b, _ := energy.NewBanana(0.1, 2)
	fmt.Printf("log Z = %.6f, mean = %v, cov = %v\n", b.LogZ(), b.Mean(), b.Cov())
	x := make([]float64, 2*100000)
	_ = b.Sample(rand.New(rand.NewPCG(1, 2)), x)
	var m2 float64
	for i := 1; i < len(x); i += 2 {
		m2 += x[i] * x[i]
	}
	fmt.Printf("sample Var x₂ ≈ %.1f\n", m2/100000)
	// Output:
	// log Z = 2.531024, mean = [0 0], cov = [4 0 0 1.32]
	// sample Var x₂ ≈ 1.3
}

// Grid quadrature reproduces the Rosenbrock distribution's closed-form
// log Z; the same call gives the exact log Z of a trained 2-D neural
// energy.
func ExampleQuadrature() {
	e, _ := energy.NewRosenbrock(1, 100)
	r, err := energy.Quadrature(context.Background(), e, energy.Grid{
		Lo: []float64{-30, -10}, Hi: []float64{32, 1000}, N: []int{256, 8192},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("quadrature  %.10f (error estimate < 1e-10: %v)\n", r.LogZ, r.Err+r.EdgeMass < 1e-10)
	fmt.Printf("closed form %.10f\n", e.LogZ())
	fmt.Printf("E[x₂] = %.6f, closed form %.6f\n", r.Mean[1], e.Mean()[1])
	// Output:
	// quadrature  1.8378770664 (error estimate < 1e-10: true)
	// closed form 1.8378770664
	// E[x₂] = 11.000000, closed form 11.000000
}

// The Ising model's log Z is exact at any size for h = 0 (Kaufman's
// formula) and by transfer matrix with a field.
func ExampleIsing_LogZ() {
	jc := 0.5 * math.Log(1+math.Sqrt2) // critical coupling
	small, _ := energy.NewIsing(4, jc, 0)
	exact, _ := small.LogZ()
	enum, _ := energy.LogZEnumerate(small)
	fmt.Printf("4×4 at J_c: Kaufman %.8f, enumeration %.8f\n", exact, enum)
	big, _ := energy.NewIsing(64, jc, 0)
	lz, _ := big.LogZ()
	// Onsager's infinite-lattice value is 0.929695.
	fmt.Printf("64×64 at J_c: log Z / N = %.6f\n", lz/(64*64))
	field, _ := energy.NewIsing(8, 0.3, 0.1)
	lz, _ = field.LogZ()
	fmt.Printf("8×8, J = 0.3, h = 0.1: log Z = %.6f\n", lz)
	// Output:
	// 4×4 at J_c: Kaufman 15.52191546, enumeration 15.52191546
	// 64×64 at J_c: log Z / N = 0.929852
	// 8×8, J = 0.3, h = 0.1: log Z = 52.562333
}

// Exact means and correlations of a small discrete model, for testing
// samplers.
func ExampleEnumerate() {
	m, _ := energy.NewIsing(3, 0.3, 0.2)
	r, err := energy.Enumerate(context.Background(), m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d states, log Z = %.6f\n", r.States, r.LogZ)
	fmt.Printf("E[s_0] = %.6f, Cov(s_0, s_1) = %.6f\n", r.Mean[0], r.Cov[1])
	// Output:
	// 512 states, log Z = 8.040605
	// E[s_0] = 0.670086, Cov(s_0, s_1) = 0.188882
}

// The RBM's log Z sums the 2^16 hidden states out exactly; F is the
// negative free energy of the visible units.
func ExampleRBM_LogZ() {
	r, err := energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 16, energy.RBMInit{WeightScale: 0.05, BiasScale: 0.05})
	if err != nil {
		fmt.Println(err)
		return
	}
	lz, err := r.LogZ()
	if err != nil {
		fmt.Println(err)
		return
	}
	v := make([]float64, 784) // the all-zero image
	var f [1]float64
	_ = r.F(f[:], v)
	fmt.Printf("log Z = %.6f, log p(0) = %.6f\n", lz, f[0]-lz)
	// Output:
	// log Z = 557.495772, log p(0) = -546.713516
}
