package ais

import (
	"errors"
	"fmt"
	"math"

	"github.com/ebmgo/ebm/internal/mathx"
)

// A schedule is the sequence 0 = β_0 ≤ β_1 ≤ … ≤ β_K = 1 of inverse
// temperatures an annealing run visits: K transitions, K − 1 intermediate
// distributions. The constructors below return an error for counts or
// parameters out of range, since they usually come from a user's settings.

// LinearSchedule returns k+1 equally spaced inverse temperatures from 0 to
// 1. It returns an error unless k ≥ 1.
func LinearSchedule(k int) ([]float64, error) {
	if k < 1 {
		return nil, fmt.Errorf("ais: LinearSchedule: %d steps, want at least 1", k)
	}
	b := make([]float64, k+1)
	for i := range b {
		b[i] = float64(i) / float64(k)
	}
	b[k] = 1
	return b, nil
}

// GeometricSchedule returns 0 followed by k geometrically spaced inverse
// temperatures from min to 1: β_i = min^{(k−i)/(k−1)}, i = 1…k, which
// spends most steps near β = 0 where the distributions change fastest for
// a broad base. It returns an error unless k ≥ 2 and 0 < min < 1.
func GeometricSchedule(k int, min float64) ([]float64, error) {
	if k < 2 || !(min > 0 && min < 1) {
		return nil, fmt.Errorf("ais: GeometricSchedule: %d steps from %v, want k ≥ 2 and 0 < min < 1", k, min)
	}
	b := make([]float64, k+1)
	for i := 1; i <= k; i++ {
		b[i] = math.Pow(min, float64(k-i)/float64(k-1))
	}
	b[k] = 1
	return b, nil
}

// SigmoidSchedule returns the sigmoid schedule of Grosse, Maddison and
// Salakhutdinov (2013): β̃_i = σ(δ(2i/k − 1)), rescaled to run from 0 to 1,
// for i = 0…k. Larger δ crowds the steps at both ends. It returns an error
// unless k ≥ 1 and δ is positive and finite.
func SigmoidSchedule(k int, delta float64) ([]float64, error) {
	if k < 1 || !(delta > 0) || math.IsInf(delta, 0) {
		return nil, fmt.Errorf("ais: SigmoidSchedule: %d steps, δ = %v, want k ≥ 1 and a finite δ > 0", k, delta)
	}
	b := make([]float64, k+1)
	lo, hi := mathx.Sigmoid(-delta), mathx.Sigmoid(delta)
	for i := range b {
		b[i] = (mathx.Sigmoid(delta*(2*float64(i)/float64(k)-1)) - lo) / (hi - lo)
	}
	b[0], b[k] = 0, 1
	return b, nil
}

// PiecewiseSchedule returns a schedule linear on each interval between
// consecutive knots: steps[i] equal steps from knots[i] to knots[i+1].
// It returns an error unless the knots rise from 0 to 1 and every count is
// positive.
func PiecewiseSchedule(knots []float64, steps []int) ([]float64, error) {
	if len(knots) < 2 || len(steps) != len(knots)-1 || knots[0] != 0 || knots[len(knots)-1] != 1 {
		return nil, fmt.Errorf("ais: PiecewiseSchedule: knots %v with steps %v, want knots from 0 to 1 and one count per interval", knots, steps)
	}
	b := []float64{0}
	for i, n := range steps {
		if n < 1 || !(knots[i+1] > knots[i]) {
			return nil, fmt.Errorf("ais: PiecewiseSchedule: interval %d from %v to %v with %d steps, want rising knots and at least 1 step", i, knots[i], knots[i+1], n)
		}
		for j := 1; j <= n; j++ {
			b = append(b, knots[i]+(knots[i+1]-knots[i])*float64(j)/float64(n))
		}
		b[len(b)-1] = knots[i+1]
	}
	return b, nil
}

