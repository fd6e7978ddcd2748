package quality

import (
	_ "embed"
	"fmt"
)

// classifierFile is the classifier written by
//
//	go run ./cmd/train-classifier
//
// (see doc.go for its test accuracy and how it was trained).
//
//go:embed classifier.safetensors
var classifierFile []byte

// LoadClassifier returns the digit classifier shipped with the package,
// with the reference statistics of its features on the MNIST test set:
// no file and no training needed. Every call returns a new, independent
// Classifier.
func LoadClassifier() (*Classifier, error) {
	c, err := loadClassifier(classifierFile)
	if err != nil {
		return nil, fmt.Errorf("quality: embedded classifier.safetensors: %w", err)
	}
	return c, nil
}
