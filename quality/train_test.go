package quality

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
)

func TestShift(t *testing.T) {
	src := make([]float64, Pixels)
	for i := range src {
		src[i] = float64(i)
	}
	dst := make([]float64, Pixels)
	for _, d := range [][2]int{{0, 0}, {2, -1}, {-2, 2}, {1, 1}, {-28, 0}} {
		dr, dc := d[0], d[1]
		Shift(dst, src, []int{1, Side, Side}, dr, dc, -1)
		for r := range Side {
			for c := range Side {
				want := -1.0
				if sr, sc := r-dr, c-dc; sr >= 0 && sr < Side && sc >= 0 && sc < Side {
					want = src[sr*Side+sc]
				}
				if dst[r*Side+c] != want {
					t.Fatalf("shift (%d, %d): pixel (%d, %d) = %v, want %v", dr, dc, r, c, dst[r*Side+c], want)
				}
			}
		}
	}
}

// The training loss is the mean cross-entropy −log softmax(z)_y: its value
// against a direct computation and its gradient, in float64, against
// central differences for a sample of every parameter tensor's entries.
func TestCrossEntropyLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	c := NewClassifier(rng)
	graph.Cast(c.Net, graph.Float64)
	const n = 3
	l, err := graph.NewLoss(c.Net, graph.LossConfig{Shape: []int{1, Side, Side}, Batches: []int{n}, Raw: true,
		Aux: [][]int{{n, Classes}}}, crossEntropy(n))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, n*Pixels)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	labels := []int{3, 0, 9}
	onehot := make([]float64, n*Classes)
	for i, y := range labels {
		onehot[i*Classes+y] = 1
	}
	loss, err := l.Run(x, onehot)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for i, y := range labels {
		z := l.F(0)[i*Classes : (i+1)*Classes]
		lse := 0.0
		for _, v := range z {
			lse += math.Exp(v)
		}
		want -= (z[y] - math.Log(lse)) / n
	}
	if math.Abs(loss-want) > 1e-12 {
		t.Fatalf("loss %.15g, want %.15g", loss, want)
	}
	for i, p := range l.Params() {
		g := append([]float64(nil), l.Grads()[i].Data().([]float64)...)
		v := p.Value.Data().([]float64)
		idx := rng.Perm(len(v))[:min(8, len(v))]
		sub := make([]float64, len(idx))
		gsub := make([]float64, len(idx))
		for k, j := range idx {
			sub[k], gsub[k] = v[j], g[j]
		}
		f := func(s []float64) float64 {
			for k, j := range idx {
				v[j] = s[k]
			}
			r, err := l.Run(x, onehot)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if err := gradcheck.Check(p.Name, f, sub, gsub, 1e-5, 1e-6); err != nil {
			t.Error(err)
		}
	}
}

// A short run on a few thousand digits learns: the loss falls and the
// test accuracy is far above chance. The first run's progress reports are
// checked for consistency. Cancelling the context stops training.
func TestTrainLearns(t *testing.T) {
	ctx := context.Background()
	train, err := datasets.LoadMNIST(ctx, datasets.Train, datasets.MNISTConfig{Limit: 3000})
	if err != nil {
		t.Fatal(err)
	}
	test, err := datasets.LoadMNIST(ctx, datasets.Test, datasets.MNISTConfig{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClassifier(rand.New(rand.NewPCG(6, 6)))
	var reports []TrainProgress
	res, err := Train(ctx, c, train.ImageSet(), test.ImageSet(), TrainConfig{Epochs: 2, Batch: 50, MaxShift: 1, LogEvery: 20,
		Progress: func(p TrainProgress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 120 || len(reports) != 6 {
		t.Fatalf("%d steps and %d reports, want 120 and 6: %+v", res.Steps, len(reports), reports)
	}
	first, last := reports[0], reports[len(reports)-1]
	if !last.EpochEnd || last.TestAccuracy != res.TestAccuracy || last.Step != 120 || last.Steps != 120 {
		t.Errorf("last report %+v does not match the result %+v", last, res)
	}
	if !(last.Loss < first.Loss/2) {
		t.Errorf("loss went from %.3f to %.3f", first.Loss, last.Loss)
	}
	// Chance is 0.1; 3000 digits seen twice give well over 0.8.
	if res.TestAccuracy < 0.8 {
		t.Errorf("test accuracy %.3f after a short run, want > 0.8", res.TestAccuracy)
	}

	cctx, cancel := context.WithCancel(ctx)
	steps := 0
	_, err = Train(cctx, c, train.ImageSet(), nil, TrainConfig{Epochs: 1, Batch: 50, LogEvery: 5, Progress: func(p TrainProgress) {
		steps = p.Step
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || steps != 5 {
		t.Errorf("cancelled after step %d: error %v, want context.Canceled after step 5", steps, err)
	}

	unit, err := datasets.LoadMNIST(ctx, datasets.Test, datasets.MNISTConfig{Limit: 10, Range: datasets.Unit})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(ctx, c, unit.ImageSet(), nil, TrainConfig{}); !errors.Is(err, ErrInput) {
		t.Errorf("training on [0, 1] images: error %v, want ErrInput", err)
	}
}
