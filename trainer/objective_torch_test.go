package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/nn"
)

// TestObjectivesAgainstPyTorch computes every objective's loss and
// θ-gradient in float32 on the Go path and has PyTorch recompute them on
// the same weights and inputs with double backward (create_graph=True),
// testdata/objectives_torch.py: MLPs with every activation, the MNIST CNN
// and its noise-conditional form, at batch sizes that take the fast float32
// paths (tiled Linear layers, sample-minor convolutions). The loss must
// agree to 2e-5 and every gradient to 5e-5 of its largest entry (measured: at most 8e-6); a control
// case with one gradient entry moved by 1 % of that must be reported as a
// mismatch. Skipped with -short and where /usr/bin/python3 cannot import
// torch (apt install python3-torch).
func TestObjectivesAgainstPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PyTorch")
	}
	const python = "/usr/bin/python3"
	probe := "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"
	if err := exec.Command(python, "-c", probe).Run(); err != nil {
		t.Skipf("%s cannot import torch: %v", python, err)
	}
	type arch struct {
		name  string
		build func(*rand.Rand) graph.Model
		shape []int
		batch int
	}
	var archs []arch
	acts := []struct {
		name string
		fn   func() *nn.Activation
	}{{"silu", nn.SiLU}, {"sigmoid", nn.Sigmoid}, {"tanh", nn.Tanh}, {"softplus", nn.Softplus},
		{"elu", func() *nn.Activation { return nn.ELU(1) }}, {"leakyrelu", func() *nn.Activation { return nn.LeakyReLU(0.2) }}}
	for _, a := range acts {
		archs = append(archs, arch{"mlp_" + a.name, func(rng *rand.Rand) graph.Model { return nn.NewMLP(rng, a.fn, 2, 8, 8, 1) }, []int{2}, 32})
	}
	cnn := arch{"mnist_cnn4", func(rng *rand.Rand) graph.Model { return nn.NewMNISTCNN(rng, 4) }, []int{1, 28, 28}, 16}
	noise := arch{"mnist_noise_cnn4", func(rng *rand.Rand) graph.Model { return nn.NewMNISTNoiseCNN(rng, 4) }, []int{1, 28, 28}, 16}
	ladder := DenoisingScoreMatching{Levels: 4, SigmaMax: 1, SigmaMin: 0.05}
	icd := ImprovedCD{KL: 0.5, KLStep: 0.05, KLNoise: 0.01}
	type tcase struct {
		a   arch
		obj Objective
	}
	var cases []tcase
	for _, a := range archs {
		for _, o := range []Objective{ScoreMatching{}, SlicedScoreMatching{Projections: 2},
			SlicedScoreMatching{Projections: 2, Rademacher: true, NoVarianceReduction: true}, ladder, NCE{Ratio: 2}, icd} {
			cases = append(cases, tcase{a, o})
		}
	}
	for _, o := range []Objective{SlicedScoreMatching{}, ladder, NCE{}, icd} {
		cases = append(cases, tcase{cnn, o})
	}
	cond := ladder
	cond.Conditional = true
	cases = append(cases, tcase{noise, cond})

	dir := t.TempDir()
	var args []string
	for i, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(i), 17))
		m := c.a.build(rng)
		dim := 1
		for _, d := range c.a.shape {
			dim *= d
		}
		data := &sliceData{x: make([]float64, 4*c.a.batch*dim), dim: dim, size: c.a.batch}
		for j := range data.x {
			data.x[j] = 0.5 * rng.NormFloat64()
		}
		tr, err := New(m, data, Config{Shape: c.a.shape, Iterations: 1, Adam: optimAdam(1e-3), Alpha: 0.1, Objective: c.obj, Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		data.Next(tr.xpos, nil)
		for j := range tr.xneg {
			tr.xneg[j] = 0.5 * rng.NormFloat64()
		}
		p := tr.plan
		if err := p.fill(tr, &p.batch); err != nil {
			t.Fatal(err)
		}
		for _, q := range p.loss.Params {
			q.SetFloat64s([]float64{0.3})
		}
		g := tr.backend.(*goBackend)
		loss, err := g.loss.Run(append(append([][]float64(nil), p.batch.Inputs...), p.batch.Aux...)...)
		if err != nil {
			t.Fatal(err)
		}
		var ts []safetensors.Tensor
		for k, q := range g.loss.Params() {
			ts = append(ts, safetensors.Float32Tensor("param/"+q.Name, q.Shape(), q.Value.Data().([]float32)),
				safetensors.Float32Tensor("grad/"+q.Name, q.Shape(), g.loss.Grads()[k].Data().([]float32)))
		}
		for k, x := range p.batch.Inputs {
			ts = append(ts, safetensors.Float64Tensor(fmt.Sprint("input/", k), fullShape(p.loss.Batches[k], c.a.shape), x))
		}
		for k, x := range p.batch.Aux {
			ts = append(ts, safetensors.Float64Tensor(fmt.Sprint("aux/", k), p.loss.Aux[k], x))
		}
		ts = append(ts, safetensors.Float64Tensor("loss", []int{1}, []float64{loss}))
		conf, _ := json.Marshal(c.obj)
		meta := map[string]string{"arch": c.a.name, "objective": c.obj.Name(), "config": string(conf),
			"inputs": strconv.Itoa(len(p.batch.Inputs)), "aux": strconv.Itoa(len(p.batch.Aux)), "alpha": "0.1"}
		path := filepath.Join(dir, fmt.Sprintf("case%02d.safetensors", i))
		if err := safetensors.WriteFile(path, ts, meta); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
		if i == 0 { // the control: one gradient entry moved by 1 % of the largest
			gr := g.loss.Grads()[0].Data().([]float32)
			big := float32(0)
			for _, v := range gr {
				big = max(big, v, -v)
			}
			gr[0] += 0.01 * big
			for k := range ts {
				if ts[k].Name == "grad/"+g.loss.Params()[0].Name {
					ts[k] = safetensors.Float32Tensor(ts[k].Name, g.loss.Params()[0].Shape(), gr)
				}
			}
			control := filepath.Join(dir, "control.safetensors")
			if err := safetensors.WriteFile(control, ts, meta); err != nil {
				t.Fatal(err)
			}
			args = append(args, control)
		}
		tr.Close()
	}
	cmd := exec.Command(python, append([]string{"testdata/objectives_torch.py"}, args...)...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=PASSIVE")
	out, err := cmd.CombinedOutput()
	t.Logf("objectives_torch.py:\n%s", bytes.TrimSpace(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(args) {
		t.Fatalf("objectives_torch.py printed %d lines for %d cases (%v)", len(lines), len(args), err)
	}
	for i, l := range lines {
		control := strings.HasSuffix(args[i], "control.safetensors")
		if want := map[bool]string{false: "ok ", true: "MISMATCH "}[control]; !strings.HasPrefix(l, want) {
			t.Errorf("%q, want it to start with %q", l, want)
		}
	}
}
