package energy

import "math"

const (
	log2Pi = 1.8378770664093454835606594728112 // log(2π)
	logPi  = 1.1447298858494001741434273513531 // log(π)
)

// logAccumulator sums exp(v) over a stream of log-values v, keeping the
// running maximum factored out (so that sums stay finite for |v| ≫ 700)
// and compensating the rounding error of the sum (Neumaier).
type logAccumulator struct {
	max    float64 // running maximum, −Inf before the first value
	sum, c float64 // Σ exp(v − max), and its compensation
}

func newLogAccumulator() logAccumulator { return logAccumulator{max: math.Inf(-1)} }

// add adds exp(v) to the sum. v must not be NaN or +Inf.
func (a *logAccumulator) add(v float64) {
	if v > a.max {
		if a.max != math.Inf(-1) {
			r := math.Exp(a.max - v)
			a.sum *= r
			a.c *= r
		}
		a.max = v
	}
	a.addScaled(math.Exp(v - a.max))
}

// addScaled adds t·exp(max) to the sum.
func (a *logAccumulator) addScaled(t float64) {
	s := a.sum + t
	if math.Abs(a.sum) >= math.Abs(t) {
		a.c += (a.sum - s) + t
	} else {
		a.c += (t - s) + a.sum
	}
	a.sum = s
}

// merge adds the contents of b.
func (a *logAccumulator) merge(b logAccumulator) {
	if b.max == math.Inf(-1) {
		return
	}
	if b.max > a.max {
		*a, b = b, *a
		if b.max == math.Inf(-1) {
			return
		}
	}
	r := math.Exp(b.max - a.max)
	a.addScaled(b.sum * r)
	a.addScaled(b.c * r)
}

// log returns log Σ exp(v) over the values added so far.
func (a *logAccumulator) log() float64 {
	if a.max == math.Inf(-1) {
		return a.max
	}
	return a.max + math.Log(a.sum+a.c)
}

// logCosh returns log cosh(x) for any x without overflow.
func logCosh(x float64) float64 {
	x = math.Abs(x)
	return x + math.Log1p(math.Exp(-2*x)) - math.Ln2
}

// logAbsSinh returns log |sinh(x)| for any x without overflow (−Inf at 0).
func logAbsSinh(x float64) float64 {
	x = math.Abs(x)
	if x < 0.5 {
		return math.Log(math.Sinh(x))
	}
	return x + math.Log1p(-math.Exp(-2*x)) - math.Ln2
}

// signedLogSum returns log|Σ s_i e^{v_i}| and the sign of the sum, for
// signs s_i ∈ {−1, 0, +1}.
func signedLogSum(v []float64, s []float64) (float64, float64) {
	m := math.Inf(-1)
	for i, x := range v {
		if s[i] != 0 && x > m {
			m = x
		}
	}
	if math.IsInf(m, -1) {
		return m, 0
	}
	var sum float64
	for i, x := range v {
		if s[i] != 0 {
			sum += s[i] * math.Exp(x-m)
		}
	}
	if sum == 0 {
		return math.Inf(-1), 0
	}
	sign := 1.0
	if sum < 0 {
		sign, sum = -1, -sum
	}
	return m + math.Log(sum), sign
}

// isFinite reports whether x is neither NaN nor ±Inf.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// allFinite returns the index of the first non-finite value in v, or −1.
func allFinite(v []float64) int {
	for i, x := range v {
		if !isFinite(x) {
			return i
		}
	}
	return -1
}