// RBMSchedule returns Salakhutdinov and Murray's (2008) schedule for RBMs
// scaled to k steps: linear from 0 to 0.5, 0.5 to 0.9 and 0.9 to 1 with
// 500, 4,000 and 10,000 steps at k = 14,500 (their schedule exactly), and
// those proportions, rounded, otherwise. It returns an error unless
// k ≥ 3.
func RBMSchedule(k int) ([]float64, error) {
	if k < 3 {
		return nil, fmt.Errorf("ais: RBMSchedule: %d steps, want at least 3", k)
	}
	steps := []int{500, 4000, 10000}
	if k != 14500 {
		steps[0] = max(1, int(math.Round(500*float64(k)/14500)))
		steps[1] = max(1, int(math.Round(4000*float64(k)/14500)))
		steps[2] = max(1, k-steps[0]-steps[1])
	}
	return PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, steps)
}

// checkSchedule returns an error unless b rises from 0 to 1.
func checkSchedule(fn string, b []float64) error {
	if len(b) < 2 {
		return fmt.Errorf("ais: %s: schedule has %d values, need at least 0 and 1", fn, len(b))
	}
	if b[0] != 0 || b[len(b)-1] != 1 {
		return fmt.Errorf("ais: %s: schedule runs from %v to %v, want 0 to 1", fn, b[0], b[len(b)-1])
	}
	for i := 1; i < len(b); i++ {
		if !(b[i] >= b[i-1]) {
			return fmt.Errorf("ais: %s: schedule decreases at step %d (%v after %v)", fn, i, b[i], b[i-1])
		}
	}
	return nil
}

// reversed returns b in reverse order.
func reversed(b []float64) []float64 {
	r := make([]float64, len(b))
	for i, x := range b {
		r[len(r)-1-i] = x
	}
	return r
}

// LengthSchedule returns a k-step schedule that spreads the variance of
// the log weights evenly along the path, computed from a pilot run: pilot
// is the pilot's schedule and stepVar the variance over its chains of each
// step's log-weight increment (Result.StepVar of a forward run). Step i of
// the pilot covers a stretch of "thermodynamic length" √stepVar[i], the
// standard deviation its increment adds; the returned schedule cuts the
// path into k pieces of equal length, interpolating linearly inside the
// pilot's steps. With transitions that kept the chains at each p_β the
// variance of log w is about Σ (sd of each increment)², which for a given
// k this makes smallest (Cauchy–Schwarz: L²/k for a path of length L);
// where the chains lag, crowding steps where the weights spread also gives
// them more transitions there. It returns an error if the lengths do not
// match, pilot is not a schedule, a variance is negative or not finite,
// the total length is zero, or k < 1.
func LengthSchedule(pilot, stepVar []float64, k int) ([]float64, error) {
	if err := checkSchedule("LengthSchedule", pilot); err != nil {
		return nil, err
	}
	if len(stepVar) != len(pilot)-1 {
		return nil, fmt.Errorf("ais: LengthSchedule: %d step variances for a pilot of %d steps", len(stepVar), len(pilot)-1)
	}
	if k < 1 {
		return nil, fmt.Errorf("ais: LengthSchedule: %d steps, want at least 1", k)
	}
	cum := make([]float64, len(pilot)) // length from β = 0 to pilot[i]
	for i, v := range stepVar {
		if !(v >= 0) || math.IsInf(v, 1) {
			return nil, fmt.Errorf("ais: LengthSchedule: step %d has variance %v, want a finite value ≥ 0", i, v)
		}
		l := math.Sqrt(v)
		if pilot[i+1] == pilot[i] {
			l = 0
		}
		cum[i+1] = cum[i] + l
	}
	total := cum[len(cum)-1]
	if !(total > 0) {
		return nil, errors.New("ais: LengthSchedule: the pilot's increments have no variance: nothing to spread")
	}
	b := make([]float64, k+1)
	i := 0
	for j := 1; j < k; j++ {
		t := total * float64(j) / float64(k)
		for cum[i+1] < t {
			i++
		}
		// cum[i] < t ≤ cum[i+1]: the step from pilot[i] to pilot[i+1].
		b[j] = pilot[i] + (pilot[i+1]-pilot[i])*(t-cum[i])/(cum[i+1]-cum[i])
	}
	b[k] = 1
	return b, nil
}
