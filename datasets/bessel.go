package datasets

import "math"

// besselI0e returns e^{−z}·I₀(z) and besselI1e e^{−z}·I₁(z) for z ≥ 0,
// where I_ν is the modified Bessel function of the first kind. The rings
// density needs them: a point uniform on a circle of radius R blurred by
// N(0, σ²I) has density exp(−(r−R)²/2σ²)·I₀e(rR/σ²)/(2πσ²).
//
// Below z = 25 they sum the power series
//
//	I_ν(z) = Σ_k (z/2)^{2k+ν} / (k! (k+ν)!)
//
// whose terms are all positive, so the sum is accurate to a few ulps. From
// z = 25 on they sum the asymptotic expansion
//
//	e^{−z} I_ν(z) ≈ (2πz)^{−1/2} Σ_k (−1)^k Π_{j≤k} (4ν² − (2j−1)²) / (k! (8z)^k)
//
// until its terms stop shrinking; the smallest term is below e^{−2z}, far
// under double precision.
func besselI0e(z float64) float64 { return besselIe(0, z) }

func besselI1e(z float64) float64 { return besselIe(1, z) }

const besselSeriesMax = 25

func besselIe(nu int, z float64) float64 {
	switch {
	case z < 0 || math.IsNaN(z):
		panic("datasets: besselIe of a negative or NaN argument")
	case math.IsInf(z, 1):
		return 0
	case z < besselSeriesMax:
		q := z * z / 4
		t := 1.0
		if nu == 1 {
			t = z / 2
		}
		s := t
		for k := 1; k < 500; k++ {
			t *= q / (float64(k) * float64(k+nu))
			s += t
			if t < 1e-17*s {
				break
			}
		}
		return s * math.Exp(-z)
	}
	mu := 4 * float64(nu*nu)
	t, s := 1.0, 1.0
	for k := 1; k < 500; k++ {
		a := float64(2*k - 1)
		next := -t * (mu - a*a) / (float64(k) * 8 * z)
		if math.Abs(next) >= math.Abs(t) {
			break
		}
		t = next
		s += t
		if math.Abs(t) < 1e-17*math.Abs(s) {
			break
		}
	}
	return s / math.Sqrt(2*math.Pi*z)
}
