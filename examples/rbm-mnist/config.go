package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Method is one training algorithm with its optimiser settings.
type Method struct {
	// Name is how tables and files call it: CD-1, PCD-1, or with the
	// settings its Spec changes, "CD-3 (momentum 0.9, constant rate)".
	Name string `json:"name"`
	// Spec is the method as -small-methods and -large-methods write it:
	// "cd3", or with settings "cd3:m0.9:const" (see parseMethods).
	Spec string `json:"spec"`
	// K is the number of Gibbs steps in the negative phase.
	K int `json:"k"`
	// Persistent selects PCD.
	Persistent bool `json:"persistent"`
	// LearningRate, DecayLR, Momentum, FinalMomentum, MomentumEpochs and
	// WeightDecay are trainer.RBMConfig's fields, with its conventions
	// (negative momentum means none).
	LearningRate   float64 `json:"learning_rate"`
	DecayLR        bool    `json:"decay_lr"`
	Momentum       float64 `json:"momentum"`
	FinalMomentum  float64 `json:"final_momentum"`
	MomentumEpochs int     `json:"momentum_epochs"`
	WeightDecay    float64 `json:"weight_decay"`
}

// ModelSpec is one model size and the methods that train it.
type ModelSpec struct {
	Hidden  int      `json:"hidden"`
	Epochs  int      `json:"epochs"`
	Methods []Method `json:"methods"`
}

// Config is every setting of a run.
type Config struct {
	// Dir is the run folder: results, pictures and the training state
	// that a second run with the same Dir resumes from.
	Dir string `json:"dir"`
	// Seed seeds initialisation, training, sampling and AIS.
	Seed uint64 `json:"seed"`
	// TrainLimit and TestLimit, if positive, use only the first images of
	// each split (for quick runs and tests).
	TrainLimit int `json:"train_limit"`
	TestLimit  int `json:"test_limit"`
	// Binarize is "threshold" (p/255 > 0.5) or "sample" (Bernoulli(p/255)
	// once, with the seed, as Salakhutdinov & Murray's data set).
	Binarize  string `json:"binarize"`
	BatchSize int    `json:"batch_size"`
	// Small models get exact log-likelihoods; Large ones AIS estimates.
	Small ModelSpec `json:"small"`
	Large ModelSpec `json:"large"`
	// AISChains and AISTemps set the annealing runs: chains per run and
	// intermediate distributions (14,500 is Salakhutdinov & Murray's
	// schedule, 0.5/0.9 knots; other counts keep its proportions).
	AISChains int `json:"ais_chains"`
	AISTemps  int `json:"ais_temps"`
	// SmallAISTemps is AISTemps for the check on the small models.
	SmallAISTemps int `json:"small_ais_temps"`
	// AISMinESS is the fraction of the chains the weight ESS of an AIS run
	// must reach: a run below it is repeated with 2 to 8 times the
	// temperatures, as its ESS suggests, up to AISMaxTemps. Zero accepts
	// every run.
	AISMinESS   float64 `json:"ais_min_ess"`
	AISMaxTemps int     `json:"ais_max_temps"`
	// GibbsSteps is the length of the block-Gibbs chains that draw the
	// model samples shown in pictures.
	GibbsSteps int `json:"gibbs_steps"`
	// RAISEImages is the number of test images (a random subset fixed by
	// the seed, the same for every model) RAISE starts its reverse chains
	// from, RAISEChains chains each, at AISTemps (SmallAISTemps for the
	// small models) even where forward AIS raised its count: the
	// conservative side of the large models' sandwich and a check on the
	// small ones. Its cost is RAISEImages·RAISEChains/AISChains times a
	// forward run's. Zero means no RAISE: the large
	// models then have forward AIS alone.
	RAISEImages int `json:"raise_images"`
	RAISEChains int `json:"raise_chains"`
	// CurveAISTemps, if positive, runs a forward AIS of this many
	// temperatures (AISChains chains) after every epoch of the large
	// models, for a rough test log-likelihood curve.
	CurveAISTemps int `json:"curve_ais_temps"`
	// SmallAIS also runs AIS on the small models, whose log Z is exact:
	// forward, reverse from exact samples, and RAISE as for the large
	// models.
	SmallAIS bool `json:"small_ais"`
	// AISBase is the base of the large models' AIS: "base-rate" (or "",
	// Salakhutdinov & Murray's base-rate RBM) or a small model's method
	// ("pcd1"): that trained small RBM, whose log Z and samples are exact.
	AISBase string `json:"ais_base"`
	// AISSweep lists temperature counts at which every large model also
	// gets a forward AIS run (AISChains chains), to show how the weight
	// ESS grows with the temperatures.
	AISSweep []int `json:"ais_sweep,omitempty"`
	// Fresh ignores saved training state.
	Fresh bool `json:"-"`
	// Preset is the preset the flags started from.
	Preset string `json:"preset"`
}

