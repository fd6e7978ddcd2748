package quality

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
)

// The zero ClassifierConfig is MNIST's classifier, parameter for
// parameter, and a colour one is sized from its input.
func TestClassifierFor(t *testing.T) {
	a := NewClassifier(rand.New(rand.NewPCG(4, 4)))
	b, err := NewClassifierFor(rand.New(rand.NewPCG(4, 4)), ClassifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.Net.Params(), b.Net.Params()
	if len(pa) != 8 || len(pb) != len(pa) {
		t.Fatalf("%d and %d parameters", len(pa), len(pb))
	}
	for i := range pa {
		if pa[i].Name != pb[i].Name || !slices.Equal(pa[i].Float64s(nil), pb[i].Float64s(nil)) {
			t.Errorf("parameter %s differs", pa[i].Name)
		}
	}
	for _, tc := range []struct {
		cfg    ClassifierConfig
		convs  int
		linear int // inputs of the feature layer
	}{
		{ClassifierConfig{Channels: 3, Height: 32, Width: 32}, 2, 32 * 8 * 8},
		{ClassifierConfig{Channels: 3, Height: 64, Width: 48, Classes: 5, Filters: 8}, 3, 32 * 8 * 6},
		{ClassifierConfig{Channels: 1, Height: 8, Width: 8, Classes: 2}, 2, 32 * 2 * 2},
	} {
		c, err := NewClassifierFor(rand.New(rand.NewPCG(1, 1)), tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		ps := c.Net.Params()
		if got := len(ps); got != 2*tc.convs+4 {
			t.Errorf("%+v: %d parameters, want %d", tc.cfg, got, 2*tc.convs+4)
		}
		if s := ps[2*tc.convs].Shape(); s[1] != tc.linear {
			t.Errorf("%+v: feature layer takes %d inputs, want %d", tc.cfg, s[1], tc.linear)
		}
		x := make([]float64, 3*c.Dim())
		o, err := c.Run(context.Background(), x, 3)
		if err != nil {
			t.Fatal(err)
		}
		if o.K != c.NumClasses() || len(o.Logits) != 3*o.K || len(o.Features) != 3*FeatureDim {
			t.Errorf("%+v: outputs K=%d, %d logits, %d features", tc.cfg, o.K, len(o.Logits), len(o.Features))
		}
	}
}

// A judge of colour images: trained on coloured shapes it tells the
// classes apart, scores held-out shapes close to the reference and noise
// far from it, and survives a save/load round trip with its shape and
// class names.
func TestJudgeOfShapes(t *testing.T) {
	ctx := context.Background()
	all, err := datasets.Shapes(datasets.ShapesConfig{N: 1600, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := all.HoldOut(400, 2)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifierFor(rand.New(rand.NewPCG(3, 3)), ClassifierConfig{
		Channels: 3, Height: 16, Width: 16, ClassNames: all.Classes})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(ctx, c, train, test, TrainConfig{Epochs: 3, Batch: 50, MaxShift: 1, Flip: true, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy %.3f after %d steps", res.TestAccuracy, res.Steps)
	// Chance is 1/4; the classes differ in colour and shape.
	if res.TestAccuracy < 0.95 {
		t.Errorf("test accuracy %.3f, want ≥ 0.95", res.TestAccuracy)
	}
	if err := c.SetReference(ctx, test.Images, test.N); err != nil {
		t.Fatal(err)
	}
	refs, err := Reference(ctx, c, ReferenceConfig{N: 300, Data: train, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("real: %v", refs.Real)
	t.Logf("noise: %v", refs.Noise)
	if len(refs.Real.Histogram) != 4 || !(refs.Real.FD < refs.Noise.FD/10) || !(refs.Real.Confidence > 0.9) ||
		!(refs.Real.ClassEntropy > math.Log(4)-0.05) {
		t.Errorf("real shapes do not score as real: %v (noise: %v)", refs.Real, refs.Noise)
	}

	path := filepath.Join(t.TempDir(), "judge.safetensors")
	c.Meta = map[string]string{"data": "shapes"}
	if err := c.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	d, err := LoadClassifierFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Config(), c.Config(); !slices.Equal(got.ClassNames, want.ClassNames) || got.Channels != 3 || got.Height != 16 || got.Classes != 4 || got.Filters != 16 {
		t.Errorf("loaded config %+v, saved %+v", got, want)
	}
	if len(d.Meta) != 1 || d.Meta["data"] != "shapes" {
		t.Errorf("metadata %v, want only data=shapes", d.Meta)
	}
	s1, err := Score(ctx, c, test.Images[:100*test.Dim()], 100)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Score(ctx, d, test.Images[:100*test.Dim()], 100)
	if err != nil {
		t.Fatal(err)
	}
	if s1.FD != s2.FD || s1.Confidence != s2.Confidence {
		t.Errorf("scores differ after a round trip: %v and %v", s1, s2)
	}

	// Wrong data for this judge: MNIST digits, unlabelled images, labels
	// past its classes.
	digits, err := datasets.LoadMNIST(ctx, datasets.Test, datasets.MNISTConfig{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	unlabelled := *train
	unlabelled.Labels = nil
	many := *train
	many.Labels = slices.Clone(train.Labels)
	many.Labels[7] = 4
	for name, set := range map[string]*datasets.ImageSet{"digits": digits.ImageSet(), "unlabelled": &unlabelled, "label 4": &many} {
		if _, err := Train(ctx, c, set, nil, TrainConfig{Epochs: 1}); !errors.Is(err, ErrInput) {
			t.Errorf("training on %s: %v, want ErrInput", name, err)
		}
	}
	if _, err := Score(ctx, c, digits.Images, 20); !errors.Is(err, ErrInput) {
		t.Errorf("scoring digits with the shapes judge: %v, want ErrInput", err)
	}
	var buf bytes.Buffer
	if err := d.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadClassifier(&buf); err != nil {
		t.Fatal(err)
	}
}

// A classifier file whose architecture metadata is malformed is refused
// as a bad format; one without it is MNIST's.
func TestFileConfig(t *testing.T) {
	cfg, err := fileConfig(map[string]string{})
	if err != nil || cfg.Channels != 0 || cfg.Classes != 0 {
		t.Errorf("no metadata: %+v, %v; want the zero (MNIST) config", cfg, err)
	}
	cfg, err = fileConfig(map[string]string{shapeKey: "3,32,32", classesKey: "10", namesKey: `["a","b"]`, filtersKey: "8"})
	if err != nil || cfg.Channels != 3 || cfg.Width != 32 || cfg.Classes != 10 || len(cfg.ClassNames) != 2 || cfg.Filters != 8 {
		t.Errorf("got %+v, %v", cfg, err)
	}
	for _, m := range []map[string]string{
		{shapeKey: "3,32"}, {shapeKey: "3,x,32"}, {shapeKey: "0,32,32"}, {classesKey: "-2"}, {filtersKey: "many"}, {namesKey: "[1,"},
	} {
		if _, err := fileConfig(m); !errors.Is(err, nn.ErrBadFormat) {
			t.Errorf("%v: %v, want nn.ErrBadFormat", m, err)
		}
	}
}
