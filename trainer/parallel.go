package trainer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/sampling"
)

// Collective connects the processes ("ranks") of a data-parallel run.
// Every rank calls the same methods in the same order with buffers of the
// same lengths; a call returns once every rank has made it. Package
// torch/dist (build tag torch) provides one over libtorch's c10d, Gloo
// on CPUs or NCCL on GPUs, started by torchrun or dist.Launch.
type Collective interface {
	// Rank is this process's rank in [0, Size()); Size is the number of
	// ranks.
	Rank() int
	Size() int
	// AllReduceFloat32 and AllReduceFloat64 replace x on every rank by
	// its elementwise sum over the ranks.
	AllReduceFloat32(ctx context.Context, x []float32) error
	AllReduceFloat64(ctx context.Context, x []float64) error
	// BroadcastBytes replaces b on every rank by root's b.
	BroadcastBytes(ctx context.Context, b []byte, root int) error
	// GatherBytes collects every rank's in (one length n for all) into
	// out on root, rank r's at out[r·n:(r+1)·n]; out is unused elsewhere.
	GatherBytes(ctx context.Context, in, out []byte, root int) error
}

// NewRankSource returns the random source of one rank of a run seeded
// with seed. Rank 0's is the source of a one-process run; the others'
// are distinct streams, so that no two ranks draw the same noise,
// buffer choices or Langevin steps.
func NewRankSource(seed uint64, rank int) *rand.PCG {
	const base = 0x9e3779b97f4a7c15
	if rank == 0 {
		return rand.NewPCG(seed, base)
	}
	// splitmix64's finaliser of the rank: far-apart, unrelated states.
	z := base + uint64(rank)*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return rand.NewPCG(seed, z^(z>>31))
}

// Rank returns this trainer's rank in a data-parallel run (0 without
// Config.Collective).
func (t *Trainer) Rank() int { return t.rank() }

// World returns the number of ranks of the run (1 without
// Config.Collective).
func (t *Trainer) World() int { return t.world() }

func (t *Trainer) rank() int {
	if t.coll == nil {
		return 0
	}
	return t.coll.Rank()
}

func (t *Trainer) world() int {
	if t.coll == nil {
		return 1
	}
	return t.coll.Size()
}

// shardPrefix is where rank r's shard lives in a checkpoint: rank 0's
// under the names of a one-process checkpoint, so that a world of one
// reads and writes exactly that format.
func shardPrefix(r int) string {
	if r == 0 {
		return ""
	}
	return "rank" + strconv.Itoa(r) + "/"
}

// errPeerStopped is returned on the ranks whose own context was not
// cancelled when another rank's was: all ranks stop at the same
// iteration, and errors.Is(err, context.Canceled) holds on every rank.
var errPeerStopped = fmt.Errorf("trainer: another rank was stopped: %w", context.Canceled)

// bg is the context of the collectives that keep the ranks in step: they
// run even when this rank's context is cancelled, since the other ranks
// wait for them; the Collective's timeout bounds them.
var bg = context.Background()

// setupParallel runs once in New on every rank of a data-parallel run:
// the ranks check that they were configured alike, and then start from
// rank 0's state — its checkpoint, each rank taking its own shard, or
// for a fresh run its initial parameters and optimiser state. Rank 0
// alone touches the run folder.
func (t *Trainer) setupParallel() error {
	if err := t.checkConfig(); err != nil {
		return err
	}
	var msg []byte // kind byte, then the state
	var readErr error
	const (
		fresh    = 0
		resumed  = 1
		failed   = 2
		fileName = checkpointFile
	)
	if t.rank() == 0 {
		var b []byte
		if t.cfg.Dir != "" {
			if readErr = os.MkdirAll(t.cfg.Dir, 0o755); readErr != nil {
				readErr = fmt.Errorf("trainer: run folder: %w", readErr)
			} else {
				b, readErr = readRegular(filepath.Join(t.cfg.Dir, fileName))
				if errors.Is(readErr, fs.ErrNotExist) {
					b, readErr = nil, nil
				}
			}
		}
		switch {
		case readErr != nil:
			msg = []byte{failed}
		case b != nil:
			msg = append([]byte{resumed}, b...)
		default:
			if b, readErr = t.encode(); readErr != nil {
				msg = []byte{failed}
			} else {
				msg = append([]byte{fresh}, b...)
			}
		}
	}
	msg, err := broadcastVar(t.coll, msg, 0)
	if err != nil {
		return fmt.Errorf("trainer: starting from rank 0's state: %w", err)
	}
	var local error
	switch {
	case len(msg) == 0 || msg[0] == failed:
		local = readErr
		if t.rank() != 0 {
			local = errors.New("trainer: restoring rank 0's state failed on rank 0 (its own error says why)")
		}
	case msg[0] == resumed:
		if local = t.decodeShard(msg[1:], shardPrefix(t.rank()), true); local == nil {
			t.resumed = t.iter
		} else {
			local = fmt.Errorf("%s: %w", filepath.Join(t.cfg.Dir, fileName), local)
		}
	case t.rank() != 0:
		local = t.decodeShard(msg[1:], "", false)
	}
	return t.agreeOn(local, "restoring rank 0's state")
}

