package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ebmgo/ebm/trainer"
)

// progressBar draws training progress: one line redrawn in place on a
// terminal, or a line every few seconds otherwise (logs, CI).
type progressBar struct {
	w        io.Writer
	tty      bool
	last     time.Time
	interval time.Duration
	// scoreOnly: an objective without model samples, which has no energy
	// gap or f(samples) to show.
	scoreOnly bool
}

func newProgressBar(w io.Writer) *progressBar {
	p := &progressBar{w: w, interval: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.interval = true, 200*time.Millisecond
		}
	}
	return p
}

func (p *progressBar) update(pr trainer.Progress) {
	done := pr.Iteration == pr.Iterations
	if !done && time.Since(p.last) < p.interval {
		return
	}
	p.last = time.Now()
	const width = 24
	frac := float64(pr.Iteration) / float64(pr.Iterations)
	n := int(frac * width)
	bar := strings.Repeat("#", n) + strings.Repeat("-", width-n)
	eta := "?"
	if pr.ItPerSec > 0 {
		eta = pr.ETA.Round(time.Second).String()
	}
	line := fmt.Sprintf("iter %d/%d [%s] %3.0f%%  %.2f it/s  gap %+.4f  loss %+.4f  f+ %+.3f  f− %+.3f  ETA %s",
		pr.Iteration, pr.Iterations, bar, 100*frac, pr.ItPerSec, pr.Metrics.Gap, pr.Metrics.Loss, pr.Metrics.FPos, pr.Metrics.FNeg, eta)
	if p.scoreOnly {
		line = fmt.Sprintf("iter %d/%d [%s] %3.0f%%  %.2f it/s  loss %+.4f  f(data) %+.3f  ETA %s",
			pr.Iteration, pr.Iterations, bar, 100*frac, pr.ItPerSec, pr.Metrics.Loss, pr.Metrics.FPos, eta)
		if pr.Metrics.LogZ != 0 {
			line += fmt.Sprintf("  log Z %+.3f", pr.Metrics.LogZ)
		}
	}
	if pr.Rollbacks > 0 {
		line += fmt.Sprintf("  rollbacks %d", pr.Rollbacks)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if done {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}

// finish ends the in-place line, if one is open.
func (p *progressBar) finish() {
	if p.tty && !p.last.IsZero() {
		fmt.Fprintln(p.w)
	}
}
