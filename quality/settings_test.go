package quality

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"gonum.org/v1/gonum/mat"
)

// Values a caller sets are errors wrapping ErrInput, never panics.
func TestSettingsAreErrors(t *testing.T) {
	ctx := context.Background()
	c := NewClassifier(rand.New(rand.NewPCG(1, 2)))
	g2 := &Gaussian{Mean: []float64{0, 0}, Cov: mat.NewSymDense(2, []float64{1, 0, 0, 1})}
	g3 := &Gaussian{Mean: []float64{0, 0, 0}, Cov: mat.NewSymDense(3, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1})}
	for name, f := range map[string]func() error{
		"Train with negative epochs": func() error {
			one := &datasets.MNIST{N: 1, Rows: Side, Cols: Side, Pixels: make([]uint8, Pixels), Labels: []int{0}}
			_, err := Train(ctx, c, one.ImageSet(), nil, TrainConfig{Epochs: -1})
			if err == nil || !strings.Contains(err.Error(), "Epochs: -1") {
				t.Errorf("Train: %v, want it to name the negative setting", err)
			}
			return err
		},
		"NewClassifierFor with one class": func() error {
			_, err := NewClassifierFor(rand.New(rand.NewPCG(1, 2)), ClassifierConfig{Classes: 1})
			return err
		},
		"NewClassifierFor with a negative size": func() error {
			_, err := NewClassifierFor(rand.New(rand.NewPCG(1, 2)), ClassifierConfig{Channels: 3, Height: -1, Width: 32})
			return err
		},
		"NewClassifierFor with 2 names for 3 classes": func() error {
			_, err := NewClassifierFor(rand.New(rand.NewPCG(1, 2)), ClassifierConfig{Classes: 3, ClassNames: []string{"a", "b"}})
			return err
		},
		"Reference with negative N": func() error {
			_, err := Reference(ctx, c, ReferenceConfig{N: -1})
			return err
		},
		"FitGaussian of dimension 0": func() error {
			_, err := FitGaussian(make([]float64, 4), 4, 0)
			return err
		},
		"FrechetDistance of 2-D and 3-D": func() error {
			_, err := FrechetDistance(g2, g3)
			return err
		},
		"Save with a 2-D reference": func() error {
			bad := NewClassifier(rand.New(rand.NewPCG(1, 2)))
			bad.Ref = g2
			return bad.Save(new(bytes.Buffer))
		},
	} {
		if err := f(); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v, want an error wrapping ErrInput", name, err)
		}
	}
}
