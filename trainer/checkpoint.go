package trainer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ebmgo/ebm/internal/atomicfile"
	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
)

// ErrCheckpoint is wrapped by errors about a checkpoint that cannot be
// restored into this run: corrupt, or made with another configuration.
var ErrCheckpoint = errors.New("trainer: bad checkpoint")

const (
	checkpointFile   = "checkpoint.safetensors"
	modelFile        = "model.safetensors"
	checkpointFormat = "ebm-trainer-checkpoint/1"
)

// checkpoint writes the state after the last finished iteration to
// Dir/checkpoint.safetensors (atomically: write, sync, rename) and the
// parameters alone to Dir/model.safetensors, and keeps the encoding for
// rollbacks.
func (t *Trainer) checkpoint() error {
	b, err := t.encode()
	if err != nil {
		return err
	}
	t.lastGood = b
	if t.cfg.Dir == "" {
		return nil
	}
	path := filepath.Join(t.cfg.Dir, checkpointFile)
	if err := atomicWrite(path, b); err != nil {
		return err
	}
	if err := nn.SaveFile(filepath.Join(t.cfg.Dir, modelFile), t.model); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

func atomicWrite(path string, b []byte) error {
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("trainer: writing %s: %w", path, err)
	}
	return nil
}

// resume restores Dir/checkpoint.safetensors if it exists.
func (t *Trainer) resume() error {
	path := filepath.Join(t.cfg.Dir, checkpointFile)
	b, err := readRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := t.decode(b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	t.resumed = t.iter
	t.lastGood = b
	return nil
}

// readRegular reads a whole regular file. Anything else in a checkpoint's
// place (a directory, or a link to /dev/zero or a pipe that would read
// without end) is an error wrapping ErrCheckpoint that names it.
func readRegular(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("trainer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): %w", path, st.Mode().Type(), ErrCheckpoint)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("trainer: reading %s: %w", path, err)
	}
	return b, nil
}

// encode serialises everything a run needs to resume exactly: parameters,
// optimiser moments, replay buffer or persistent chains, the random
// generator, the data iterator, iteration, learning-rate scale.
func (t *Trainer) encode() ([]byte, error) {
	if err := t.backend.SyncParams(); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	opt, err := t.backend.OptimizerState()
	if err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	rngState, _ := t.src.MarshalBinary()
	dataState, _ := t.data.MarshalBinary()
	meta := map[string]string{
		"format":     checkpointFormat,
		"iteration":  strconv.Itoa(t.iter),
		"rng":        base64.StdEncoding.EncodeToString(rngState),
		"data":       base64.StdEncoding.EncodeToString(dataState),
		"lr_scale":   strconv.FormatFloat(t.lrScale, 'g', -1, 64),
		"rollbacks":  strconv.Itoa(t.rollbacks),
		"adam_step":  strconv.Itoa(opt.Step),
		"chains":     t.cfg.Chains.String(),
		"shape":      fmt.Sprint(t.cfg.Shape),
		"batch":      strconv.Itoa(t.batch),
		"buffer_cap": "0",
	}
	var ts []safetensors.Tensor
	params := t.model.Params()
	if len(opt.M) != len(params) || len(opt.V) != len(params) {
		return nil, fmt.Errorf("trainer: checkpoint: optimiser state has %d moments for %d parameters", len(opt.M), len(params))
	}
	for i, p := range params {
		switch d := p.Value.Data().(type) {
		case []float32:
			ts = append(ts, safetensors.Float32Tensor("param/"+p.Name, p.Shape(), d))
		case []float64:
			ts = append(ts, safetensors.Float64Tensor("param/"+p.Name, p.Shape(), d))
		}
		ts = append(ts, safetensors.Float64Tensor("adam/m/"+p.Name, p.Shape(), opt.M[i]),
			safetensors.Float64Tensor("adam/v/"+p.Name, p.Shape(), opt.V[i]))
	}
	if b := t.buf; b != nil {
		meta["buffer_cap"] = strconv.Itoa(b.capacity)
		meta["buffer_next"] = strconv.Itoa(b.next)
		ts = append(ts, safetensors.Float32Tensor("buffer", []int{b.size, b.dim}, b.data[:b.size*b.dim]))
	}
	if t.pcd != nil {
		ts = append(ts, safetensors.Float64Tensor("chains", []int{t.batch, t.dim}, t.pcd))
	}
	var w bytes.Buffer
	if err := safetensors.Write(&w, ts, meta); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	return w.Bytes(), nil
}

