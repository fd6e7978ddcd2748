package sampling

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/ebmgo/ebm/diagnostics"
)

// WarningKind names a sign that a run's draws may not be trusted.
type WarningKind int

const (
	// WarnDivergences: transitions after warm-up diverged (HMC, NUTS: an
	// energy error above the bound; any kernel: a non-finite f or ∇f), or,
	// for a run that keeps no draws and adapts nothing, any transition.
	WarnDivergences WarningKind = iota + 1
	// WarnTreeDepth: NUTS trajectories were cut at the maximum tree depth.
	WarnTreeDepth
	// WarnBulkESS: a quantity's bulk ESS is below RunConfig.MinESS.
	WarnBulkESS
	// WarnTailESS: a quantity's tail ESS is below RunConfig.MinESS.
	WarnTailESS
	// WarnRHat: a quantity's split R̂ is above RunConfig.MaxRHat.
	WarnRHat
	// WarnStepSize: the adapted step size was still shrinking at the end
	// of warm-up (smaller at each of the last two windows) and ended
	// below a third of its value after the first window.
	WarnStepSize
	// WarnStuck: a quantity has the same value in every kept draw of
	// every chain, or a non-finite value, so no ESS or R̂ exists.
	WarnStuck
)

func (k WarningKind) String() string {
	switch k {
	case WarnDivergences:
		return "divergences"
	case WarnTreeDepth:
		return "tree depth"
	case WarnBulkESS:
		return "bulk ESS"
	case WarnTailESS:
		return "tail ESS"
	case WarnRHat:
		return "R-hat"
	case WarnStepSize:
		return "step size"
	case WarnStuck:
		return "stuck"
	}
	return fmt.Sprintf("WarningKind(%d)", int(k))
}

// Warning is a sign that the draws of a Run may not be trusted, with its
// numbers and the remedy, in one line a program can print. The package
// doc lists the kinds and what to do about each.
type Warning struct {
	Kind    WarningKind
	Message string
}

func (w Warning) String() string { return w.Message }

// RunDiagnostics summarises the kept draws of a Run with package
// diagnostics.
type RunDiagnostics struct {
	// Coords holds the summary of every coordinate of the trace; F that of
	// f(x), or is nil when the kernel does not evaluate f.
	Coords []diagnostics.Summary
	F      *diagnostics.Summary
	// MinBulkESS, MinTailESS and MaxRHat are the worst values over the
	// coordinates and f (NaN when one cannot be computed), and Worst...
	// name the quantity: "x[3]" (0-based) or "f".
	MinBulkESS, MinTailESS, MaxRHat       float64
	WorstBulkESS, WorstTailESS, WorstRHat string
}

// stepSizeHistory returns the step sizes an adapter recorded, if it does.
func stepSizeHistory(a Adapter) []float64 {
	if h, ok := a.(interface{ StepSizeHistory() []float64 }); ok {
		return append([]float64(nil), h.StepSizeHistory()...)
	}
	return nil
}

// minDiagnosticDraws is the fewest kept draws per chain for which Run
// computes diagnostics: three per half chain, what the ESS needs.
const minDiagnosticDraws = 6

