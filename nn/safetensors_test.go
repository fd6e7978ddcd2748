package nn_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// smallCNN is torchref.small_cnn() of nn/testdata/torchref.py.
func smallCNN(rng *rand.Rand) *nn.Sequential {
	return nn.NewSequential(
		nn.NewConv2d(rng, 1, 4, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.SiLU(),
		nn.Flatten{},
		nn.NewLinear(rng, 4*4*4, 16), nn.SiLU(),
		nn.NewLinear(rng, 16, 1),
	)
}

type torchRef struct {
	x, f64, grad64, f32, grad32 []float64
}

func readRef(t *testing.T, path string) torchRef {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	get := func(name string) []float64 {
		v, err := f.Float64s(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return torchRef{get("x"), get("f64"), get("grad64"), get("f32"), get("grad32")}
}

// energies returns f and ∇x(Σf) of m on x, a batch of samples of shape.
func energies(t *testing.T, m graph.Model, shape []int, x []float64) (f, g []float64) {
	t.Helper()
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape})
	if err != nil {
		t.Fatal(err)
	}
	f = make([]float64, len(x)/e.Dim())
	g = make([]float64, len(x))
	if err := e.FGrad(f, g, x); err != nil {
		t.Fatal(err)
	}
	return f, g
}

// maxRelErr returns max|got−want| / max(|want|∞, floor).
func maxRelErr(got, want []float64, floor float64) float64 {
	scale := floor
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	e := 0.0
	for i := range want {
		e = math.Max(e, math.Abs(got[i]-want[i])/scale)
	}
	if len(got) != len(want) {
		return math.Inf(1)
	}
	return e
}

// TestTorchInterop loads state_dicts PyTorch saved (make_torch.py) into
// the same architectures built with nn, and compares energies and input
// gradients with torch's: float64 against torch in float64 (same
// float32-representable weights), and float32 against torch in float32.
func TestTorchInterop(t *testing.T) {
	for _, tc := range []struct {
		name, model, io string
		build           func(*rand.Rand) *nn.Sequential
		shape           []int
	}{
		{"small_cnn", "torch_model.safetensors", "torch_io.safetensors", smallCNN, []int{1, 8, 8}},
		{"mnist_cnn4", "torch_mnist_cnn.safetensors", "torch_mnist_cnn_io.safetensors",
			func(rng *rand.Rand) *nn.Sequential { return nn.NewMNISTCNN(rng, 4) }, []int{1, 28, 28}},
		{"cnn_rgb", "torch_cnn_rgb.safetensors", "torch_cnn_rgb_io.safetensors",
			func(rng *rand.Rand) *nn.Sequential {
				return must(nn.NewCNN(rng, nn.CNNConfig{Channels: 3, Height: 32, Width: 32, Hidden: 4}))
			}, []int{3, 32, 32}},
		{"resnet", "torch_resnet.safetensors", "torch_resnet_io.safetensors",
			func(rng *rand.Rand) *nn.Sequential {
				return must(nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 16, Width: 12, Filters: 4, Stages: 3, Blocks: 2}))
			}, []int{3, 16, 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := readRef(t, filepath.Join("testdata", tc.io))
			m := tc.build(rand.New(rand.NewPCG(1, 2)))
			if err := nn.LoadFile(filepath.Join("testdata", tc.model), m); err != nil {
				t.Fatal(err)
			}
			f32, g32 := energies(t, m, tc.shape, ref.x)
			graph.Cast(m, graph.Float64)
			f64, g64 := energies(t, m, tc.shape, ref.x)
			for _, c := range []struct {
				what      string
				got, want []float64
				tol       float64
			}{
				{"f, float64", f64, ref.f64, 1e-12},
				{"∇x f, float64", g64, ref.grad64, 1e-12},
				{"f, float64 vs torch float32", f64, ref.f32, 1e-5},
				{"∇x f, float64 vs torch float32", g64, ref.grad32, 1e-5},
				{"f, float32", f32, ref.f32, 1e-5},
				{"∇x f, float32", g32, ref.grad32, 1e-5},
			} {
				e := maxRelErr(c.got, c.want, 1e-3)
				t.Logf("%-32s max rel. error %.2g", c.what, e)
				if !(e <= c.tol) {
					t.Errorf("%s: max relative error %.3g exceeds %.0g\n got %.8g\nwant %.8g", c.what, e, c.tol, c.got[:3], c.want[:3])
				}
			}
			checkParamGrads(t, m, tc.shape, ref.x, filepath.Join("testdata", tc.io))
		})
	}
}

