package nn

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/safetensors"
	"gorgonia.org/tensor"
)

// ErrBadFormat is wrapped by the errors of Load and LoadFile for files that
// are not valid safetensors: truncated, corrupt header, bad offsets.
var ErrBadFormat = safetensors.ErrBadFormat

// ErrMismatch is wrapped by the errors of Load and LoadFile when the file
// is valid but does not fit the model: a parameter is missing, a tensor is
// unexpected, a shape differs, or a dtype does not convert.
var ErrMismatch = errors.New("nn: file does not match the model")

// Saver writes a model's parameters as a safetensors file. The zero value
// writes each parameter in its own dtype (float32 as F32, float64 as F64)
// with the metadata {"format": "pt"}.
type Saver struct {
	// Dtype, if set (graph.Float32 or graph.Float64), converts every
	// parameter to it: graph.Float32 makes a float64 model's file the size
	// PyTorch users expect. Other dtypes are an error.
	Dtype tensor.Dtype
	// Metadata is stored in the header's "__metadata__" map, together with
	// "format": "pt" unless Metadata sets "format" itself.
	Metadata map[string]string
}

// Save writes m's parameters to w in safetensors format with a zero Saver.
func Save(w io.Writer, m graph.Model) error { return Saver{}.Save(w, m) }

// SaveFile writes m's parameters to the file at path with a zero Saver,
// atomically: a crash leaves the old file or the complete new one.
//
// Parameters are stored under their graph.Param names ("0.weight",
// "0.bias", ...) in PyTorch's layouts (Linear weight (out, in), Conv2d
// weight (out, in, kh, kw)), so the file loads into the torch.nn.Sequential
// of the same layers with
//
//	model.load_state_dict(safetensors.torch.load_file(path))
//
// and, the other way, [LoadFile] reads what safetensors.torch.save_file
// wrote from that model's state_dict().
func SaveFile(path string, m graph.Model) error { return Saver{}.SaveFile(path, m) }

// Save writes m's parameters to w.
func (s Saver) Save(w io.Writer, m graph.Model) error {
	ts, meta, err := s.tensors(m)
	if err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	if err := safetensors.Write(w, ts, meta); err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	return nil
}

// SaveFile writes m's parameters to the file at path atomically: to a
// temporary file in the same directory, synced and renamed over path.
func (s Saver) SaveFile(path string, m graph.Model) error {
	ts, meta, err := s.tensors(m)
	if err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return nil
}

func (s Saver) tensors(m graph.Model) ([]safetensors.Tensor, map[string]string, error) {
	if s.Dtype != (tensor.Dtype{}) && s.Dtype != graph.Float32 && s.Dtype != graph.Float64 {
		return nil, nil, fmt.Errorf("nn: Saver.Dtype %v: only graph.Float32 and graph.Float64 are supported", s.Dtype)
	}
	ps := m.Params()
	if err := graph.CheckNames(ps); err != nil {
		return nil, nil, err
	}
	ts := make([]safetensors.Tensor, len(ps))
	for i, p := range ps {
		dt := s.Dtype
		if dt == (tensor.Dtype{}) {
			dt = p.Dtype()
		}
		// Value.Float32s and Float64s give the backing slice, also for
		// scalars (whose Data() is not a slice).
		switch {
		case dt == graph.Float64 && p.Dtype() == graph.Float64:
			ts[i] = safetensors.Float64Tensor(p.Name, p.Shape(), p.Value.Float64s())
		case dt == graph.Float64:
			v := p.Value.Float32s()
			v64 := make([]float64, len(v))
			for j, x := range v {
				v64[j] = float64(x)
			}
			ts[i] = safetensors.Float64Tensor(p.Name, p.Shape(), v64)
		case p.Dtype() == graph.Float32:
			ts[i] = safetensors.Float32Tensor(p.Name, p.Shape(), p.Value.Float32s())
		default: // a float64 parameter saved as F32
			v := p.Value.Float64s()
			v32 := make([]float32, len(v))
			for j, x := range v {
				v32[j] = float32(x)
			}
			ts[i] = safetensors.Float32Tensor(p.Name, p.Shape(), v32)
		}
	}
	meta := map[string]string{"format": "pt"}
	maps.Copy(meta, s.Metadata)
	return ts, meta, nil
}