// diagnoseRun computes the diagnostics of res's trace and the warnings of
// the run; adapted says whether warm-up adapted the kernel.
func diagnoseRun(res *Result, cfg RunConfig, adapted bool) (*RunDiagnostics, []Warning) {
	var warns []Warning
	add := func(k WarningKind, format string, args ...any) {
		warns = append(warns, Warning{k, fmt.Sprintf(format, args...)})
	}
	tr := &res.Trace
	transitions := (res.Iterations - cfg.Warmup) * tr.Chains
	divs, phase := res.Divergences, "after warm-up"
	if cfg.Draws == 0 && !adapted {
		// A run that keeps no draws and adapts nothing (burn-in, the
		// sampling of EBM training) is judged by where its chains end:
		// every transition counts. (Adaptation diverges on purpose while
		// it searches for the step size.)
		divs, transitions, phase = res.WarmupDivergences, res.Iterations*tr.Chains, "of the run"
	}
	if divs > 0 {
		add(WarnDivergences, "%d of %d transitions %s diverged (%.2g%%): the chains avoid where their trajectories diverged, so the draws can be biased; raise the target acceptance (AdaptConfig.TargetAccept 0.95 or 0.99, a smaller step size) or reparameterise the target",
			divs, transitions, phase, 100*float64(divs)/float64(max(transitions, 1)))
	}
	if res.MaxDepthHits > 0 {
		add(WarnTreeDepth, "%d of %d transitions after warm-up were cut at the maximum tree depth: the chains move less far per gradient than they could; raise NUTSConfig.MaxDepth, run a longer warm-up (a better mass matrix) or reparameterise the target",
			res.MaxDepthHits, transitions)
	}
	if h := res.StepSizes; len(h) >= 3 {
		n := len(h)
		if h[n-1] < h[n-2] && h[n-2] < h[n-3] && h[n-1] < h[0]/3 {
			steps := make([]string, n)
			for i, e := range h {
				steps[i] = fmt.Sprintf("%.3g", e)
			}
			add(WarnStepSize, "the adapted step size was still shrinking at the end of warm-up (%s by window): the chains kept reaching regions of stronger curvature and may not have explored them all; run a longer warm-up, raise the target acceptance or reparameterise the target",
				strings.Join(steps, " → "))
		}
	}
	if cfg.NoDiagnostics || tr.Draws < minDiagnosticDraws {
		return nil, warns
	}
	d := &RunDiagnostics{Coords: make([]diagnostics.Summary, tr.Dim), MinBulkESS: math.Inf(1), MinTailESS: math.Inf(1), MaxRHat: math.Inf(-1)}
	// One summary per coordinate, on GOMAXPROCS goroutines.
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range min(runtime.GOMAXPROCS(0), tr.Dim) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= tr.Dim {
					return
				}
				// The trace is a rectangle: Summarize cannot fail.
				d.Coords[i], _ = diagnostics.Summarize(tr.Series(i))
			}
		}()
	}
	wg.Wait()
	if fs := tr.FSeries(); fs != nil {
		s, _ := diagnostics.Summarize(fs)
		d.F = &s
	}
	var stuck []string
	worst := func(name string, s diagnostics.Summary) {
		if math.IsNaN(s.BulkESS) || math.IsNaN(s.RHat) {
			stuck = append(stuck, name)
		}
		if s.BulkESS < d.MinBulkESS || math.IsNaN(s.BulkESS) && !math.IsNaN(d.MinBulkESS) {
			d.MinBulkESS, d.WorstBulkESS = s.BulkESS, name
		}
		if s.TailESS < d.MinTailESS || math.IsNaN(s.TailESS) && !math.IsNaN(d.MinTailESS) {
			d.MinTailESS, d.WorstTailESS = s.TailESS, name
		}
		if s.RHat > d.MaxRHat || math.IsNaN(s.RHat) && !math.IsNaN(d.MaxRHat) {
			d.MaxRHat, d.WorstRHat = s.RHat, name
		}
	}
	for i, s := range d.Coords {
		worst(fmt.Sprintf("x[%d]", i), s)
	}
	if d.F != nil {
		worst("f", *d.F)
	}
	if len(stuck) > 0 {
		names := strings.Join(stuck[:min(len(stuck), 5)], ", ")
		if len(stuck) > 5 {
			names += fmt.Sprintf(" and %d more", len(stuck)-5)
		}
		add(WarnStuck, "%s took one value in every kept draw of every chain (or a non-finite one), so they have no ESS or R̂: check that the chains move at all (acceptance, step size) and that f is finite where they are",
			names)
	}
	minESS := cfg.MinESS
	if minESS == 0 {
		minESS = 100 * float64(tr.Chains)
	}
	if minESS > 0 {
		if d.MinBulkESS < minESS {
			add(WarnBulkESS, "bulk ESS %.0f (%s) is below %.0f: means, their MCSE and R̂ are unreliable; run longer (more Draws) or use a kernel that moves further per step",
				d.MinBulkESS, d.WorstBulkESS, minESS)
		}
		if d.MinTailESS < minESS {
			add(WarnTailESS, "tail ESS %.0f (%s) is below %.0f: quantiles and intervals are unreliable; run longer (more Draws)",
				d.MinTailESS, d.WorstTailESS, minESS)
		}
	}
	maxRHat := cfg.MaxRHat
	if maxRHat == 0 {
		maxRHat = 1.01
	}
	if maxRHat > 0 && d.MaxRHat > maxRHat {
		add(WarnRHat, "split R̂ %.3f (%s) is above %.3g: the chains disagree; run longer, and if it persists the target may be multimodal or some chains stuck",
			d.MaxRHat, d.WorstRHat, maxRHat)
	}
	return d, warns
}
