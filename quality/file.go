package quality

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/nn"
	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// Names of the reference statistics in a classifier file, next to the
// network's parameters "0.weight" ... "7.bias".
const (
	refMeanName = "reference.mean" // F64 (64)
	refCovName  = "reference.cov"  // F64 (64, 64)
	refNKey     = "reference_n"    // metadata: number of reference images
	// Metadata describing the architecture (see ClassifierConfig); a file
	// without them holds MNIST's classifier.
	shapeKey   = "input_shape" // "C,H,W"
	classesKey = "classes"     // K
	namesKey   = "class_names" // JSON list of K strings
	filtersKey = "filters"     // channels of the first convolution
)

// fileModel presents the network's parameters and the reference statistics
// as one model, so that nn.Saver writes them in one file and a strict
// nn.Loader checks every name, shape and dtype when it reads them back.
type fileModel struct{ params []*graph.Param }

func (m fileModel) Params() []*graph.Param { return m.params }

func (m fileModel) Forward(*graph.Builder, *G.Node) (*G.Node, error) {
	return nil, errors.New("quality: a classifier file is not a network")
}

func refParams() (mean, cov *graph.Param) {
	return graph.NewParam(refMeanName, graph.Float64, FeatureDim),
		graph.NewParam(refCovName, graph.Float64, FeatureDim, FeatureDim)
}

func (c *Classifier) file() (fileModel, map[string]string) {
	ps := c.Net.Params()
	meta := maps.Clone(c.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta[shapeKey] = fmt.Sprintf("%d,%d,%d", c.cfg.Channels, c.cfg.Height, c.cfg.Width)
	meta[classesKey] = strconv.Itoa(c.cfg.Classes)
	meta[filtersKey] = strconv.Itoa(c.cfg.Filters)
	if c.cfg.ClassNames != nil {
		names, _ := json.Marshal(c.cfg.ClassNames)
		meta[namesKey] = string(names)
	}
	if c.Ref != nil {
		mean, cov := refParams()
		mean.SetFloat64s(c.Ref.Mean)
		v := make([]float64, 0, FeatureDim*FeatureDim)
		for i := range FeatureDim {
			for j := range FeatureDim {
				v = append(v, c.Ref.Cov.At(i, j))
			}
		}
		cov.SetFloat64s(v)
		ps = append(ps, mean, cov)
		if meta == nil {
			meta = map[string]string{}
		}
		meta[refNKey] = strconv.Itoa(c.Ref.N)
	}
	return fileModel{ps}, meta
}

// Save writes the classifier to w as a safetensors file: the network's
// float32 parameters under their PyTorch names, the reference statistics
// (if c.Ref is set) as the float64 tensors "reference.mean" (64) and
// "reference.cov" (64, 64), and c.Meta as the file's metadata. It returns
// an error wrapping ErrInput if c.Ref has a dimension other than
// FeatureDim.
func (c *Classifier) Save(w io.Writer) error {
	if err := c.checkRef(); err != nil {
		return err
	}
	m, meta := c.file()
	return nn.Saver{Metadata: meta}.Save(w, m)
}

// SaveFile writes the classifier to the file at path as Save does,
// atomically: a crash leaves the old file or the complete new one.
//
// PyTorch reads the network from it with
//
//	sd = safetensors.torch.load_file(path)
//	net.load_state_dict({k: v for k, v in sd.items() if not k.startswith("reference.")})
//
// for the torch.nn.Sequential of the layers listed at NewClassifier.
func (c *Classifier) SaveFile(path string) error {
	if err := c.checkRef(); err != nil {
		return err
	}
	m, meta := c.file()
	return nn.Saver{Metadata: meta}.SaveFile(path, m)
}

func (c *Classifier) checkRef() error {
	if c.Ref != nil && (c.Ref.Dim() != FeatureDim || c.Ref.Cov == nil || c.Ref.Cov.SymmetricDim() != FeatureDim) {
		return fmt.Errorf("quality: Classifier.Ref has dimension %d, want %d: %w", c.Ref.Dim(), FeatureDim, ErrInput)
	}
	return nil
}

// LoadClassifierFile reads a classifier written by SaveFile (by
// cmd/train-classifier). Every parameter must be present with its shape;
// the reference statistics are optional (c.Ref is nil without them).
// Errors name the file and wrap nn.ErrBadFormat for a corrupt file or
// nn.ErrMismatch for one that does not fit the architecture.
func LoadClassifierFile(path string) (*Classifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("quality: load classifier: %w", err)
	}
	c, err := loadClassifier(b)
	if err != nil {
		return nil, fmt.Errorf("quality: load classifier %s: %w", path, err)
	}
	return c, nil
}

