// Command train-classifier trains the digit classifier that package quality
// scores MNIST samples with, and writes it with the reference statistics of
// its features on the MNIST test set.
//
// Usage:
//
//	go run ./cmd/train-classifier [flags]
//
// With the defaults it trains the small CNN of quality.NewClassifier for 12
// epochs with Adam (batch 128, peak learning rate 2e-3, cosine decay) on
// the 60 000 training images shifted at random by up to 2 pixels, prints
// the loss, the accuracy and the speed as it goes and the test accuracy
// after every epoch, fits the Gaussian of the penultimate features on the
// 10 000 test images, and writes everything to
// quality/classifier.safetensors, the file package quality embeds.
//
// Flags:
//
//	-out path      where to write the classifier (quality/classifier.safetensors)
//	-epochs n      passes over the training set (12)
//	-batch n       mini-batch size (128)
//	-lr x          Adam's peak learning rate (2e-3)
//	-shift n       random translation of up to n pixels; 0 turns it off (2)
//	-seed n        seeds the initial weights, the shuffling and the shifts (1)
//	-data dir      folder with the MNIST IDX files (default: the Go module cache)
//	-limit n       train on the first n training images only (0: all)
//	-min-acc x     exit with status 1 without writing if the final test accuracy is below x (0)
//
// Ctrl-C stops training and writes nothing.
package main
