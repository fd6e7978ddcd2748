package trainer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
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
	checkpointFormat = "ebm-trainer-checkpoint/2"
	// Format 1 had no checksums; it is still read, unchecked.
	checkpointFormat1 = "ebm-trainer-checkpoint/1"
	// checksumKey+name holds the CRC-32C (Castagnoli) of a tensor's raw
	// little-endian data, 8 hex digits; metaChecksumKey that of the other
	// metadata (see metadataChecksum).
	checksumKey     = "crc32c/"
	metaChecksumKey = "crc32c"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sign adds to meta the checksum of every tensor and then of the metadata
// itself, so that a flipped bit anywhere in a checkpoint is found.
func sign(ts []safetensors.Tensor, meta map[string]string) {
	for _, t := range ts {
		meta[checksumKey+t.Name] = fmt.Sprintf("%08x", crc32.Checksum(t.Data, castagnoli))
	}
	meta[metaChecksumKey] = metadataChecksum(meta)
}

// metadataChecksum is the CRC-32C of the metadata's keys and values in key
// order (each followed by a zero byte), the checksum key itself left out.
func metadataChecksum(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != metaChecksumKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := crc32.New(castagnoli)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(meta[k]))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// verify checks a checkpoint's checksums: the metadata's, and every
// tensor's against its data as stored. A checkpoint of format 1 has none.
// The error wraps ErrCheckpoint and names the tensor.
func verify(f *safetensors.File) error {
	meta := f.Metadata()
	switch meta["format"] {
	case checkpointFormat1:
		return nil
	case checkpointFormat:
	default:
		return fmt.Errorf("%w: format %q, want %q", ErrCheckpoint, meta["format"], checkpointFormat)
	}
	if got, want := metadataChecksum(meta), meta[metaChecksumKey]; got != want {
		return fmt.Errorf("%w: the metadata fail their CRC-32C check (%s, recorded %q): the file is corrupt", ErrCheckpoint, got, want)
	}
	for _, info := range f.Tensors() {
		want, ok := meta[checksumKey+info.Name]
		if !ok {
			return fmt.Errorf("%w: tensor %q has no checksum", ErrCheckpoint, info.Name)
		}
		data, err := f.Bytes(info.Name)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
		if got := fmt.Sprintf("%08x", crc32.Checksum(data, castagnoli)); got != want {
			return fmt.Errorf("%w: tensor %q fails its CRC-32C check (%s, recorded %s): the file is corrupt", ErrCheckpoint, info.Name, got, want)
		}
	}
	return nil
}

// checkFinite returns an error wrapping ErrCheckpoint if v, the values of
// the tensor called name, holds a NaN or an infinity: the state of a run
// that diverged, which no resumed run can train from.
func checkFinite[T float32 | float64](name string, v []T) error {
	for i, x := range v {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: tensor %q holds %v at element %d: the state of a diverged run cannot be resumed", ErrCheckpoint, name, f, i)
		}
	}
	return nil
}

