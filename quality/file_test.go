package quality

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ebmgo/ebm/nn"
	"gonum.org/v1/gonum/mat"
)

// A classifier survives Save and ReadClassifier bit for bit: weights,
// reference statistics and metadata, and hence its outputs.
func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(10, 10))
	c := NewClassifier(rng)
	x := make([]float64, 40*Pixels)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	if err := c.SetReference(ctx, x, 40); err != nil {
		t.Fatal(err)
	}
	c.Meta = map[string]string{"test_accuracy": "0.1", "command": "none"}
	path := filepath.Join(t.TempDir(), "clf.safetensors")
	if err := c.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	d, err := LoadClassifierFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range c.Net.Params() {
		q := d.Net.Params()[i]
		if p.Name != q.Name || !slices.Equal(p.Value.Float32s(), q.Value.Float32s()) {
			t.Fatalf("parameter %s differs after loading", p.Name)
		}
	}
	if !maps.Equal(c.Meta, d.Meta) {
		t.Errorf("metadata %v, want %v", d.Meta, c.Meta)
	}
	if d.Ref.N != 40 || !slices.Equal(d.Ref.Mean, c.Ref.Mean) || !mat.Equal(d.Ref.Cov, c.Ref.Cov) {
		t.Errorf("reference statistics differ after loading")
	}
	a, err := c.Run(ctx, x[:3*Pixels], 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Run(ctx, x[:3*Pixels], 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Logits, b.Logits) || !slices.Equal(a.Features, b.Features) {
		t.Errorf("outputs differ after loading")
	}

	// Without reference statistics.
	c.Ref = nil
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		t.Fatal(err)
	}
	d, err = ReadClassifier(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d.Ref != nil {
		t.Errorf("reference statistics appeared from nowhere")
	}
}

func TestLoadBadFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadClassifierFile(filepath.Join(dir, "missing.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	var buf bytes.Buffer
	if err := NewClassifier(rand.New(rand.NewPCG(1, 1))).Save(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadClassifier(bytes.NewReader(buf.Bytes()[:buf.Len()-10])); !errors.Is(err, nn.ErrBadFormat) {
		t.Errorf("truncated file: %v", err)
	}
	// A valid file of another model.
	other := filepath.Join(dir, "mlp.safetensors")
	if err := nn.SaveFile(other, nn.NewMLP(rand.New(rand.NewPCG(1, 1)), nn.SiLU, 784, 10)); err != nil {
		t.Fatal(err)
	}
	_, err := LoadClassifierFile(other)
	if !errors.Is(err, nn.ErrMismatch) {
		t.Errorf("file of another model: %v", err)
	}
	t.Logf("file of another model: %v", err)
}