// presets are the named starting points for the flags.
var presets = map[string]func() Config{
	// default: small and large models of three methods each, with AIS
	// trusted only where its ESS reaches half the chains.
	"default": func() Config {
		return Config{
			Dir: "runs/rbm-mnist", Seed: 1, Binarize: "threshold", BatchSize: 100,
			Small:     ModelSpec{Hidden: 16, Epochs: 10, Methods: methods("cd1,cd10,pcd1")},
			Large:     ModelSpec{Hidden: 500, Epochs: 8, Methods: methods("cd1,cd3,pcd1")},
			AISChains: 100, AISTemps: 10000, SmallAISTemps: 5000, GibbsSteps: 1000, SmallAIS: true,
			AISMinESS: 0.5, AISMaxTemps: 40000, RAISEImages: 200, RAISEChains: 1,
		}
	},
	// ordering: CD-1, CD-3, CD-25 and PCD-1 with one recipe, at 784×20
	// (exact, 10 epochs) and 784×500 (5 epochs; forward AIS with 20,000
	// temperatures, whose ESS is above half the chains for every model,
	// and RAISE on 200 test images), for the published comparison;
	// per-epoch AIS curves of the large models. About 70 minutes on 2
	// cores.
	"ordering": func() Config {
		return Config{
			Dir: "runs/rbm-mnist-ordering", Seed: 1, Binarize: "threshold", BatchSize: 100,
			Small:     ModelSpec{Hidden: 20, Epochs: 10, Methods: methods("cd1,cd3,cd25,pcd1")},
			Large:     ModelSpec{Hidden: 500, Epochs: 5, Methods: methods("cd1,cd3,cd25,pcd1")},
			AISChains: 100, AISTemps: 20000, SmallAISTemps: 5000, GibbsSteps: 1000, SmallAIS: true,
			AISMinESS: 0.5, AISMaxTemps: 40000, CurveAISTemps: 500, RAISEImages: 200, RAISEChains: 1,
		}
	},
	// momentum: why CD-3 once came out worse than CD-1. CD-1 and CD-3
	// with Hinton's rbm.m schedule (momentum 0.5 for five epochs, then
	// 0.9, at a constant rate), with momentum 0.5 throughout at the same
	// constant rate, and with the default recipe (momentum 0.5, rate
	// decaying to 0): exact test log-likelihoods per epoch at 784×20,
	// short forward AIS per epoch and a final sandwich at 784×500.
	"momentum": func() Config {
		list := "cd1:m0.9:const,cd3:m0.9:const,cd1:m0.5:const,cd3:m0.5:const,cd1:m0.5:decay,cd3:m0.5:decay"
		return Config{
			Dir: "runs/rbm-mnist-momentum", Seed: 1, Binarize: "threshold", BatchSize: 100,
			Small:     ModelSpec{Hidden: 20, Epochs: 12, Methods: methods(list)},
			Large:     ModelSpec{Hidden: 500, Epochs: 12, Methods: methods(list)},
			AISChains: 100, AISTemps: 10000, SmallAISTemps: 5000, GibbsSteps: 1000,
			AISMinESS: 0.5, AISMaxTemps: 40000, CurveAISTemps: 1000, RAISEImages: 200, RAISEChains: 1,
		}
	},
	// paper: the length of training and evaluation behind the published
	// tables (hundreds of epochs, CD-25, the full AIS schedule). Many
	// hours on 2 cores.
	"paper": func() Config {
		return Config{
			Dir: "runs/rbm-mnist-paper", Seed: 1, Binarize: "threshold", BatchSize: 100,
			Small:     ModelSpec{Hidden: 20, Epochs: 200, Methods: methods("cd1,cd3,cd25,pcd1")},
			Large:     ModelSpec{Hidden: 500, Epochs: 200, Methods: methods("cd1,cd3,cd25,pcd1")},
			AISChains: 100, AISTemps: 14500, SmallAISTemps: 14500, GibbsSteps: 10000, SmallAIS: true,
			AISMinESS: 0.5, AISMaxTemps: 464000, RAISEImages: 1000, RAISEChains: 1,
		}
	},
	// quick: a few minutes, to try the pipeline.
	"quick": func() Config {
		return Config{
			Dir: "runs/rbm-mnist-quick", Seed: 1, Binarize: "threshold", BatchSize: 100,
			TrainLimit: 10000, TestLimit: 2000,
			Small:     ModelSpec{Hidden: 16, Epochs: 3, Methods: methods("cd1,pcd1")},
			Large:     ModelSpec{Hidden: 100, Epochs: 3, Methods: methods("cd1,pcd1")},
			AISChains: 50, AISTemps: 1000, SmallAISTemps: 1000, GibbsSteps: 200, SmallAIS: true,
			AISMinESS: 0.5, AISMaxTemps: 16000, RAISEImages: 100, RAISEChains: 1,
		}
	},
}

