//go:build torch

package torch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
)

// objectiveBatch draws a Batch of the layout obj documents, for n samples
// of dimension d.
func objectiveBatch(t *testing.T, rng *rand.Rand, obj trainer.Objective, n, d int) *trainer.Batch {
	t.Helper()
	full := func() []float64 { return randn(rng, n*d) }
	switch o := obj.(type) {
	case trainer.ScoreMatching:
		return &trainer.Batch{Inputs: [][]float64{full()}}
	case trainer.SlicedScoreMatching:
		b := &trainer.Batch{Inputs: [][]float64{full()}}
		for range max(o.Projections, 1) {
			b.Aux = append(b.Aux, full())
		}
		return b
	case trainer.DenoisingScoreMatching:
		sig, sig1 := make([]float64, n*d), make([]float64, n)
		for i := range n {
			sig1[i] = 0.05 + rng.Float64()
			for j := range d {
				sig[i*d+j] = sig1[i]
			}
		}
		return &trainer.Batch{Inputs: [][]float64{full()}, Aux: [][]float64{full(), sig, sig1}}
	case trainer.NCE:
		nu := max(o.Ratio, 1)
		y := randn(rng, nu*n*d)
		lx, ly := make([]float64, n), make([]float64, nu*n)
		b := &trainer.Batch{Inputs: [][]float64{full(), y}, Aux: [][]float64{lx, ly}}
		for i := range lx {
			lx[i] = -rng.Float64() * 3
		}
		for i := range ly {
			ly[i] = -rng.Float64() * 3
		}
		return b
	case trainer.ImprovedCD:
		b := &trainer.Batch{Inputs: [][]float64{full(), full()}}
		if o.KL > 0 {
			xi := full()
			for i := range xi {
				xi[i] *= 0.01
			}
			b.Aux = [][]float64{xi}
		}
		return b
	}
	t.Fatalf("no batch for %T", obj)
	return nil
}

