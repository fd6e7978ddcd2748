package mathx

import "math"

// Softplus returns log(1 + eˣ) without overflow or loss of precision.
func Softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Sigmoid returns the logistic function 1/(1 + e^−x) without overflow.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// SumSoftplus returns Σ_t softplus(a_t), computed as Σ_t max(a_t, 0) +
// log ∏_t (1 + e^{−|a_t|}). The product, of factors in (1, 2], is
// renormalised every 512 factors, so any length is safe. It returns NaN if
// a value is NaN and +Inf if a value is +Inf.
func SumSoftplus(a []float64) float64 {
	var pos float64
	prod, exp := 1.0, 0
	for start := 0; start < len(a); start += 512 {
		for _, at := range a[start:min(start+512, len(a))] {
			if at > 0 {
				pos += at
				prod *= 1 + math.Exp(-at)
			} else {
				prod *= 1 + math.Exp(at)
			}
		}
		var e int
		prod, e = math.Frexp(prod)
		exp += e
	}
	return pos + math.Log(prod) + float64(exp)*math.Ln2
}

// LogSumExp returns log Σ exp(v_i), −Inf for an empty slice. The largest
// term is factored out, so the result is exact for values of any
// magnitude. A +Inf value gives +Inf; otherwise a NaN value gives NaN.
func LogSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// LogMeanExp returns log((1/n) Σ exp(v_i)) for n = len(v) > 0, as
// LogSumExp(v) − log n; NaN for an empty slice.
func LogMeanExp(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return LogSumExp(v) - math.Log(float64(len(v)))
}

// MeanVar returns the mean and the unbiased (n − 1) variance of x; the
// variance is NaN for fewer than two values.
func MeanVar(x []float64) (mean, variance float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(x)-1)
}