// Default recipes. CD-k at rate 0.01 decaying linearly to zero and
// momentum 0.5 throughout. Hinton's rbm.m schedule (momentum 0.5 for five
// epochs, then 0.9) at a constant 0.01 makes CD diverge at 784×500: the
// test log-likelihood (short forward AIS) of CD-1 peaks at −103 in epoch 6
// and falls to −175 by epoch 30, CD-3's peaks at −100 and falls faster,
// to −133 by epoch 8, before settling near −150 — at epoch 8 CD-3 looked
// worse than CD-1 although it is better at its peak and at the plateau.
// With the decaying rate and momentum 0.5, CD-1 rises steadily to about
// −101 in 20 epochs. PCD: rate 0.02 decaying linearly to zero and
// momentum 0.5 throughout: with 0.9 the persistent chains fall behind the
// model and training breaks down (measured on the 784×16 models: test
// log-likelihood −144 with 0.5 against −154 with 0.9 at rate 0.05, and a
// collapse to −193 at rate 0.1). The rate trades what is gained at one
// size against what can be measured at the other: after 10 epochs at
// 784×20 (exact) PCD-1 reaches −151.7, −145.4, −142.1 and −141.2 nats at
// rates 0.01, 0.02, 0.03 and 0.05; after 5 epochs at 784×500, forward AIS
// with 20,000 temperatures and RAISE agree at 0.01 (−114.8, weight ESS
// 69 of 100) and 0.02 (−101.3, ESS 45–69), at 0.03 (−95.4 … −97.2)
// only with an ESS of 36–53, and at 0.05 not at all (forward runs spread
// over 11 nats, ESS 1–26).
const (
	defaultCDLR        = 0.01
	defaultCDMomentum  = 0.5
	defaultPCDLR       = 0.02
	defaultPCDMomentum = 0.5
)

// recipe holds the settings a method takes unless its spec changes them:
// the defaults below, or the flags -cd-lr, -cd-momentum, -cd-decay,
// -pcd-lr, -pcd-momentum and -weight-decay.
type recipe struct {
	cdLR, cdMomentum   float64
	cdDecay            bool
	pcdLR, pcdMomentum float64
	weightDecay        float64
}

var defaultRecipe = recipe{cdLR: defaultCDLR, cdMomentum: defaultCDMomentum, cdDecay: true, pcdLR: defaultPCDLR, pcdMomentum: defaultPCDMomentum, weightDecay: 2e-4}

// methods parses a list such as "cd1,cd10,pcd1" with the default recipe;
// it panics on a malformed list (it is only called on literals).
func methods(list string) []Method {
	m, err := parseMethods(list, defaultRecipe)
	if err != nil {
		panic(err)
	}
	return m
}