// TestObjectivesMatchGo computes every objective's loss and θ-gradient
// by libtorch's double backward (Model.ObjectiveLoss) and by the Go
// backend's graph (trainer.NewObjectiveLoss) on the same weights and
// batch: float64 to 1e-10, float32 to 1e-5 of the largest gradient entry,
// on an MLP and a CNN at batch sizes that take the Go side's fast float32
// paths.
func TestObjectivesMatchGo(t *testing.T) {
	gauss, err := energy.NewDiagGaussian(make([]float64, 2), []float64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	objs := []trainer.Objective{
		trainer.ScoreMatching{},
		trainer.SlicedScoreMatching{Projections: 2},
		trainer.SlicedScoreMatching{Projections: 2, Rademacher: true, NoVarianceReduction: true},
		trainer.DenoisingScoreMatching{Levels: 3, SigmaMax: 1, SigmaMin: 0.1},
		trainer.NCE{Ratio: 2, Noise: gauss},
		trainer.ImprovedCD{KL: 0.5, KLStep: 0.05},
		trainer.ImprovedCD{},
	}
	type arch struct {
		name  string
		build func(*rand.Rand) graph.Model
		shape []int
		n     int
	}
	archs := []arch{
		{"mlp", func(rng *rand.Rand) graph.Model { return nn.NewMLP(rng, nn.SiLU, 2, 16, 16, 1) }, []int{2}, 32},
		{"cnn", func(rng *rand.Rand) graph.Model {
			return nn.NewSequential(
				nn.NewConv2d(rng, 1, 4, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.Softplus(),
				nn.NewConv2d(rng, 4, 4, 3, nn.Conv2dConfig{Stride: 1, Padding: 1}), nn.ELU(1),
				nn.Flatten{}, nn.NewLinear(rng, 4*4*4, 8), nn.Tanh(), nn.NewLinear(rng, 8, 1))
		}, []int{1, 8, 8}, 16},
	}
	for _, a := range archs {
		for _, obj := range objs {
			if _, ok := obj.(trainer.NCE); ok && a.name != "mlp" {
				continue // the noise density is 2-D
			}
			if _, ok := obj.(trainer.ScoreMatching); ok && a.name != "mlp" {
				continue // 64 Hessian–vector products: the MLP covers it
			}
			for _, dt := range []string{"float64", "float32"} {
				t.Run(fmt.Sprintf("%s/%s%+v/%s", a.name, obj.Name(), obj, dt), func(t *testing.T) {
					defer noLeak(t)()
					build := func() graph.Model {
						m := a.build(rand.New(rand.NewPCG(3, 4)))
						if dt == "float64" {
							graph.Cast(m, graph.Float64)
						}
						return m
					}
					mg, mt := build(), build()
					gl, err := trainer.NewObjectiveLoss(mg, obj, a.shape, a.n, 0.1)
					if err != nil {
						t.Fatal(err)
					}
					extra := gl.Params()[len(mg.Params()):]
					for _, p := range extra {
						p.SetFloat64s([]float64{0.3})
					}
					d := 1
					for _, s := range a.shape {
						d *= s
					}
					b := objectiveBatch(t, rand.New(rand.NewPCG(9, 9)), obj, a.n, d)
					want, err := gl.Run(append(append([][]float64(nil), b.Inputs...), b.Aux...)...)
					if err != nil {
						t.Fatal(err)
					}
					tm, err := NewModel(mt, a.shape, testDev)
					if err != nil {
						t.Fatal(err)
					}
					defer tm.Close()
					got, grads, err := tm.ObjectiveLoss(obj, 0.1, b, extra)
					if err != nil {
						t.Fatal(err)
					}
					tol := 1e-10
					if dt == "float32" {
						tol = 1e-5
					}
					if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
						t.Errorf("loss: libtorch %.10g, Go %.10g", got, want)
					}
					for i, p := range gl.Params() {
						ref := p.Float64s(nil) // reuse for the gradient's shape
						g := gl.Grads()[i]
						switch v := g.Data().(type) {
						case []float64:
							copy(ref, v)
						case []float32:
							for j, x := range v {
								ref[j] = float64(x)
							}
						}
						scale := 1e-3
						for _, v := range ref {
							scale = math.Max(scale, math.Abs(v))
						}
						for j := range ref {
							if e := math.Abs(grads[i][j]-ref[j]) / scale; e > tol {
								t.Errorf("∂/∂%s[%d]: libtorch %.8g, Go %.8g (error %.2g of the largest)", p.Name, j, grads[i][j], ref[j], e)
								break
							}
						}
					}
				})
			}
		}
	}
}

// TestBackendTrainsObjectives runs trainer.Trainer with the torch Backend
// and with the Go backend on the same DSM and NCE problems for a few
// iterations, in float64: the same batches (drawn by the trainer), the
// same updates.
func TestBackendTrainsObjectives(t *testing.T) {
	gauss, err := energy.NewDiagGaussian(make([]float64, 2), []float64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []trainer.Objective{
		trainer.DenoisingScoreMatching{Sigma: 0.2},
		trainer.SlicedScoreMatching{Rademacher: true},
		trainer.NCE{Noise: gauss, Ratio: 2},
	} {
		t.Run(obj.Name(), func(t *testing.T) {
			defer noLeak(t)()
			run := func(backend trainer.Backend) ([]trainer.Metrics, [][]float64) {
				rng := rand.New(rand.NewPCG(1, 2))
				m := nn.NewMLP(rng, nn.SiLU, 2, 16, 1)
				graph.Cast(m, graph.Float64)
				data, err := datasets.NewBatches(randn(rng, 512), 2, datasets.BatchConfig{Size: 32, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := trainer.New(m, data, trainer.Config{Shape: []int{2}, Iterations: 5, Objective: obj,
					Adam: optim.AdamConfig{LR: 1e-2, Beta2: 0.999}, ClipGradNorm: 1, Seed: 3, Backend: backend})
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				if err := tr.Run(t.Context()); err != nil {
					t.Fatal(err)
				}
				if err := tr.SyncModel(); err != nil {
					t.Fatal(err)
				}
				var ps [][]float64
				for _, p := range m.Params() {
					ps = append(ps, p.Float64s(nil))
				}
				return tr.History(), ps
			}
			hg, pg := run(nil)
			ht, pt := run(NewBackend(BackendConfig{Device: testDev}))
			for i := range hg {
				if math.Abs(hg[i].Loss-ht[i].Loss) > 1e-9*math.Max(1, math.Abs(hg[i].Loss)) || math.Abs(hg[i].LogZ-ht[i].LogZ) > 1e-9 {
					t.Errorf("iteration %d: Go loss %.12g log Z %.12g, libtorch %.12g, %.12g", i+1, hg[i].Loss, hg[i].LogZ, ht[i].Loss, ht[i].LogZ)
				}
			}
			for i := range pg {
				for j := range pg[i] {
					if math.Abs(pg[i][j]-pt[i][j]) > 1e-9 {
						t.Fatalf("parameter %d[%d]: Go %.12g, libtorch %.12g", i, j, pg[i][j], pt[i][j])
					}
				}
			}
		})
	}
}