// agreeOn makes a local failure everyone's: every rank reports whether
// it failed, and all return an error if any did (a rank's own error, or
// one naming the ranks that failed).
func (t *Trainer) agreeOn(local error, what string) error {
	flags := make([]float64, t.world())
	if local != nil {
		flags[t.rank()] = 1
	}
	if err := t.coll.AllReduceFloat64(bg, flags); err != nil {
		return errors.Join(local, fmt.Errorf("trainer: %s: %w", what, err))
	}
	if local != nil {
		return local
	}
	var bad []string
	for r, f := range flags {
		if f != 0 {
			bad = append(bad, strconv.Itoa(r))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("trainer: %s failed on rank %s (its own error says why)", what, strings.Join(bad, ", "))
	}
	return nil
}

// describe lists, one "name: value" per line, what every rank of a run
// must share for the ranks to train one model together.
func (t *Trainer) describe() string {
	c := t.cfg
	var b strings.Builder
	line := func(name string, v any) { fmt.Fprintf(&b, "%s: %v\n", name, v) }
	line("world size", t.world())
	line("Shape", c.Shape)
	line("batch size", t.batch)
	line("Iterations", c.Iterations)
	line("Alpha", c.Alpha)
	line("Objective", fmt.Sprintf("%s %+v", c.objectiveName(), c.Objective))
	line("Adam", fmt.Sprintf("%+v", c.Adam))
	line("ClipGradNorm", c.ClipGradNorm)
	line("Schedule", fmt.Sprintf("%+v", c.Schedule))
	line("Chains", c.Chains)
	line("Steps", c.Steps)
	line("BufferSize", c.BufferSize)
	line("ReinitProb", c.ReinitProb)
	line("DataNoise", c.DataNoise)
	line("DataMin, DataMax", fmt.Sprint(c.DataMin, ", ", c.DataMax))
	line("OnDiverge", c.OnDiverge)
	line("MaxGap", c.MaxGap)
	line("RollbackFactor", c.RollbackFactor)
	line("MaxRollbacks", c.MaxRollbacks)
	line("CheckpointEvery", c.CheckpointEvery)
	line("Dir set", c.Dir != "")
	line("Seed", c.Seed)
	line("Backend", fmt.Sprintf("%T", t.backend))
	for _, p := range t.model.Params() {
		line("parameter "+p.Name, fmt.Sprint(p.Shape(), " ", p.Dtype()))
	}
	return b.String()
}

// checkConfig compares every rank's settings with rank 0's. A rank that
// differs names the settings; the others name the rank.
func (t *Trainer) checkConfig() error {
	mine := t.describe()
	theirs, err := broadcastVar(t.coll, []byte(mine), 0)
	if err != nil {
		return fmt.Errorf("trainer: comparing the ranks' configurations: %w", err)
	}
	var local error
	if d := diffLines(string(theirs), mine); d != "" {
		local = fmt.Errorf("trainer: rank %d was started with settings that differ from rank 0's: %s", t.rank(), d)
	}
	return t.agreeOn(local, "comparing the ranks' configurations")
}

// diffLines names the lines of want that got lacks or has otherwise.
func diffLines(want, got string) string {
	value := func(s string) map[string]string {
		m := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			k, v, _ := strings.Cut(l, ": ")
			m[k] = v
		}
		return m
	}
	w, g := value(want), value(got)
	var diffs []string
	for _, l := range strings.Split(strings.TrimSpace(want), "\n") {
		k, _, _ := strings.Cut(l, ": ")
		if w[k] != g[k] {
			diffs = append(diffs, fmt.Sprintf("%s %s here, %s on rank 0", k, orNone(g[k]), orNone(w[k])))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s here, none on rank 0", k, g[k]))
		}
	}
	return strings.Join(diffs, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// The per-iteration agreement: after sampling, every rank contributes
// these counters, summed over the ranks.
const (
	agStopped = iota // this rank's context was cancelled
	agDiverged
	agFailed
	agAccept
	agDivergences
	agGradEvals
	agFresh
	agSampleSec
	agLen
)

// agree makes the end of sampling a decision of all ranks: if any rank
// was cancelled, failed or diverged, every rank undoes the iteration
// and returns the matching error, so that they stay in step (and write
// their checkpoints at the same iteration). On success it fills m with
// the sampling statistics of all ranks: mean acceptance, gradient
// evaluations and time, total divergences and fresh chains.
func (t *Trainer) agree(ctx context.Context, it int, m *Metrics, ss SampleStats, sampleErr error) error {
	v := make([]float64, agLen)
	switch {
	case sampleErr == nil:
	case ctx.Err() != nil:
		v[agStopped] = 1
	case errors.Is(sampleErr, sampling.ErrDiverged):
		v[agDiverged] = 1
	default:
		v[agFailed] = 1
	}
	v[agAccept] = ss.MeanAccept
	v[agDivergences] = float64(ss.Divergences)
	v[agGradEvals] = float64(ss.GradEvals)
	v[agFresh] = float64(m.Fresh)
	v[agSampleSec] = m.SampleSec
	if err := t.coll.AllReduceFloat64(bg, v); err != nil {
		return errors.Join(sampleErr, fmt.Errorf("trainer: iteration %d: %w", it, err))
	}
	n := float64(t.world())
	switch {
	case v[agFailed] > 0:
		if sampleErr != nil && ctx.Err() == nil && !errors.Is(sampleErr, sampling.ErrDiverged) {
			return sampleErr
		}
		return fmt.Errorf("trainer: iteration %d: sampling failed on %d other rank(s)", it, int(v[agFailed]))
	case v[agStopped] > 0:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errPeerStopped
	case v[agDiverged] > 0:
		if sampleErr != nil {
			return sampleErr
		}
		return fmt.Errorf("trainer: iteration %d: sampling diverged on %d other rank(s): %w", it, int(v[agDiverged]), sampling.ErrDiverged)
	}
	m.Accept = v[agAccept] / n
	m.Divergences = int(v[agDivergences])
	m.GradEvals = int(math.Round(v[agGradEvals] / n))
	m.Fresh = int(v[agFresh])
	m.SampleSec = v[agSampleSec] / n
	return nil
}

// meanOverRanks replaces the values of v by their means over the ranks.
func meanOverRanks(c Collective, v []float64) error {
	if err := c.AllReduceFloat64(bg, v); err != nil {
		return err
	}
	for i := range v {
		v[i] /= float64(c.Size())
	}
	return nil
}

// shardBlob encodes this rank's shard for rank 0's checkpoint.
func (t *Trainer) shardBlob() ([]byte, error) {
	meta := map[string]string{}
	ts := t.appendShard(nil, meta, "")
	var w bytes.Buffer
	if err := safetensors.Write(&w, ts, meta); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: %w", err)
	}
	return w.Bytes(), nil
}

// appendShardBlob adds a shard that shardBlob encoded to a checkpoint's
// tensors and metadata, under prefix.
func appendShardBlob(ts []safetensors.Tensor, meta map[string]string, prefix string, blob []byte) ([]safetensors.Tensor, error) {
	f, err := safetensors.NewFile(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		return nil, err
	}
	for k, v := range f.Metadata() {
		meta[prefix+k] = v
	}
	for _, info := range f.Tensors() {
		switch info.Name {
		case "buffer":
			d, err := f.Float32s(info.Name, nil)
			if err != nil {
				return nil, err
			}
			ts = append(ts, safetensors.Float32Tensor(prefix+info.Name, info.Shape, d))
		case "chains":
			d, err := f.Float64s(info.Name, nil)
			if err != nil {
				return nil, err
			}
			ts = append(ts, safetensors.Float64Tensor(prefix+info.Name, info.Shape, d))
		default:
			return nil, fmt.Errorf("unexpected tensor %q", info.Name)
		}
	}
	return ts, nil
}

// gatherCheckpoint collects every rank's shard on rank 0 and returns the
// whole run's checkpoint there (nil on the other ranks).
func (t *Trainer) gatherCheckpoint() ([]byte, error) {
	blob, err := t.shardBlob()
	if err != nil {
		return nil, err
	}
	blobs, err := gatherVar(t.coll, blob, 0)
	if err != nil {
		return nil, fmt.Errorf("trainer: checkpoint: gathering the ranks' shards: %w", err)
	}
	if t.rank() != 0 {
		return nil, nil
	}
	return t.encode(blobs[1:]...)
}

// broadcastVar sends root's b, of any length, to every rank.
func broadcastVar(c Collective, b []byte, root int) ([]byte, error) {
	var n [8]byte
	if c.Rank() == root {
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	}
	if err := c.BroadcastBytes(bg, n[:], root); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint64(n[:])
	if size > math.MaxInt32*8 {
		return nil, fmt.Errorf("trainer: broadcast of %d bytes", size)
	}
	out := make([]byte, size)
	if c.Rank() == root {
		copy(out, b)
	}
	if err := c.BroadcastBytes(bg, out, root); err != nil {
		return nil, err
	}
	return out, nil
}

// gatherVar collects every rank's b, of any length, on root; the result
// (indexed by rank) is nil elsewhere.
func gatherVar(c Collective, b []byte, root int) ([][]byte, error) {
	lens := make([]float64, c.Size())
	lens[c.Rank()] = float64(len(b))
	if err := c.AllReduceFloat64(bg, lens); err != nil {
		return nil, err
	}
	n := 0
	for _, l := range lens {
		n = max(n, int(l))
	}
	in := make([]byte, n)
	copy(in, b)
	var out []byte
	if c.Rank() == root {
		out = make([]byte, n*c.Size())
	}
	if err := c.GatherBytes(bg, in, out, root); err != nil {
		return nil, err
	}
	if c.Rank() != root {
		return nil, nil
	}
	all := make([][]byte, c.Size())
	for r := range all {
		all[r] = out[r*n : r*n+int(lens[r])]
	}
	return all, nil
}