// parseMethods reads a comma-separated list of methods: "cdK" (CD-k) or
// "pcdK" (persistent CD with k Gibbs steps per update), each optionally
// followed by settings that replace r's for that method alone, separated
// by colons:
//
//	mX     momentum X after the first 5 epochs (0.5 before; negative: none)
//	lrX    learning rate X
//	const  a constant learning rate
//	decay  a learning rate decaying linearly to 0 over the run
//
// so that "cd3:m0.9:const" is CD-3 with Hinton's rbm.m schedule.
func parseMethods(list string, r recipe) ([]Method, error) {
	var out []Method
	for _, item := range strings.Split(list, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		m := Method{Momentum: 0.5, MomentumEpochs: 5, WeightDecay: r.weightDecay}
		var digits string
		switch head := parts[0]; {
		case strings.HasPrefix(head, "pcd"):
			m.Persistent, digits = true, head[3:]
			m.LearningRate, m.DecayLR, m.FinalMomentum = r.pcdLR, true, r.pcdMomentum
		case strings.HasPrefix(head, "cd"):
			digits = head[2:]
			m.LearningRate, m.DecayLR, m.FinalMomentum = r.cdLR, r.cdDecay, r.cdMomentum
		default:
			return nil, fmt.Errorf("method %q: want cdK or pcdK, e.g. cd1, cd10, pcd1, optionally with settings (cd3:m0.9:const)", item)
		}
		if digits == "" {
			digits = "1"
		}
		k, err := strconv.Atoi(digits)
		if err != nil || k < 1 {
			return nil, fmt.Errorf("method %q: the number of Gibbs steps must be a positive integer", item)
		}
		m.K = k
		m.Name = fmt.Sprintf("CD-%d", k)
		if m.Persistent {
			m.Name = fmt.Sprintf("PCD-%d", k)
		}
		var words []string
		for _, set := range parts[1:] {
			var v float64
			var err error
			switch {
			case set == "const" || set == "decay":
				m.DecayLR = set == "decay"
				words = append(words, map[bool]string{true: "decaying rate", false: "constant rate"}[m.DecayLR])
			case strings.HasPrefix(set, "lr"):
				v, err = strconv.ParseFloat(set[2:], 64)
				m.LearningRate = v
				words = append(words, "rate "+set[2:])
			case strings.HasPrefix(set, "m"):
				v, err = strconv.ParseFloat(set[1:], 64)
				m.FinalMomentum = v
				words = append(words, "momentum "+set[1:])
			default:
				return nil, fmt.Errorf("method %q: setting %q: want mX (momentum), lrX (learning rate), const or decay", item, set)
			}
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("method %q: setting %q is not a finite number", item, set)
			}
		}
		if m.Persistent && !m.DecayLR {
			return nil, fmt.Errorf("method %q: PCD always decays its learning rate (Tieleman 2008)", item)
		}
		m.Spec = item
		if len(words) > 0 {
			m.Name += " (" + strings.Join(words, ", ") + ")"
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("no methods")
	}
	return out, nil
}

// methodList writes methods back as a list parseMethods reads.
func methodList(ms []Method) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Spec)
	}
	return strings.Join(s, ",")
}