// checkpoint writes the state after the last finished iteration to
// Dir/checkpoint.safetensors (atomically: write, sync, rename) and the
// parameters alone to Dir/model.safetensors, and keeps the encoding for
// rollbacks. In a data-parallel run every rank calls it at the same
// iteration; rank 0 gathers the others' shards and writes the one file.
func (t *Trainer) checkpoint() error {
	var b []byte
	var err error
	if t.coll != nil && t.cfg.Dir != "" {
		if t.rank() != 0 {
			// This rank's own state, for rollbacks; rank 0 keeps the file.
			if t.lastGood, err = t.encode(); err != nil {
				return err
			}
		}
		if b, err = t.gatherCheckpoint(); err != nil || t.rank() != 0 {
			return err
		}
	} else if b, err = t.encode(); err != nil {
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
// generator, the data iterator, iteration, learning-rate scale. The
// shard (buffer or chains, generator, data position) is this rank's;
// others holds the other ranks' shards as shardBlob encoded them, stored
// under "rank<r>/" (rank 0 writes a data-parallel run's checkpoint).
func (t *Trainer) encode(others ...[]byte) ([]byte, error) {
	if err := t.backend.SyncParams(); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	opt, err := t.backend.OptimizerState()
	if err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	meta := map[string]string{
		"format":    checkpointFormat,
		"iteration": strconv.Itoa(t.iter),
		"lr_scale":  strconv.FormatFloat(t.lrScale, 'g', -1, 64),
		"rollbacks": strconv.Itoa(t.rollbacks),
		"adam_step": strconv.Itoa(opt.Step),
		"chains":    t.cfg.Chains.String(),
		"shape":     fmt.Sprint(t.cfg.Shape),
		"batch":     strconv.Itoa(t.batch),
		"objective": t.cfg.objectiveName(),
		"world":     strconv.Itoa(t.world()),
	}
	var ts []safetensors.Tensor
	params := t.trainedParams() // the model's, then the objective's own (NCE's log Z)
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
	ts = t.appendShard(ts, meta, "")
	for i, blob := range others {
		var err error
		if ts, err = appendShardBlob(ts, meta, shardPrefix(i+1), blob); err != nil {
			return nil, fmt.Errorf("trainer: checkpoint: rank %d's shard: %w", i+1, err)
		}
	}
	sign(ts, meta)
	var w bytes.Buffer
	if err := safetensors.Write(&w, ts, meta); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	return w.Bytes(), nil
}

// appendShard adds this rank's shard to a checkpoint's tensors and
// metadata, under prefix: the random generator, the data position, and
// the replay buffer or the persistent chains.
func (t *Trainer) appendShard(ts []safetensors.Tensor, meta map[string]string, prefix string) []safetensors.Tensor {
	rngState, _ := t.src.MarshalBinary()
	dataState, _ := t.data.MarshalBinary()
	meta[prefix+"rng"] = base64.StdEncoding.EncodeToString(rngState)
	meta[prefix+"data"] = base64.StdEncoding.EncodeToString(dataState)
	meta[prefix+"buffer_cap"] = "0"
	if b := t.buf; b != nil {
		meta[prefix+"buffer_cap"] = strconv.Itoa(b.capacity)
		meta[prefix+"buffer_next"] = strconv.Itoa(b.next)
		ts = append(ts, safetensors.Float32Tensor(prefix+"buffer", []int{b.size, b.dim}, b.data[:b.size*b.dim]))
	}
	if t.pcd != nil {
		ts = append(ts, safetensors.Float64Tensor(prefix+"chains", []int{t.batch, t.dim}, t.pcd))
	}
	return ts
}

// decode restores a state written by encode, after checking all of it, so
// that a bad checkpoint changes nothing.
func (t *Trainer) decode(b []byte) error { return t.decodeShard(b, "", true) }

// decodeShard is decode for one rank of a data-parallel run: it restores
// the state all ranks share and, if withShard, the shard stored under
// prefix; without it the rank keeps its own shard (a fresh start takes
// rank 0's parameters and optimiser, nothing else).
func (t *Trainer) decodeShard(b []byte, prefix string, withShard bool) error {
	f, err := safetensors.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := verify(f); err != nil {
		return err
	}
	meta := f.Metadata()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCheckpoint}, args...)...)
	}
	world := meta["world"]
	if world == "" {
		world = "1" // written before data-parallel training existed
	}
	objective := meta["objective"]
	if objective == "" {
		objective = "cd" // written before objectives other than CD existed
	}
	for _, c := range [][3]string{
		{"world size", world, strconv.Itoa(t.world())},
		{"chains", meta["chains"], t.cfg.Chains.String()},
		{"shape", meta["shape"], fmt.Sprint(t.cfg.Shape)},
		{"batch", meta["batch"], strconv.Itoa(t.batch)},
		{"objective", objective, t.cfg.objectiveName()},
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
	rngState, err1 := base64.StdEncoding.DecodeString(meta[prefix+"rng"])
	dataState, err2 := base64.StdEncoding.DecodeString(meta[prefix+"data"])
	if withShard && (err1 != nil || err2 != nil || meta[prefix+"rng"] == "") {
		return bad("random generator or data iterator state of %q missing or not base64", prefix)
	}
	// Parameters and optimiser moments, into scratch first.
	params := t.trainedParams() // the model's, then the objective's own (NCE's log Z)
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
			if err := checkFinite(x.name, *x.dst); err != nil {
				return err
			}
		}
	}
	var bufData []float32
	var bufNext int
	if t.buf != nil && withShard {
		capacity, err := atoi(prefix + "buffer_cap")
		if err != nil {
			return err
		}
		if capacity != t.buf.capacity {
			return bad("replay buffer of capacity %d, this run has %d", capacity, t.buf.capacity)
		}
		if bufNext, err = atoi(prefix + "buffer_next"); err != nil {
			return err
		}
		info, ok := f.Info(prefix + "buffer")
		if !ok || len(info.Shape) != 2 || info.Shape[1] != t.dim || info.Shape[0] > capacity || bufNext >= capacity {
			return bad("replay buffer tensor missing or of the wrong shape")
		}
		if bufData, err = f.Float32s(prefix+"buffer", nil); err != nil {
			return fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
		if err := checkFinite(prefix+"buffer", bufData); err != nil {
			return err
		}
	}
	var chains []float64
	if t.pcd != nil && withShard {
		info, ok := f.Info(prefix + "chains")
		if !ok || fmt.Sprint(info.Shape) != fmt.Sprint([]int{t.batch, t.dim}) {
			return bad("persistent chains tensor missing or of the wrong shape")
		}
		if chains, err = f.Float64s(prefix+"chains", nil); err != nil {
			return fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
		if err := checkFinite(prefix+"chains", chains); err != nil {
			return err
		}
	}
	// The generator is checked on a copy; Batches.UnmarshalBinary leaves
	// the iterator unchanged when it fails, so it goes last.
	if withShard {
		var pcg rand.PCG
		if err := pcg.UnmarshalBinary(rngState); err != nil {
			return bad("random generator state: %v", err)
		}
		if err := t.data.UnmarshalBinary(dataState); err != nil {
			return fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
		*t.src = pcg
	}
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
	if t.buf != nil && withShard {
		clear(t.buf.data)
		copy(t.buf.data, bufData)
		t.buf.size = len(bufData) / t.dim
		t.buf.next = bufNext
	}
	if t.pcd != nil && withShard {
		copy(t.pcd, chains)
	}
	t.iter, t.rollbacks, t.lrScale = iter, rollbacks, lrScale
	return nil
}

// ReadBuffer returns the replay buffer stored in the checkpoint of a run
// folder, newest sample first (n×dim row-major), and the sample size dim.
// The checkpoint of a data-parallel run holds one buffer per rank; they
// are interleaved, so that the samples still come newest first.
func ReadBuffer(dir string) (samples []float64, dim int, err error) {
	path := filepath.Join(dir, checkpointFile)
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("trainer: %w", err)
	}
	defer f.Close()
	if err := verify(f); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	world := 1
	if w := f.Metadata()["world"]; w != "" {
		if world, err = strconv.Atoi(w); err != nil || world < 1 {
			return nil, 0, fmt.Errorf("trainer: %s: metadata world = %q: %w", path, w, ErrCheckpoint)
		}
	}
	var shards [][]float64
	for r := range world {
		prefix := shardPrefix(r)
		info, ok := f.Info(prefix + "buffer")
		if !ok || len(info.Shape) != 2 || (dim != 0 && info.Shape[1] != dim) {
			return nil, 0, fmt.Errorf("trainer: %s holds no replay buffer %q: %w", path, prefix+"buffer", ErrCheckpoint)
		}
		next, err := strconv.Atoi(f.Metadata()[prefix+"buffer_next"])
		if err != nil {
			return nil, 0, fmt.Errorf("trainer: %s: metadata %sbuffer_next: %w", path, prefix, ErrCheckpoint)
		}
		data, err := f.Float32s(prefix+"buffer", nil)
		if err != nil {
			return nil, 0, fmt.Errorf("trainer: %w", err)
		}
		if err := checkFinite(prefix+"buffer", data); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		size := info.Shape[0]
		dim = info.Shape[1]
		capacity, _ := strconv.Atoi(f.Metadata()[prefix+"buffer_cap"])
		b := &ReplayBuffer{dim: dim, capacity: max(capacity, size), data: data, size: size, next: next}
		if size < b.capacity {
			b.data = append(data, make([]float32, (b.capacity-size)*dim)...)
		}
		shards = append(shards, b.Samples(size))
	}
	if world == 1 {
		return shards[0], dim, nil
	}
	// Interleave: the i-th newest sample of every rank, then the next.
	for i := 0; ; i++ {
		added := false
		for _, s := range shards {
			if (i+1)*dim <= len(s) {
				samples = append(samples, s[i*dim:(i+1)*dim]...)
				added = true
			}
		}
		if !added {
			break
		}
	}
	return samples, dim, nil
}