// checkParamGrads compares ∇θ of Σf over the batch x, in float64, with
// torch's "dparam.NAME" tensors of the io file, where it has them.
func checkParamGrads(t *testing.T, m graph.Model, shape []int, x []float64, io string) {
	t.Helper()
	f, err := safetensors.Open(io)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := f.Info("dparam." + m.Params()[0].Name); !ok {
		return
	}
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	n := len(x) / dim
	sumF := func(b *graph.Builder, f []*G.Node) (*G.Node, error) { return G.Sum(f[0]) }
	l, err := graph.NewLoss(m, graph.LossConfig{Shape: shape, Batches: []int{n}}, sumF)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Run(x); err != nil {
		t.Fatal(err)
	}
	for i, p := range l.Params() {
		want, err := f.Float64s("dparam."+p.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := l.Grads()[i].Data().([]float64)
		if e := maxRelErr(got, want, 1e-3); !(e <= 1e-11) {
			t.Errorf("∇θ %s, float64: max relative error %.3g against torch", p.Name, e)
		}
	}
	t.Logf("∇θ of %d parameters match torch's", len(l.Params()))
}

// TestLoadBF16 loads a BF16 state_dict into float32 and float64 models:
// every value must be the F32 weight rounded to 8 significant bits.
func TestLoadBF16(t *testing.T) {
	ref := smallCNN(rand.New(rand.NewPCG(1, 2)))
	if err := nn.LoadFile("testdata/torch_model.safetensors", ref); err != nil {
		t.Fatal(err)
	}
	for _, dt := range []tensor.Dtype{graph.Float32, graph.Float64} {
		m := smallCNN(rand.New(rand.NewPCG(3, 4)))
		graph.Cast(m, dt)
		if err := nn.LoadFile("testdata/torch_model_bf16.safetensors", m); err != nil {
			t.Fatal(err)
		}
		for i, p := range m.Params() {
			want := ref.Params()[i].Float64s(nil)
			for j, v := range p.Float64s(nil) {
				if math.Abs(v-want[j]) > math.Abs(want[j])/256 || float64(float32(v)) != v || math.Float32bits(float32(v))&0xffff != 0 {
					t.Fatalf("%v %s[%d] = %v, want %v rounded to bfloat16", dt, p.Name, j, v, want[j])
				}
			}
		}
	}
}

func snapshot(m graph.Model) [][]float64 {
	var s [][]float64
	for _, p := range m.Params() {
		s = append(s, p.Float64s(nil))
	}
	return s
}

func sameParams(a, b [][]float64) bool {
	return slices.EqualFunc(a, b, func(x, y []float64) bool { return slices.Equal(x, y) })
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		model tensor.Dtype
		saver nn.Saver
		exact bool
		dtype safetensors.Dtype
	}{
		{"float32", graph.Float32, nn.Saver{}, true, safetensors.F32},
		{"float64", graph.Float64, nn.Saver{}, true, safetensors.F64},
		{"float64 as F32", graph.Float64, nn.Saver{Dtype: graph.Float32}, false, safetensors.F32},
		{"float32 as F64", graph.Float32, nn.Saver{Dtype: graph.Float64, Metadata: map[string]string{"step": "100"}}, true, safetensors.F64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := smallCNN(rand.New(rand.NewPCG(5, 6)))
			graph.Cast(src, tc.model)
			if tc.model == graph.Float64 { // values float32 cannot hold
				for _, p := range src.Params() {
					v := p.Float64s(nil)
					for i := range v {
						v[i] += 1e-12
					}
					p.SetFloat64s(v)
				}
			}
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			if err := tc.saver.SaveFile(path, src); err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if info, _ := f.Info("0.weight"); info.Dtype != tc.dtype || !slices.Equal(info.Shape, []int{4, 1, 3, 3}) {
				t.Errorf("0.weight stored as %s %v", info.Dtype, info.Shape)
			}
			meta := f.Metadata()
			f.Close()
			if meta["format"] != "pt" || meta["step"] != tc.saver.Metadata["step"] {
				t.Errorf("metadata %v", meta)
			}
			for _, dst := range []tensor.Dtype{graph.Float32, graph.Float64} {
				m := smallCNN(rand.New(rand.NewPCG(7, 8)))
				graph.Cast(m, dst)
				if err := nn.LoadFile(path, m); err != nil {
					t.Fatal(err)
				}
				for i, p := range m.Params() {
					want := src.Params()[i].Float64s(nil)
					got := p.Float64s(nil)
					for j := range want {
						w := want[j]
						if !tc.exact || dst == graph.Float32 {
							w = float64(float32(w))
						}
						if got[j] != w {
							t.Fatalf("load into %v: %s[%d] = %v, want %v", dst, p.Name, j, got[j], w)
						}
					}
				}
			}
			// Save to a writer gives the same bytes as SaveFile.
			var buf bytes.Buffer
			if err := tc.saver.Save(&buf, src); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, buf.Bytes()) {
				t.Error("Save and SaveFile wrote different bytes")
			}
			m := smallCNN(rand.New(rand.NewPCG(9, 9)))
			if err := nn.Load(bytes.NewReader(buf.Bytes()), int64(buf.Len()), m); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLoadErrors checks that a file that does not fit the model gives an
// error naming the file, the tensor and both shapes, and leaves the model
// unchanged.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	src := smallCNN(rand.New(rand.NewPCG(1, 1)))
	good := filepath.Join(dir, "good.safetensors")
	if err := nn.SaveFile(good, src); err != nil {
		t.Fatal(err)
	}
	goodBytes, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tensors := func(edit func([]safetensors.Tensor) []safetensors.Tensor) []byte {
		f, err := safetensors.Open(good)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var ts []safetensors.Tensor
		for _, info := range f.Tensors() {
			b, _ := f.Bytes(info.Name)
			ts = append(ts, safetensors.Tensor{Name: info.Name, Dtype: info.Dtype, Shape: info.Shape, Data: b})
		}
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, edit(ts), nil); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	drop := func(name string) func([]safetensors.Tensor) []safetensors.Tensor {
		return func(ts []safetensors.Tensor) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(t safetensors.Tensor) bool { return t.Name == name })
		}
	}
	bigger := smallCNN(rand.New(rand.NewPCG(1, 1)))
	bigger.Layers[0] = nn.NewConv2d(rand.New(rand.NewPCG(1, 1)), 1, 8, 3, nn.Conv2dConfig{Stride: 2, Padding: 1})
	graph.Prefix("0", bigger.Layers[0].Params())
	var biggerBuf bytes.Buffer
	if err := nn.Save(&biggerBuf, bigger); err != nil {
		t.Fatal(err)
	}
	corrupt := slices.Clone(goodBytes)
	copy(corrupt[8:], `[`)

	for _, tc := range []struct {
		name     string
		path     string
		sentinel error
		want     []string
	}{
		{"missing", write("missing.safetensors", tensors(drop("3.bias"))), nn.ErrMismatch,
			[]string{"missing.safetensors", `missing from the file: "3.bias" (16)`}},
		{"unexpected", write("extra.safetensors", tensors(func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.Float32Tensor("6.weight", []int{2}, []float32{1, 2}))
		})), nn.ErrMismatch, []string{"extra.safetensors", `not in the model: "6.weight" (2)`}},
		{"shape", write("shape.safetensors", biggerBuf.Bytes()), nn.ErrMismatch,
			[]string{"shape.safetensors", `tensor "0.weight" has shape (8, 1, 3, 3) in the file and (4, 1, 3, 3) in the model`,
				`tensor "0.bias" has shape (8) in the file and (4) in the model`}},
		{"dtype", write("dtype.safetensors", tensors(func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "5.bias" {
					ts[i].Dtype = safetensors.F8E4M3
					ts[i].Data = ts[i].Data[:1]
				}
			}
			return ts
		})), nn.ErrMismatch, []string{`tensor "5.bias" has dtype F8_E4M3, which does not convert`}},
		{"truncated", write("truncated.safetensors", goodBytes[:len(goodBytes)-3]), nn.ErrBadFormat,
			[]string{"truncated.safetensors", `tensor "5.weight"`, "truncated file"}},
		{"truncated header", write("short.safetensors", goodBytes[:100]), nn.ErrBadFormat,
			[]string{"short.safetensors", "header length"}},
		{"corrupt", write("corrupt.safetensors", corrupt), nn.ErrBadFormat,
			[]string{"corrupt.safetensors", "header"}},
		{"empty", write("empty.safetensors", nil), nn.ErrBadFormat, []string{"empty.safetensors", "too short"}},
		{"not there", filepath.Join(dir, "nope.safetensors"), os.ErrNotExist, []string{"nope.safetensors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := smallCNN(rand.New(rand.NewPCG(2, 2)))
			before := snapshot(m)
			err := nn.LoadFile(tc.path, m)
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("error %v, want one wrapping %v", err, tc.sentinel)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if !sameParams(before, snapshot(m)) {
				t.Error("the model changed although loading failed")
			}
		})
	}

	// Partial loading tolerates missing and extra tensors, not bad shapes.
	m := smallCNN(rand.New(rand.NewPCG(2, 2)))
	before := snapshot(m)
	if err := (nn.Loader{Partial: true}).LoadFile(filepath.Join(dir, "missing.safetensors"), m); err != nil {
		t.Fatal(err)
	}
	after, want := snapshot(m), snapshot(src)
	for i, p := range m.Params() {
		exp := want[i]
		if p.Name == "3.bias" {
			exp = before[i]
		}
		if !slices.Equal(after[i], exp) {
			t.Errorf("partial load: %s is wrong", p.Name)
		}
	}
	if err := (nn.Loader{Partial: true}).LoadFile(filepath.Join(dir, "extra.safetensors"), m); err != nil {
		t.Fatal(err)
	}
	if err := (nn.Loader{Partial: true}).LoadFile(filepath.Join(dir, "shape.safetensors"), m); !errors.Is(err, nn.ErrMismatch) {
		t.Errorf("partial load with a wrong shape: %v", err)
	}
}

func TestSaveFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	m := smallCNN(rand.New(rand.NewPCG(1, 1)))
	if err := nn.SaveFile(path, m); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	// Two parameters with one name cannot be saved; the old file stays.
	dup := nn.NewSequential(nn.NewLinear(rand.New(rand.NewPCG(1, 1)), 2, 2))
	dup.Layers = append(dup.Layers, dup.Layers[0])
	err := nn.SaveFile(path, dup)
	if err == nil || !strings.Contains(err.Error(), "0.weight") || !strings.Contains(err.Error(), path) {
		t.Fatalf("saving duplicate names: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Error("a failed save changed the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}
	// An unsupported Saver.Dtype is an error, and the old file stays.
	if err := (nn.Saver{Dtype: tensor.Int32}).SaveFile(path, m); err == nil || !strings.Contains(err.Error(), "Saver.Dtype") {
		t.Errorf("Saver{Dtype: Int32}: %v, want an error", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Error("a save with a bad dtype changed the file")
	}
}

// TestTorchReadsOurFiles saves ebm models and has PyTorch load them with
// load_state_dict(strict=True) and recompute the energies and gradients
// (nn/testdata/check_torch.py). A control case with energies perturbed by
// 1e-6 must be reported as a mismatch. It is skipped with -short and where
// /usr/bin/python3 cannot import torch (apt install python3-torch).
func TestTorchReadsOurFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PyTorch")
	}
	const python = "/usr/bin/python3"
	// find_spec locates torch without paying for its import.
	probe := "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"
	if err := exec.Command(python, "-c", probe).Run(); err != nil {
		t.Skipf("%s cannot import torch: %v", python, err)
	}
	dir := t.TempDir()
	var args []string
	for _, tc := range []struct {
		arch  string
		build func(*rand.Rand) *nn.Sequential
		shape []int
		n     int
	}{
		{"small_cnn", smallCNN, []int{1, 8, 8}, 4},
		{"mnist_cnn4", func(rng *rand.Rand) *nn.Sequential { return nn.NewMNISTCNN(rng, 4) }, []int{1, 28, 28}, 3},
		{"cnn_rgb", func(rng *rand.Rand) *nn.Sequential {
			return must(nn.NewCNN(rng, nn.CNNConfig{Channels: 3, Height: 32, Width: 32, Hidden: 4}))
		}, []int{3, 32, 32}, 2},
		{"resnet", func(rng *rand.Rand) *nn.Sequential {
			return must(nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 8, Width: 8, Filters: 4, Stages: 3, Blocks: 2}))
		}, []int{3, 8, 8}, 2},
	} {
		rng := rand.New(rand.NewPCG(42, uint64(tc.n)))
		m := tc.build(rng)
		model := filepath.Join(dir, tc.arch+".safetensors")
		if err := nn.SaveFile(model, m); err != nil {
			t.Fatal(err)
		}
		graph.Cast(m, graph.Float64) // the saved F32 values, exactly
		dim := 1
		for _, d := range tc.shape {
			dim *= d
		}
		x := make([]float64, tc.n*dim)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		f, g := energies(t, m, tc.shape, x)
		xshape := append([]int{tc.n}, tc.shape...)
		for _, control := range []bool{false, true} {
			io := filepath.Join(dir, tc.arch+"_io.safetensors")
			fc := f
			if control {
				io = filepath.Join(dir, tc.arch+"_control_io.safetensors")
				fc = slices.Clone(f)
				fc[0] += 1e-6 * math.Max(1, math.Abs(fc[0]))
			}
			err := safetensors.WriteFile(io, []safetensors.Tensor{
				safetensors.Float64Tensor("x", xshape, x),
				safetensors.Float64Tensor("f", []int{tc.n}, fc),
				safetensors.Float64Tensor("grad", xshape, g),
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !control || tc.arch == "small_cnn" {
				args = append(args, model, io, tc.arch)
			}
		}
	}
	cmd := exec.Command(python, append([]string{"testdata/check_torch.py"}, args...)...)
	// One thread, not spinning: the models are tiny and CI has 2 cores.
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=PASSIVE")
	out, err := cmd.CombinedOutput()
	t.Logf("check_torch.py:\n%s", bytes.TrimSpace(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"ok small_cnn:", "MISMATCH small_cnn:", "ok mnist_cnn4:", "ok cnn_rgb:", "ok resnet:"}
	if len(lines) != len(want) {
		t.Fatalf("check_torch.py printed %d lines, want %d (%v)", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start with %q", i+1, lines[i], w)
		}
	}
}

func ExampleSaveFile() {
	dir, err := os.MkdirTemp("", "ebm-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mlp.safetensors")

	rng := rand.New(rand.NewPCG(1, 2))
	m := nn.NewMLP(rng, nn.SiLU, 2, 8, 1)
	if err := nn.SaveFile(path, m); err != nil {
		fmt.Println(err)
		return
	}

	// A model of the same architecture, initialised differently, takes the
	// saved weights.
	m2 := nn.NewMLP(rand.New(rand.NewPCG(3, 4)), nn.SiLU, 2, 8, 1)
	if err := nn.LoadFile(path, m2); err != nil {
		fmt.Println(err)
		return
	}
	for i, p := range m2.Params() {
		fmt.Println(p.Name, p.Shape(), slices.Equal(p.Float64s(nil), m.Params()[i].Float64s(nil)))
	}

	// A model of another architecture does not, and stays as it was.
	m3 := nn.NewMLP(rng, nn.SiLU, 2, 4, 1)
	err = nn.LoadFile(path, m3)
	fmt.Println(errors.Is(err, nn.ErrMismatch))
	fmt.Println(strings.ReplaceAll(err.Error(), path, "mlp.safetensors"))
	// Output:
	// 0.weight [8 2] true
	// 0.bias [8] true
	// 2.weight [1 8] true
	// 2.bias [1] true
	// true
	// nn: load mlp.safetensors: tensor "0.weight" has shape (8, 2) in the file and (4, 2) in the model; tensor "0.bias" has shape (8) in the file and (4) in the model; tensor "2.weight" has shape (1, 8) in the file and (1, 4) in the model: nn: file does not match the model
}
