package diagnostics

import (
	"math"

	"github.com/ebmgo/ebm/internal/mathx"
)

// Summary is what the diagnostics say about one scalar quantity drawn by
// several chains.
type Summary struct {
	// Mean and SD are the mean and standard deviation of all draws pooled.
	Mean, SD float64
	// MCSE is the Monte Carlo standard error of Mean (see MCSE).
	MCSE float64
	// BulkESS and TailESS are the bulk and tail effective sample sizes
	// (ESS, ESSTail).
	BulkESS, TailESS float64
	// RHat is the rank-normalised split R̂ (SplitRHat).
	RHat float64
}

// Summarize returns every diagnostic of the draws (chains × draws) at once,
// sorting them once: the same values as the functions one by one. Values
// that cannot be estimated are NaN, as there; ragged or empty input
// returns an error wrapping energy.ErrShape.
func Summarize(chains [][]float64) (Summary, error) {
	n, err := check("Summarize", chains)
	if err != nil {
		return Summary{}, err
	}
	all := flatten(chains)
	mean, v := mathx.MeanVar(all)
	s := Summary{Mean: mean, SD: math.Sqrt(v), MCSE: math.NaN(), BulkESS: math.NaN(), TailESS: math.NaN(), RHat: math.NaN()}
	if bad(chains) {
		return s, nil
	}
	sorted := sortedDraws(chains)
	z := zScale(split(chains, n))
	s.BulkESS = ess(z)
	s.TailESS = math.Min(essQuantile(chains, n, sorted, 0.05), essQuantile(chains, n, sorted, 0.95))
	s.RHat = splitRHat(chains, n, sorted, z)
	s.MCSE = math.Sqrt(v / ess(split(chains, n)))
	return s, nil
}
