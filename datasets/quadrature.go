package datasets

import (
	"math"
	"runtime"
	"sync"
)

// gaussLegendre returns the n-point Gauss–Legendre nodes and weights on
// [−1, 1], computed by Newton's method on the Legendre recurrence
// (Golub & Welsch give the same nodes; this needs no linear algebra).
func gaussLegendre(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := 0; i < (n+1)/2; i++ {
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for iter := 0; iter < 100; iter++ {
			p0, p1 := 1.0, z
			for k := 2; k <= n; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*z*p1-(float64(k)-1)*p0)/float64(k)
			}
			// p1 = P_n(z), p0 = P_{n−1}(z); P_n'(z) = n(z P_n − P_{n−1})/(z² − 1).
			dp = float64(n) * (z*p1 - p0) / (z*z - 1)
			dz := p1 / dp
			z -= dz
			if math.Abs(dz) < 1e-16 {
				break
			}
		}
		p0, p1 := 1.0, z
		for k := 2; k <= n; k++ {
			p0, p1 = p1, ((2*float64(k)-1)*z*p1-(float64(k)-1)*p0)/float64(k)
		}
		dp = float64(n) * (z*p1 - p0) / (z*z - 1)
		x[i], x[n-1-i] = -z, z
		w[i] = 2 / ((1 - z*z) * dp * dp)
		w[n-1-i] = w[i]
	}
	return x, w
}

// gl8 holds the 8-point rule the curve densities integrate with.
var gl8x, gl8w = gaussLegendre(8)

// gridSum returns hx·hy·Σ f(x_i, y_j) over the midpoints of an nx×ny grid
// of hx×hy cells whose lower left corner is (x0, y0): the midpoint rule for
// ∫∫ f over that rectangle. Rows are shared among GOMAXPROCS
// goroutines; f must be safe for concurrent use.
func gridSum(x0, y0, hx, hy float64, nx, ny int, f func(x, y float64) float64) float64 {
	workers := min(runtime.GOMAXPROCS(0), ny)
	sums := make([]float64, ny)
	var wg sync.WaitGroup
	next := make(chan int, ny)
	for j := 0; j < ny; j++ {
		next <- j
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				y := y0 + (float64(j)+0.5)*hy
				var s, c float64 // Kahan summation: grids have ~10⁵ cells
				for i := 0; i < nx; i++ {
					v := f(x0+(float64(i)+0.5)*hx, y) - c
					t := s + v
					c = (t - s) - v
					s = t
				}
				sums[j] = s
			}
		}()
	}
	wg.Wait()
	var s float64
	for _, v := range sums {
		s += v
	}
	return s * hx * hy
}