// decode restores a state written by encode, after checking all of it, so
// that a bad checkpoint changes nothing.
func (t *Trainer) decode(b []byte) error {
	f, err := safetensors.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	meta := f.Metadata()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCheckpoint}, args...)...)
	}
	if meta["format"] != checkpointFormat {
		return bad("format %q, want %q", meta["format"], checkpointFormat)
	}
	for _, c := range [][3]string{
		{"chains", meta["chains"], t.cfg.Chains.String()},
		{"shape", meta["shape"], fmt.Sprint(t.cfg.Shape)},
		{"batch", meta["batch"], strconv.Itoa(t.batch)},
	} {
		if c[1] != c[2] {
			return bad("made with %s %s, this run has %s", c[0], c[1], c[2])
		}
	}
	atoi := func(k string) (int, error) {
		v, err := strconv.Atoi(meta[k])
		if err != nil || v < 0 {
			return 0, bad("metadata %s = %q", k, meta[k])
		}
		return v, nil
	}
	iter, err := atoi("iteration")
	if err != nil {
		return err
	}
	rollbacks, err := atoi("rollbacks")
	if err != nil {
		return err
	}
	step, err := atoi("adam_step")
	if err != nil {
		return err
	}
	lrScale, err := strconv.ParseFloat(meta["lr_scale"], 64)
	if err != nil || !(lrScale > 0) {
		return bad("metadata lr_scale = %q", meta["lr_scale"])
	}
	rngState, err1 := base64.StdEncoding.DecodeString(meta["rng"])
	dataState, err2 := base64.StdEncoding.DecodeString(meta["data"])
	if err1 != nil || err2 != nil {
		return bad("random generator or data iterator state is not base64")
	}
	// Parameters and optimiser moments, into scratch first.
	params := t.model.Params()
	vals := make([][]float64, len(params))
	opt := optim.AdamState{Step: step, M: make([][]float64, len(params)), V: make([][]float64, len(params))}
	for i, p := range params {
		for _, x := range []struct {
			name string
			dst  *[]float64
		}{{"param/" + p.Name, &vals[i]}, {"adam/m/" + p.Name, &opt.M[i]}, {"adam/v/" + p.Name, &opt.V[i]}} {
			info, ok := f.Info(x.name)
			if !ok {
				return bad("no tensor %q", x.name)
			}
			if fmt.Sprint(info.Shape) != fmt.Sprint(p.Shape()) {
				return bad("tensor %q has shape %v, the model's parameter has %v", x.name, info.Shape, p.Shape())
			}
			if *x.dst, err = f.Float64s(x.name, nil); err != nil {
				return fmt.Errorf("%w: %w", ErrCheckpoint, err)
			}
		}
	}
	var bufData []float32
	var bufNext int
	if t.buf != nil {
		capacity, err := atoi("buffer_cap")
		if err != nil {
			return err
		}
		if capacity != t.buf.capacity {
			return bad("replay buffer of capacity %d, this run has %d", capacity, t.buf.capacity)
		}
		if bufNext, err = atoi("buffer_next"); err != nil {
			return err
		}
		info, ok := f.Info("buffer")
		if !ok || len(info.Shape) != 2 || info.Shape[1] != t.dim || info.Shape[0] > capacity || bufNext >= capacity {
			return bad("replay buffer tensor missing or of the wrong shape")
		}
		if bufData, err = f.Float32s("buffer", nil); err != nil {
			return fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
	}
	var chains []float64
	if t.pcd != nil {
		info, ok := f.Info("chains")
		if !ok || fmt.Sprint(info.Shape) != fmt.Sprint([]int{t.batch, t.dim}) {
			return bad("persistent chains tensor missing or of the wrong shape")
		}
		if chains, err = f.Float64s("chains", nil); err != nil {
			return fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
	}
	// The generator is checked on a copy; Batches.UnmarshalBinary leaves
	// the iterator unchanged when it fails, so it goes last.
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(rngState); err != nil {
		return bad("random generator state: %v", err)
	}
	if err := t.data.UnmarshalBinary(dataState); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	*t.src = pcg
	// Everything checked: commit.
	for i, p := range params {
		p.SetFloat64s(vals[i])
	}
	if err := t.backend.LoadParams(); err != nil {
		return err
	}
	if err := t.backend.SetOptimizerState(opt); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if t.buf != nil {
		clear(t.buf.data)
		copy(t.buf.data, bufData)
		t.buf.size = len(bufData) / t.dim
		t.buf.next = bufNext
	}
	if t.pcd != nil {
		copy(t.pcd, chains)
	}
	t.iter, t.rollbacks, t.lrScale = iter, rollbacks, lrScale
	return nil
}

// ReadBuffer returns the replay buffer stored in the checkpoint of a run
// folder, newest sample first (n×dim row-major), and the sample size dim.
func ReadBuffer(dir string) (samples []float64, dim int, err error) {
	path := filepath.Join(dir, checkpointFile)
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("trainer: %w", err)
	}
	defer f.Close()
	info, ok := f.Info("buffer")
	if !ok || len(info.Shape) != 2 {
		return nil, 0, fmt.Errorf("trainer: %s holds no replay buffer: %w", path, ErrCheckpoint)
	}
	next, err := strconv.Atoi(f.Metadata()["buffer_next"])
	if err != nil {
		return nil, 0, fmt.Errorf("trainer: %s: metadata buffer_next: %w", path, ErrCheckpoint)
	}
	data, err := f.Float32s("buffer", nil)
	if err != nil {
		return nil, 0, fmt.Errorf("trainer: %w", err)
	}
	n, dim := info.Shape[0], info.Shape[1]
	capacity, _ := strconv.Atoi(f.Metadata()["buffer_cap"])
	b := &ReplayBuffer{dim: dim, capacity: max(capacity, n), data: data, size: n, next: next}
	if n < b.capacity {
		b.data = append(data, make([]float32, (b.capacity-n)*dim)...)
	}
	return b.Samples(n), dim, nil
}
