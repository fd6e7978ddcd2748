package energy

import (
	"math"
	"math/rand/v2"
)

// cholesky returns the lower-triangular L (d×d row-major) with a = L·Lᵀ,
// or the index of the first non-positive pivot and ok = false when a is
// not (numerically) positive definite.
func cholesky(a []float64, d int) (l []float64, bad int, ok bool) {
	l = make([]float64, d*d)
	for j := 0; j < d; j++ {
		s := a[j*d+j]
		for k := 0; k < j; k++ {
			s -= l[j*d+k] * l[j*d+k]
		}
		if !(s > 0) || math.IsInf(s, 0) {
			return nil, j, false
		}
		ljj := math.Sqrt(s)
		l[j*d+j] = ljj
		for i := j + 1; i < d; i++ {
			s := a[i*d+j]
			for k := 0; k < j; k++ {
				s -= l[i*d+k] * l[j*d+k]
			}
			l[i*d+j] = s / ljj
		}
	}
	return l, -1, true
}

// choleskyInverse returns a⁻¹ = L⁻ᵀ·L⁻¹ given the Cholesky factor L of a.
func choleskyInverse(l []float64, d int) []float64 {
	// m = L⁻¹, lower triangular, by forward substitution column by column.
	m := make([]float64, d*d)
	for j := 0; j < d; j++ {
		m[j*d+j] = 1 / l[j*d+j]
		for i := j + 1; i < d; i++ {
			var s float64
			for k := j; k < i; k++ {
				s -= l[i*d+k] * m[k*d+j]
			}
			m[i*d+j] = s / l[i*d+i]
		}
	}
	// inv = mᵀ·m, symmetric.
	inv := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j <= i; j++ {
			var s float64
			for k := i; k < d; k++ { // m[k][i] and m[k][j] are zero for k < i
				s += m[k*d+i] * m[k*d+j]
			}
			inv[i*d+j] = s
			inv[j*d+i] = s
		}
	}
	return inv
}

// randomOrthogonal returns a d×d orthogonal matrix drawn from the Haar
// (uniform) distribution: the Q of the QR decomposition of a matrix of
// independent standard normals, with R's diagonal made positive.
// Columns are orthonormalised by Gram–Schmidt applied twice, which is
// orthogonal to working precision.
func randomOrthogonal(d int, rng *rand.Rand) []float64 {
	// Work on columns stored as rows of q (q[j] is column j).
	q := make([]float64, d*d)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	for j := 0; j < d; j++ {
		col := q[j*d : (j+1)*d]
		for pass := 0; pass < 2; pass++ {
			for k := 0; k < j; k++ {
				prev := q[k*d : (k+1)*d]
				var dot float64
				for i := range col {
					dot += col[i] * prev[i]
				}
				for i := range col {
					col[i] -= dot * prev[i]
				}
			}
		}
		var norm float64
		for _, v := range col {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for i := range col {
			col[i] /= norm
		}
	}
	// Transpose so that the result is row-major with columns q[j].
	out := make([]float64, d*d)
	for j := 0; j < d; j++ {
		for i := 0; i < d; i++ {
			out[i*d+j] = q[j*d+i]
		}
	}
	return out
}
