package mathx_test

import (
	"fmt"

	"github.com/ebmgo/ebm/internal/mathx"
)

func Example() {
	fmt.Printf("softplus(0) = %.6f, softplus(1000) = %g\n", mathx.Softplus(0), mathx.Softplus(1000))
	fmt.Printf("σ(0) = %g, σ(−1000) = %g\n", mathx.Sigmoid(0), mathx.Sigmoid(-1000))
	fmt.Printf("log(e¹⁰⁰⁰ + e¹⁰⁰⁰) = %.6f\n", mathx.LogSumExp([]float64{1000, 1000}))
	// Output:
	// softplus(0) = 0.693147, softplus(1000) = 1000
	// σ(0) = 0.5, σ(−1000) = 0
	// log(e¹⁰⁰⁰ + e¹⁰⁰⁰) = 1000.693147
}
