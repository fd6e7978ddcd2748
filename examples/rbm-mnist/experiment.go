package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/trainer"
)

// Results is everything a run measured, as written to results.json.
type Results struct {
	Config      Config        `json:"config"`
	TrainImages int           `json:"train_images"`
	TestImages  int           `json:"test_images"`
	Models      []ModelResult `json:"models"`
	// WallSeconds and CPUSeconds cover the whole run (CPU: user + system
	// time of the process, all cores; −1 where the platform cannot say).
	WallSeconds num    `json:"wall_seconds"`
	CPUSeconds  num    `json:"cpu_seconds"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	Platform    string `json:"platform"`
	Started     string `json:"started"`
}

// ModelResult is one trained model and its evaluation.
type ModelResult struct {
	Name    string `json:"name"` // e.g. "784×500 CD-1"
	Slug    string `json:"slug"` // file-name form, e.g. "784x500-cd1"
	Visible int    `json:"visible"`
	Hidden  int    `json:"hidden"`
	Method  Method `json:"method"`
	Epochs  int    `json:"epochs"`
	Updates int    `json:"updates"`
	// Training time over all sessions (a resumed model adds up), without
	// the per-epoch evaluation.
	TrainWall num `json:"train_wall_seconds"`
	TrainCPU  num `json:"train_cpu_seconds"`
	EvalWall  num `json:"eval_wall_seconds"`
	EvalCPU   num `json:"eval_cpu_seconds"`
	// Reused is true when the model was trained by an earlier run with the
	// same settings and loaded from its saved state.
	Reused bool `json:"reused"`

	// Mean free energy f(v) = log Σ_h exp g(v, h) of the test and
	// training images.
	TestF  num `json:"test_mean_f"`
	TrainF num `json:"train_mean_f"`
	// Exact log Z and log-likelihoods (small models).
	ExactLogZ    *num `json:"exact_log_z,omitempty"`
	ExactTestLL  *num `json:"exact_test_ll,omitempty"`
	ExactTrainLL *num `json:"exact_train_ll,omitempty"`
	// AIS estimates of log Z and the test log-likelihood bounds.
	AIS *AISEstimate `json:"ais,omitempty"`
	// Sweep is forward AIS at each of Config.AISSweep temperatures.
	Sweep []SweepPoint `json:"ais_sweep,omitempty"`

	Curve []EpochPoint `json:"curve"`
}

// AISEstimate is one AIS sandwich of log Z: forward AIS, a stochastic
// lower bound, against reverse AIS from exact samples (small models) or
// RAISE on test images (the conservative side, large models).
type AISEstimate struct {
	Chains int `json:"chains"`
	// Temps and ReverseTemps are the temperature counts of the forward and
	// reverse runs reported (the last of Attempts in each direction);
	// ReverseTemps is 0 where there was no reverse run.
	Temps        int `json:"temps"`
	ReverseTemps int `json:"reverse_temps,omitempty"`
	// Attempts lists every AIS run, forward then reverse: a run whose ESS
	// was below Config.AISMinESS of the chains was repeated with more
	// temperatures.
	Attempts []SweepPoint `json:"attempts"`
	Forward  AISBound     `json:"forward"`
	// Reverse is reverse AIS from exact samples (small models only): a
	// stochastic upper bound of log Z.
	Reverse *AISBound `json:"reverse,omitempty"`
	// RAISE is the reverse annealing estimator on test images: the upper
	// side of log Z for the large models, a check against the exact value
	// for the small ones.
	RAISE *RAISEBound `json:"raise,omitempty"`
	// Base names the base distribution: "base rate" or a small model.
	Base       string `json:"base"`
	BaseLogZ   num    `json:"base_log_z"`
	TestLLHigh num    `json:"test_ll_upper"` // mean f(test) − forward log Z
	TestLLLow  num    `json:"test_ll_lower"` // mean f(test) − reverse (small) or RAISE (large) log Z
	Wall       num    `json:"wall_seconds"`
	CPU        num    `json:"cpu_seconds"`
	Note       string `json:"note,omitempty"`
}

// RAISEBound is a RAISE estimate (ais.RAISERBM) on a random subset of the
// test images: the log Z it implies, mean over the images of
// f(v) − log q̂(v), with its standard error over the images.
type RAISEBound struct {
	Images         int `json:"images"`
	ChainsPerImage int `json:"chains_per_image"`
	Temps          int `json:"temps"`
	LogZ           num `json:"log_z"`
	StdErr         num `json:"std_err"`
	Wall           num `json:"wall_seconds"`
	CPU            num `json:"cpu_seconds"`
}

// SweepPoint is one AIS run of the temperature sweep or of the estimate.
type SweepPoint struct {
	// Run is "sweep", "forward" or "reverse".
	Run    string `json:"run"`
	Temps  int    `json:"temps"`
	Chains int    `json:"chains"`
	LogZ   num    `json:"log_z"`
	StdErr num    `json:"std_err"`
	ESS    num    `json:"ess"`
	Wall   num    `json:"wall_seconds"`
	CPU    num    `json:"cpu_seconds"`
}

// AISBound is one direction of AIS.
type AISBound struct {
	LogZ   num `json:"log_z"`
	StdErr num `json:"std_err"`
	ESS    num `json:"ess"`
}

// EpochPoint is what was measured after one epoch.
type EpochPoint struct {
	Epoch      int `json:"epoch"`
	ReconError num `json:"recon_error"`  // on 1000 training images
	WeightRMS  num `json:"weight_rms"`   // root mean square of the weights
	TrainF     num `json:"train_mean_f"` // same 1000 images
	TestF      num `json:"test_mean_f"`  // all test images
	// TestLL is the exact test log-likelihood (small models only).
	TestLL *num `json:"test_ll,omitempty"`
	// TestLLAIS is the test log-likelihood from a short forward AIS run
	// (large models, with -curve-ais-temps): an upper bound on average.
	TestLLAIS *num `json:"test_ll_ais,omitempty"`
	Seconds   num  `json:"seconds"` // training time of the epoch
}

// num is a float64 that is written to JSON as null when it is not finite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = num(f)
	return nil
}

func numPtr(f float64) *num { n := num(f); return &n }

// clock measures wall and CPU time from its start.
type clock struct {
	wall time.Time
	cpu  float64
}

func startClock() clock { return clock{time.Now(), platform.CPUSeconds()} }

// since returns the wall and CPU seconds since c started; CPU is −1 where
// the platform cannot measure it.
func (c clock) since() (wall, cpu float64) {
	wall = time.Since(c.wall).Seconds()
	if c.cpu < 0 {
		return wall, -1
	}
	return wall, platform.CPUSeconds() - c.cpu
}

// dataset is the binarised MNIST of a run.
type dataset struct {
	train, test []float64
	nTrain      int
	nTest       int
	dim         int
}

func loadData(ctx context.Context, cfg Config) (*dataset, error) {
	d := &dataset{}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xb1a))
	for _, s := range []struct {
		split datasets.Split
		limit int
		dst   *[]float64
		n     *int
	}{{datasets.Train, cfg.TrainLimit, &d.train, &d.nTrain}, {datasets.Test, cfg.TestLimit, &d.test, &d.nTest}} {
		m, err := datasets.LoadMNIST(ctx, s.split, datasets.MNISTConfig{Range: datasets.Unit, Limit: s.limit})
		if err != nil {
			return nil, fmt.Errorf("loading MNIST %s: %w", s.split, err)
		}
		if cfg.Binarize == "sample" {
			*s.dst = m.SampleBinarized(rng, nil)
		} else {
			*s.dst = m.Binarized(nil)
		}
		*s.n = m.N
		d.dim = m.Dim()
	}
	return d, nil
}

// Run trains and evaluates every model of cfg, writing pictures, state
// and results into cfg.Dir and progress lines to log.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Results, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	total := startClock()
	res := &Results{
		Config: cfg, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Platform: runtime.GOOS + "/" + runtime.GOARCH + " " + runtime.Version(),
		Started:  time.Now().UTC().Format(time.RFC3339),
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "state"), 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	fmt.Fprintf(log, "rbm-mnist: preset %s, output in %s, GOMAXPROCS %d\n", cfg.Preset, cfg.Dir, res.GOMAXPROCS)
	data, err := loadData(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.TrainImages, res.TestImages = data.nTrain, data.nTest
	fmt.Fprintf(log, "MNIST: %d training and %d test images, binarised by %s\n", data.nTrain, data.nTest, cfg.Binarize)
	if err := savePictureOfData(cfg.Dir, data); err != nil {
		return nil, err
	}
	small := map[string]*energy.RBM{} // trained small models, by method
	for _, spec := range []struct {
		ms    ModelSpec
		exact bool
	}{{cfg.Small, true}, {cfg.Large, false}} {
		for _, m := range spec.ms.Methods {
			mr, rbm, err := runModel(ctx, cfg, data, spec.ms, m, spec.exact, small, log)
			if err != nil {
				return nil, err
			}
			if spec.exact {
				small[methodList([]Method{m})] = rbm
			}
			res.Models = append(res.Models, *mr)
			// Write what we have after every model, so a long run that is
			// stopped later still leaves its finished numbers.
			w, c := total.since()
			res.WallSeconds, res.CPUSeconds = num(w), num(c)
			if err := writeResults(cfg.Dir, res); err != nil {
				return nil, err
			}
		}
	}
	if err := saveCurves(cfg.Dir, res); err != nil {
		return nil, err
	}
	w, c := total.since()
	res.WallSeconds, res.CPUSeconds = num(w), num(c)
	if err := writeResults(cfg.Dir, res); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "done in %s wall, %s CPU; results in %s\n", fmtDur(w), fmtDur(c), filepath.Join(cfg.Dir, "results.md"))
	return res, nil
}

// sideState is saved next to a model's trainer state: what the trainer
// does not keep.
type sideState struct {
	Curve     []EpochPoint `json:"curve"`
	TrainWall float64      `json:"train_wall_seconds"`
	TrainCPU  float64      `json:"train_cpu_seconds"`
}

// stateKey fingerprints everything that determines a trained model.
func stateKey(cfg Config, ms ModelSpec, m Method, nTrain int) string {
	b, _ := json.Marshal(struct {
		Seed     uint64
		Binarize string
		Batch    int
		N        int
		Hidden   int
		Epochs   int
		Method   Method
	}{cfg.Seed, cfg.Binarize, cfg.BatchSize, nTrain, ms.Hidden, ms.Epochs, m})
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64())
}

// runModel trains (or resumes, or reloads) one model and evaluates it.
// small holds the small models trained so far, by method ("pcd1"), for
// Config.AISBase.
func runModel(ctx context.Context, cfg Config, data *dataset, ms ModelSpec, m Method, exact bool, small map[string]*energy.RBM, log io.Writer) (*ModelResult, *energy.RBM, error) {
	nv := data.dim
	mr := &ModelResult{
		Name: fmt.Sprintf("%d×%d %s", nv, ms.Hidden, m.Name), Visible: nv, Hidden: ms.Hidden,
		Slug:   fmt.Sprintf("%dx%d-%s", nv, ms.Hidden, strings.ReplaceAll(m.Spec, ":", "-")),
		Method: m, Epochs: ms.Epochs,
	}
	tag := "[" + mr.Name + "]"
	key := stateKey(cfg, ms, m, data.nTrain)
	statePath := filepath.Join(cfg.Dir, "state", mr.Slug+"-"+key+".rbmstate")
	sidePath := filepath.Join(cfg.Dir, "state", mr.Slug+"-"+key+".json")

	// The seed of each model depends on the run's seed and the model.
	h := fnv.New64a()
	h.Write([]byte(mr.Slug))
	seed := cfg.Seed ^ h.Sum64()
	rbm, err := energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 1)), nv, ms.Hidden, energy.RBMInit{Data: data.train})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", mr.Name, err)
	}
	var side sideState
	var tr *trainer.RBMTrainer
	eval := &evaluator{data: data, exact: exact, curveTemps: cfg.CurveAISTemps, curveChains: cfg.AISChains, seed: seed ^ 0xc0ffee}
	if !exact && cfg.AISBase != "" && cfg.AISBase != "base-rate" {
		eval.base, eval.baseName = small[cfg.AISBase], fmt.Sprintf("%d×%d %s", nv, cfg.Small.Hidden, strings.ToUpper(cfg.AISBase))
		if eval.base == nil {
			return nil, nil, fmt.Errorf("-ais-base %s: no such small model was trained", cfg.AISBase)
		}
	}
	tcfg := trainer.RBMConfig{
		Epochs: ms.Epochs, BatchSize: cfg.BatchSize, Steps: m.K, Persistent: m.Persistent,
		LearningRate: m.LearningRate, DecayLR: m.DecayLR,
		Momentum: m.Momentum, FinalMomentum: m.FinalMomentum, MomentumEpochs: m.MomentumEpochs,
		WeightDecay: m.WeightDecay, Seed: seed,
	}
	var session clock
	var evalWall, evalCPU float64 // per-epoch evaluation inside this session
	var saveErr error
	tcfg.Progress = func(p trainer.RBMProgress) {
		ev := startClock()
		pt := EpochPoint{Epoch: p.Epoch, ReconError: num(p.ReconError), WeightRMS: num(p.WeightNorm), TrainF: num(p.FreeEnergy), Seconds: num(p.EpochTime.Seconds())}
		testF, ll, err := eval.epoch(ctx, rbm, p.Epoch)
		if err != nil {
			saveErr = err
			return
		}
		pt.TestF = num(testF)
		line := fmt.Sprintf("%s epoch %d/%d  recon %.2f  |W| %.4f  f(train) %.2f  f(test) %.2f", tag, p.Epoch, p.Epochs, p.ReconError, p.WeightNorm, p.FreeEnergy, testF)
		switch {
		case exact:
			pt.TestLL = numPtr(ll)
			line += fmt.Sprintf("  test LL %.2f (exact)", ll)
		case !math.IsNaN(ll):
			pt.TestLLAIS = numPtr(ll)
			line += fmt.Sprintf("  test LL ≲ %.2f (AIS, %d temperatures)", ll, cfg.CurveAISTemps)
		}
		w, c := ev.since()
		evalWall += w
		evalCPU += c
		side.Curve = append(side.Curve, pt)
		sw, sc := session.since()
		fmt.Fprintf(log, "%s  %.1f s/epoch  lr %.3g  momentum %.2g\n", line, float64(pt.Seconds), p.LearningRate, p.Momentum)
		// Save the state after every epoch, atomically.
		st, err := tr.MarshalBinary()
		if err != nil {
			saveErr = err
			return
		}
		s2 := side
		s2.TrainWall += sw - evalWall
		s2.TrainCPU += sc - evalCPU
		sb, _ := json.Marshal(s2)
		if err := writeAtomic(statePath, st); err != nil {
			saveErr = err
			return
		}
		if err := writeAtomic(sidePath, sb); err != nil {
			saveErr = err
		}
	}
	tr, err = trainer.NewRBMTrainer(rbm, data.train, tcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", mr.Name, err)
	}
	if !cfg.Fresh {
		st, err := os.ReadFile(statePath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, nil, fmt.Errorf("%s: %w", mr.Name, err)
		default:
			sb, err := os.ReadFile(sidePath)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: saved state without its side file: %w", mr.Name, err)
			}
			if err := json.Unmarshal(sb, &side); err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", mr.Name, sidePath, err)
			}
			if err := tr.UnmarshalBinary(st); err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w (remove it or run with -fresh)", mr.Name, statePath, err)
			}
			if tr.Epoch() >= ms.Epochs {
				mr.Reused = true
				fmt.Fprintf(log, "%s trained earlier (%s); loaded\n", tag, statePath)
			} else {
				fmt.Fprintf(log, "%s resuming after epoch %d of %d\n", tag, tr.Epoch(), ms.Epochs)
			}
		}
	}
	if !mr.Reused {
		fmt.Fprintf(log, "%s training: %d epochs, batch %d, lr %g%s, momentum %g→%g, weight decay %g\n", tag, ms.Epochs, cfg.BatchSize,
			m.LearningRate, map[bool]string{true: " decaying to 0", false: ""}[m.DecayLR], m.Momentum, m.FinalMomentum, m.WeightDecay)
		session = startClock()
		err := tr.Run(ctx)
		if saveErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", mr.Name, saveErr)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", mr.Name, err)
		}
		sw, sc := session.since()
		side.TrainWall += sw - evalWall
		side.TrainCPU += sc - evalCPU
	}
	mr.Updates = tr.Updates()
	mr.Curve = side.Curve
	mr.TrainWall, mr.TrainCPU = num(side.TrainWall), num(side.TrainCPU)
	fmt.Fprintf(log, "%s trained: %d updates in %s wall, %s CPU\n", tag, mr.Updates, fmtDur(side.TrainWall), fmtDur(side.TrainCPU))

	ev := startClock()
	if err := eval.final(ctx, cfg, rbm, mr, log); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", mr.Name, err)
	}
	w, c := ev.since()
	mr.EvalWall, mr.EvalCPU = num(w), num(c)
	return mr, rbm, nil
}

// writeAtomic writes b to path through a temporary file and a rename, so
// that a kill never leaves half a file.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func fmtDur(s float64) string {
	if s < 0 {
		return "?"
	}
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

// meanF returns the mean free energy f(v) of the rows of x.
func meanF(rbm *energy.RBM, x []float64) (float64, error) {
	n := len(x) / rbm.Visible()
	f := make([]float64, n)
	if err := rbm.F(f, x); err != nil {
		return 0, err
	}
	var s float64
	for _, v := range f {
		s += v
	}
	return s / float64(n), nil
}
