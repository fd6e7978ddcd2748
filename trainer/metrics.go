package trainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Metrics are what one iteration measured; the trainer writes them as one
// JSON line each to metrics.jsonl in the run folder.
type Metrics struct {
	Iter        int     `json:"iter"`
	Loss        float64 `json:"loss"`
	FPos        float64 `json:"f_pos"`     // mean f(x⁺) over the data batch
	FNeg        float64 `json:"f_neg"`     // mean f(x⁻) over the model samples
	Gap         float64 `json:"gap"`       // FPos − FNeg
	GradNorm    float64 `json:"grad_norm"` // before clipping
	LR          float64 `json:"lr"`
	Accept      float64 `json:"accept"`      // sampler's mean acceptance
	Divergences int     `json:"divergences"` // divergent chain transitions
	GradEvals   int     `json:"grad_evals"`  // per chain
	Fresh       int     `json:"fresh"`       // chains started from noise
	SampleSec   float64 `json:"sample_s"`
	UpdateSec   float64 `json:"update_s"`
	// LogZ is the log normaliser learned by noise-contrastive estimation
	// (NCE objective), and 0 otherwise.
	LogZ float64 `json:"log_z,omitempty"`
}

// metricsLog appends metrics lines to metrics.jsonl.
type metricsLog struct {
	f *os.File
	w *bufio.Writer
}

// openMetrics opens dir/metrics.jsonl for appending after keeping only the
// lines of iterations up to iter (a resumed run redoes the rest), and
// returns those lines' metrics.
func openMetrics(dir string, iter int) (*metricsLog, []Metrics, error) {
	path := filepath.Join(dir, "metrics.jsonl")
	hist, err := readMetrics(path, iter)
	if err != nil {
		return nil, nil, err
	}
	if err := writeMetrics(path, hist); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("trainer: %w", err)
	}
	return &metricsLog{f: f, w: bufio.NewWriter(f)}, hist, nil
}

// ReadMetrics reads a run folder's metrics.jsonl.
func ReadMetrics(dir string) ([]Metrics, error) {
	return readMetrics(filepath.Join(dir, "metrics.jsonl"), -1)
}

// readMetrics reads the metrics of iterations ≤ upTo (all if upTo < 0); a
// missing file is empty, a torn last line (from a kill mid-write) is
// dropped.
func readMetrics(path string, upTo int) ([]Metrics, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	var out []Metrics
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m Metrics
		if err := json.Unmarshal(line, &m); err != nil {
			if i == len(lines)-1 {
				break // torn final line
			}
			return nil, fmt.Errorf("trainer: %s line %d: %w", path, i+1, err)
		}
		if upTo >= 0 && m.Iter > upTo {
			break
		}
		out = append(out, m)
	}
	return out, nil
}

func writeMetrics(path string, ms []Metrics) error {
	var b bytes.Buffer
	for _, m := range ms {
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	return atomicWrite(path, b.Bytes())
}

func (l *metricsLog) write(m Metrics) error {
	line, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("trainer: metrics of iteration %d: %w", m.Iter, err)
	}
	l.w.Write(line)
	l.w.WriteByte('\n')
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("trainer: writing %s: %w", l.f.Name(), err)
	}
	return nil
}

// truncate rewrites the log with the lines of iterations ≤ iter.
func (l *metricsLog) truncate(iter int) error {
	path := l.f.Name()
	l.close()
	hist, err := readMetrics(path, iter)
	if err != nil {
		return err
	}
	if err := writeMetrics(path, hist); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	l.f, l.w = f, bufio.NewWriter(f)
	return nil
}

func (l *metricsLog) close() {
	l.w.Flush()
	l.f.Close()
}