// ReadClassifier reads a classifier written by Save from r; see
// LoadClassifierFile.
func ReadClassifier(r io.Reader) (*Classifier, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("quality: read classifier: %w", err)
	}
	c, err := loadClassifier(b)
	if err != nil {
		return nil, fmt.Errorf("quality: read classifier: %w", err)
	}
	return c, nil
}

func loadClassifier(b []byte) (*Classifier, error) {
	f, err := safetensors.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	meta := f.Metadata()
	cfg, err := fileConfig(meta)
	if err != nil {
		return nil, err
	}
	// The weights are overwritten; the seed only fills them meanwhile.
	c, err := NewClassifierFor(rand.New(rand.NewPCG(0, 0)), cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", nn.ErrBadFormat, err)
	}
	c.Meta = meta
	for _, k := range []string{"format", shapeKey, classesKey, namesKey, filtersKey} {
		delete(c.Meta, k)
	}
	m := fileModel{c.Net.Params()}
	_, hasMean := f.Info(refMeanName)
	_, hasCov := f.Info(refCovName)
	var mean, cov *graph.Param
	if hasMean || hasCov {
		mean, cov = refParams()
		m.params = append(m.params, mean, cov)
	}
	if err := nn.Load(bytes.NewReader(b), int64(len(b)), m); err != nil {
		return nil, err
	}
	if mean == nil {
		return c, nil
	}
	n, err := strconv.Atoi(c.Meta[refNKey])
	if err != nil || n < 2 {
		return nil, fmt.Errorf("metadata %q = %q is not a number of reference images ≥ 2: %w", refNKey, c.Meta[refNKey], nn.ErrBadFormat)
	}
	delete(c.Meta, refNKey)
	mv := mean.Float64s(nil)
	cv := cov.Float64s(nil)
	for i, v := range append(append([]float64(nil), mv...), cv...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("reference statistics: value %d is %v: %w", i, v, nn.ErrBadFormat)
		}
	}
	for i := range FeatureDim {
		for j := range i {
			if cv[i*FeatureDim+j] != cv[j*FeatureDim+i] {
				return nil, fmt.Errorf("%s is not symmetric at (%d, %d): %w", refCovName, i, j, nn.ErrBadFormat)
			}
		}
	}
	c.Ref = &Gaussian{N: n, Mean: mv, Cov: mat.NewSymDense(FeatureDim, cv)}
	return c, nil
}

// fileConfig reads the architecture from a classifier file's metadata;
// without it, the file holds MNIST's classifier.
func fileConfig(meta map[string]string) (ClassifierConfig, error) {
	var cfg ClassifierConfig
	bad := func(key string) error {
		return fmt.Errorf("metadata %q = %q is not valid: %w", key, meta[key], nn.ErrBadFormat)
	}
	if v, ok := meta[shapeKey]; ok {
		parts := strings.Split(v, ",")
		if len(parts) != 3 {
			return cfg, bad(shapeKey)
		}
		dims := make([]int, 3)
		for i, p := range parts {
			d, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || d <= 0 || d > 1<<14 {
				return cfg, bad(shapeKey)
			}
			dims[i] = d
		}
		cfg.Channels, cfg.Height, cfg.Width = dims[0], dims[1], dims[2]
	}
	for key, dst := range map[string]*int{classesKey: &cfg.Classes, filtersKey: &cfg.Filters} {
		if v, ok := meta[key]; ok {
			d, err := strconv.Atoi(v)
			if err != nil || d <= 0 {
				return cfg, bad(key)
			}
			*dst = d
		}
	}
	if v, ok := meta[namesKey]; ok {
		if err := json.Unmarshal([]byte(v), &cfg.ClassNames); err != nil {
			return cfg, bad(namesKey)
		}
	}
	return cfg, nil
}