// parseFlags reads the command line: a preset, then flags over it.
func parseFlags(args []string, stderr io.Writer) (Config, error) {
	preset := "default"
	for i, a := range args {
		// Find -preset first, since the other flags' defaults depend on it.
		for _, p := range []string{"-preset=", "--preset="} {
			if v, ok := strings.CutPrefix(a, p); ok {
				preset = v
			}
		}
		if (a == "-preset" || a == "--preset") && i+1 < len(args) {
			preset = args[i+1]
		}
	}
	mk, ok := presets[preset]
	if !ok {
		return Config{}, fmt.Errorf("-preset %q: want default, ordering, momentum, paper or quick", preset)
	}
	cfg := mk()
	cfg.Preset = preset
	fs := flag.NewFlagSet("rbm-mnist", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./examples/rbm-mnist [flags]\n\n"+
			"Trains RBMs on binarised MNIST by CD-k and PCD and reports test log-likelihoods\n"+
			"(exact for the small models; for the large ones between forward AIS and RAISE).\n\n")
		fs.PrintDefaults()
	}
	fs.String("preset", preset, "starting settings: default, ordering (CD-1, CD-3, CD-25, PCD-1 at 784×20 and 784×500), momentum (CD-1 and CD-3 with rbm.m's momentum 0.9 against 0.5), paper (the published run lengths; days), quick")
	fs.StringVar(&cfg.Dir, "dir", cfg.Dir, "run folder: results, pictures and the training state (a second run with the same -dir resumes)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.TrainLimit, "train-limit", cfg.TrainLimit, "use only the first N training images (0: all 60,000)")
	fs.IntVar(&cfg.TestLimit, "test-limit", cfg.TestLimit, "use only the first N test images (0: all 10,000)")
	fs.StringVar(&cfg.Binarize, "binarize", cfg.Binarize, "threshold (p/255 > 0.5) or sample (Bernoulli(p/255), fixed by the seed)")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "mini-batch size")
	fs.IntVar(&cfg.Small.Hidden, "small-hidden", cfg.Small.Hidden, "hidden units of the small models (exact log Z; at most 24)")
	fs.IntVar(&cfg.Small.Epochs, "small-epochs", cfg.Small.Epochs, "training epochs of the small models")
	smallM := fs.String("small-methods", methodList(cfg.Small.Methods), "methods for the small models (cdK, pcdK; empty: none)")
	fs.IntVar(&cfg.Large.Hidden, "large-hidden", cfg.Large.Hidden, "hidden units of the large models (AIS)")
	fs.IntVar(&cfg.Large.Epochs, "large-epochs", cfg.Large.Epochs, "training epochs of the large models")
	largeM := fs.String("large-methods", methodList(cfg.Large.Methods), "methods for the large models (cdK, pcdK; empty: none)")
	r := defaultRecipe
	fs.Float64Var(&r.cdLR, "cd-lr", r.cdLR, "CD learning rate")
	fs.Float64Var(&r.cdMomentum, "cd-momentum", r.cdMomentum, "CD momentum after the first 5 epochs (0.5 before; negative: none)")
	fs.BoolVar(&r.cdDecay, "cd-decay", r.cdDecay, "decay the CD learning rate linearly to 0 over the run, as PCD's (false: constant)")
	fs.Float64Var(&r.pcdLR, "pcd-lr", r.pcdLR, "PCD learning rate, decayed linearly to 0")
	fs.Float64Var(&r.pcdMomentum, "pcd-momentum", r.pcdMomentum, "PCD momentum after the first 5 epochs (0.5 before; negative: none)")
	fs.Float64Var(&r.weightDecay, "weight-decay", r.weightDecay, "L2 weight decay on the weights")
	fs.IntVar(&cfg.AISChains, "ais-chains", cfg.AISChains, "AIS chains per run")
	fs.IntVar(&cfg.AISTemps, "ais-temps", cfg.AISTemps, "AIS intermediate distributions for the large models (Salakhutdinov & Murray: 14500)")
	fs.IntVar(&cfg.SmallAISTemps, "small-ais-temps", cfg.SmallAISTemps, "AIS intermediate distributions for the check on the small models")
	fs.Float64Var(&cfg.AISMinESS, "ais-min-ess", cfg.AISMinESS, "fraction of the chains an AIS run's weight ESS must reach, else it is repeated with more temperatures (0: accept every run)")
	fs.IntVar(&cfg.AISMaxTemps, "ais-max-temps", cfg.AISMaxTemps, "the most temperatures -ais-min-ess may raise an AIS run to")
	fs.IntVar(&cfg.GibbsSteps, "gibbs-steps", cfg.GibbsSteps, "block Gibbs steps of the chains that draw the model samples in pictures")
	fs.IntVar(&cfg.RAISEImages, "raise-images", cfg.RAISEImages, "test images RAISE starts from (the conservative side of the large models' log-likelihood; 0: none)")
	fs.IntVar(&cfg.RAISEChains, "raise-chains", cfg.RAISEChains, "RAISE chains per test image")
	fs.IntVar(&cfg.CurveAISTemps, "curve-ais-temps", cfg.CurveAISTemps, "if > 0, a forward AIS of this many temperatures after every epoch of the large models: a rough test log-likelihood curve (1000 costs ≈ 10 s per epoch)")
	fs.BoolVar(&cfg.SmallAIS, "small-ais", cfg.SmallAIS, "also run AIS on the small models, to check it against the exact log Z")
	fs.StringVar(&cfg.AISBase, "ais-base", cfg.AISBase, "base of the large models' AIS: base-rate, or a small model's method (e.g. pcd1), whose log Z and samples are exact")
	sweep := fs.String("ais-sweep", intList(cfg.AISSweep), "comma-separated temperature counts: a forward AIS run at each, on every large model (ESS against temperatures)")
	fs.BoolVar(&cfg.Fresh, "fresh", false, "ignore saved training state in -dir and train from scratch")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (flags only; -h for help)", fs.Arg(0))
	}
	sw, err := parseIntList(*sweep)
	if err != nil {
		return cfg, fmt.Errorf("-ais-sweep: %w", err)
	}
	cfg.AISSweep = sw
	for name, v := range map[string]float64{"cd-lr": r.cdLR, "cd-momentum": r.cdMomentum, "pcd-lr": r.pcdLR, "pcd-momentum": r.pcdMomentum, "weight-decay": r.weightDecay, "ais-min-ess": cfg.AISMinESS} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return cfg, fmt.Errorf("-%s %v: want a finite number", name, v)
		}
	}
	for _, ms := range []struct {
		spec *ModelSpec
		list *string
		flag string
	}{{&cfg.Small, smallM, "small-methods"}, {&cfg.Large, largeM, "large-methods"}} {
		if strings.TrimSpace(*ms.list) == "" {
			ms.spec.Methods = nil
			continue
		}
		m, err := parseMethods(*ms.list, r)
		if err != nil {
			return cfg, fmt.Errorf("-%s: %w", ms.flag, err)
		}
		ms.spec.Methods = m
	}
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	switch {
	case c.Dir == "":
		return errors.New("-dir is empty")
	case c.Binarize != "threshold" && c.Binarize != "sample":
		return fmt.Errorf("-binarize %q: want threshold or sample", c.Binarize)
	case c.BatchSize < 1:
		return fmt.Errorf("-batch %d: want at least 1", c.BatchSize)
	case c.TrainLimit < 0 || c.TestLimit < 0:
		return fmt.Errorf("-train-limit %d, -test-limit %d: want ≥ 0", c.TrainLimit, c.TestLimit)
	case c.Small.Hidden < 1 || c.Small.Hidden > 24:
		return fmt.Errorf("-small-hidden %d: want 1 to 24 (exact log Z enumerates 2^hidden states)", c.Small.Hidden)
	case c.Large.Hidden < 1:
		return fmt.Errorf("-large-hidden %d: want at least 1", c.Large.Hidden)
	case c.Small.Epochs < 1 || c.Large.Epochs < 1:
		return fmt.Errorf("-small-epochs %d, -large-epochs %d: want at least 1", c.Small.Epochs, c.Large.Epochs)
	case c.AISChains < 2:
		return fmt.Errorf("-ais-chains %d: want at least 2 (for a standard error)", c.AISChains)
	case c.AISTemps < 10 || c.SmallAIS && c.SmallAISTemps < 10:
		return fmt.Errorf("-ais-temps %d, -small-ais-temps %d: want at least 10", c.AISTemps, c.SmallAISTemps)
	case c.CurveAISTemps < 0 || c.CurveAISTemps > 0 && c.CurveAISTemps < 10:
		return fmt.Errorf("-curve-ais-temps %d: want 0 (off) or at least 10", c.CurveAISTemps)
	case !(c.AISMinESS >= 0 && c.AISMinESS <= 1):
		return fmt.Errorf("-ais-min-ess %v: want a fraction in [0, 1]", c.AISMinESS)
	case c.AISMaxTemps < c.AISTemps || c.SmallAIS && c.AISMaxTemps < c.SmallAISTemps:
		return fmt.Errorf("-ais-max-temps %d: want at least -ais-temps %d and -small-ais-temps %d", c.AISMaxTemps, c.AISTemps, c.SmallAISTemps)
	case c.GibbsSteps < 1:
		return fmt.Errorf("-gibbs-steps %d: want at least 1", c.GibbsSteps)
	case c.RAISEImages < 0:
		return fmt.Errorf("-raise-images %d: want 0 (none) or more", c.RAISEImages)
	case c.RAISEImages > 0 && c.RAISEChains < 1:
		return fmt.Errorf("-raise-chains %d: want at least 1", c.RAISEChains)
	}
	for _, t := range c.AISSweep {
		if t < 10 {
			return fmt.Errorf("-ais-sweep: %d temperatures, want at least 10", t)
		}
	}
	if b := c.AISBase; b != "" && b != "base-rate" && len(c.Large.Methods) > 0 {
		found := false
		for _, m := range c.Small.Methods {
			found = found || methodList([]Method{m}) == b
		}
		if !found {
			return fmt.Errorf("-ais-base %q: want base-rate or one of the small methods (%s)", b, methodList(c.Small.Methods))
		}
	}
	for _, ms := range []ModelSpec{c.Small, c.Large} {
		for _, m := range ms.Methods {
			if !(m.LearningRate > 0) || math.IsInf(m.LearningRate, 0) {
				return fmt.Errorf("%s: learning rate %v, want > 0", m.Name, m.LearningRate)
			}
		}
	}
	return nil
}

// intList formats counts as "1000,3000".
func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// parseIntList reads "1000,3000" (empty: none).
func parseIntList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