// Loader reads a model's parameters from a safetensors file. The zero
// value is strict, like PyTorch's load_state_dict(strict=True).
type Loader struct {
	// Partial allows the file to lack some of the model's parameters
	// (those keep their values) and to hold tensors the model does not
	// have (ignored), like load_state_dict(strict=False). Shapes of the
	// tensors that are loaded must still match.
	Partial bool
}

// Load reads m's parameters from the safetensors data of the given size in
// r with a zero (strict) Loader.
func Load(r io.ReaderAt, size int64, m graph.Model) error { return Loader{}.Load(r, size, m) }

// LoadFile reads m's parameters from the safetensors file at path with a
// zero (strict) Loader.
func LoadFile(path string, m graph.Model) error { return Loader{}.LoadFile(path, m) }

// Load reads m's parameters from the safetensors data of the given size in
// r. Tensors of dtype F64, F32, F16, BF16 or an integer type are converted
// to each parameter's dtype. Everything is read and checked before any
// parameter is set: on error m is unchanged.
func (l Loader) Load(r io.ReaderAt, size int64, m graph.Model) error {
	f, err := safetensors.NewFile(r, size)
	if err != nil {
		return fmt.Errorf("nn: load: %w", err)
	}
	if err := l.load(f, m); err != nil {
		return fmt.Errorf("nn: load: %w", err)
	}
	return nil
}

// LoadFile reads m's parameters from the file at path; see Load.
func (l Loader) LoadFile(path string, m graph.Model) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("nn: load: %w", err) // names the path
	}
	defer f.Close()
	if err := l.load(f, m); err != nil {
		return fmt.Errorf("nn: load %s: %w", path, err)
	}
	return nil
}

func (l Loader) load(f *safetensors.File, m graph.Model) error {
	ps := m.Params()
	if err := graph.CheckNames(ps); err != nil {
		return err
	}
	var problems, missing []string
	want := make(map[string]bool, len(ps))
	var load []*graph.Param
	for _, p := range ps {
		want[p.Name] = true
		info, ok := f.Info(p.Name)
		if !ok {
			if !l.Partial {
				missing = append(missing, fmt.Sprintf("%q %s", p.Name, graph.FormatShape(p.Shape())))
			}
			continue
		}
		switch {
		case !sameShape(info.Shape, p.Shape()):
			problems = append(problems, fmt.Sprintf("tensor %q has shape %s in the file and %s in the model",
				p.Name, graph.FormatShape(info.Shape), graph.FormatShape(p.Shape())))
		case !info.Dtype.Convertible():
			problems = append(problems, fmt.Sprintf("tensor %q has dtype %s, which does not convert to %v",
				p.Name, info.Dtype, p.Dtype()))
		default:
			load = append(load, p)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing from the file: "+strings.Join(missing, ", "))
	}
	if !l.Partial {
		var extra []string
		for _, name := range f.Names() {
			if !want[name] {
				info, _ := f.Info(name)
				extra = append(extra, fmt.Sprintf("%q %s", name, graph.FormatShape(info.Shape)))
			}
		}
		if len(extra) > 0 {
			problems = append(problems, "not in the model: "+strings.Join(extra, ", "))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(problems, "; "), ErrMismatch)
	}
	// Read and convert everything before touching the model.
	vals := make([]any, len(load))
	for i, p := range load {
		var err error
		if p.Dtype() == graph.Float32 {
			vals[i], err = f.Float32s(p.Name, nil)
		} else {
			vals[i], err = f.Float64s(p.Name, nil)
		}
		if err != nil {
			return err
		}
	}
	for i, p := range load {
		switch v := vals[i].(type) {
		case []float32:
			copy(p.Value.Float32s(), v)
		case []float64:
			copy(p.Value.Float64s(), v)
		}
	}
	return nil
}

// sameShape compares shapes, treating a scalar () and a one-element (1)
// alike, since Gorgonia stores scalars with either.
func sameShape(file, model []int) bool {
	if slices.Equal(file, model) {
		return true
	}
	isOne := func(s []int) bool { return len(s) == 0 || len(s) == 1 && s[0] == 1 }
	return isOne(file) && isOne(model)
}
