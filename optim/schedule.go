package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate at iteration t (0-based) from the base
// rate. The zero Schedule is constant.
type Schedule struct {
	// Kind is "constant" (or ""), "step", "exp", or "cosine".
	Kind string
	// Warmup ramps the rate linearly from base/Warmup to base over the
	// first Warmup iterations (0: none).
	Warmup int
	// Step: multiply by Gamma every Every iterations.
	// Exp: multiply by Gamma every iteration.
	Every int
	Gamma float64
	// Cosine: anneal from base to MinLR over Total iterations.
	Total int
	MinLR float64
}

// LR returns the learning rate at iteration t.
func (s Schedule) LR(base float64, t int) float64 {
	lr := base
	switch s.Kind {
	case "step":
		if s.Every > 0 {
			lr = base * math.Pow(s.Gamma, float64(t/s.Every))
		}
	case "exp":
		lr = base * math.Pow(s.Gamma, float64(t))
	case "cosine":
		if s.Total > 0 {
			u := math.Min(1, float64(t)/float64(s.Total))
			lr = s.MinLR + 0.5*(base-s.MinLR)*(1+math.Cos(math.Pi*u))
		}
	}
	if s.Warmup > 0 && t < s.Warmup {
		lr *= float64(t+1) / float64(s.Warmup)
	}
	return lr
}

// Validate reports a schedule that cannot be used.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "", "constant":
	case "step":
		if s.Every <= 0 || !(s.Gamma > 0) {
			return fmt.Errorf("optim: step schedule needs Every > 0 and Gamma > 0, got %d and %g", s.Every, s.Gamma)
		}
	case "exp":
		if !(s.Gamma > 0) {
			return fmt.Errorf("optim: exp schedule needs Gamma > 0, got %g", s.Gamma)
		}
	case "cosine":
		if s.Total <= 0 || s.MinLR < 0 {
			return fmt.Errorf("optim: cosine schedule needs Total > 0 and MinLR ≥ 0, got %d and %g", s.Total, s.MinLR)
		}
	default:
		return fmt.Errorf("optim: unknown schedule %q (want constant, step, exp or cosine)", s.Kind)
	}
	if s.Warmup < 0 {
		return fmt.Errorf("optim: negative warm-up %d", s.Warmup)
	}
	return nil
}

// ParseSchedule reads a schedule from a flag value: "constant",
// "step:EVERY:GAMMA", "exp:GAMMA", "cosine:TOTAL[:MINLR]", each optionally
// followed by ",warmup:N".
func ParseSchedule(v string) (Schedule, error) {
	var s Schedule
	parts := strings.Split(v, ",")
	for i, p := range parts {
		f := strings.Split(p, ":")
		var err error
		num := func(k int) float64 {
			if err != nil {
				return 0
			}
			if k >= len(f) {
				err = fmt.Errorf("missing field %d", k)
				return 0
			}
			var x float64
			x, err = strconv.ParseFloat(f[k], 64)
			return x
		}
		switch {
		case f[0] == "warmup" && i > 0:
			s.Warmup = int(num(1))
		case i > 0:
			err = fmt.Errorf("unexpected %q", p)
		case f[0] == "constant" || f[0] == "":
			s.Kind = "constant"
		case f[0] == "step":
			s.Kind, s.Every, s.Gamma = "step", int(num(1)), num(2)
		case f[0] == "exp":
			s.Kind, s.Gamma = "exp", num(1)
		case f[0] == "cosine":
			s.Kind, s.Total = "cosine", int(num(1))
			if len(f) > 2 {
				s.MinLR = num(2)
			}
		default:
			err = fmt.Errorf("unknown kind %q", f[0])
		}
		if err != nil {
			return Schedule{}, fmt.Errorf("optim: schedule %q: %v (want constant, step:EVERY:GAMMA, exp:GAMMA or cosine:TOTAL[:MINLR], optionally ,warmup:N)", v, err)
		}
	}
	return s, s.Validate()
}
