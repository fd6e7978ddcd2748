// Command train-classifier trains the classifier that package quality
// scores samples with — the digit classifier it embeds, or the same kind of
// judge for any labelled images — and writes it with the reference
// statistics of its features on the test images.
//
// Usage:
//
//	go run ./cmd/train-classifier [flags]
//	go run ./cmd/train-classifier -data DIR -out runs/NAME/judge.safetensors [flags]
//
// With the defaults it trains the small CNN of quality.NewClassifier for 12
// epochs with Adam (batch 128, peak learning rate 2e-3, cosine decay) on
// the 60 000 MNIST training images shifted at random by up to 2 pixels,
// prints the loss, the accuracy and the speed as it goes and the test
// accuracy after every epoch, fits the Gaussian of the penultimate
// features on the 10 000 test images, and writes everything to
// quality/classifier.safetensors, the file package quality embeds.
//
// With -data it reads any labelled source datasets.LoadImages reads, its
// format detected: a folder with one sub-folder of PNG/JPEG/GIF files per
// class (and train/ and test/ sub-folders for splits), IDX files
// (Fashion-MNIST, KMNIST; EMNIST as DIR/emnist-SET) or CIFAR-10's binary
// batches. The network is sized from the images (quality.NewClassifierFor),
// the class names come from the source, and a source without a test split
// gets one by holding out -holdout of its training images. -out is then
// required: put the file in the run folder of cmd/mnist-ebm as
// judge.safetensors, where training and eval find it.
//
// Flags:
//
//	-out path      where to write the classifier (MNIST: quality/classifier.safetensors)
//	-data dir      labelled images (default: MNIST from the Go module cache)
//	-size N|WxH    bring images to this size (default: as stored)
//	-channels n    1 (gray) or 3 (RGB); 0: as stored
//	-fit f         how -size is reached: resize-crop, resize or crop (resize-crop)
//	-holdout x     fraction held out as the test set when -data has no test split (0.1)
//	-epochs n      passes over the training set (12)
//	-batch n       mini-batch size (128)
//	-lr x          Adam's peak learning rate (2e-3)
//	-shift n       random translation of up to n pixels; 0 turns it off (2)
//	-flip          random left-right mirror images, for photographs
//	-filters n     channels of the first convolution, doubled by each further one (16)
//	-seed n        seeds the initial weights, the shuffling and the shifts (1)
//	-limit n       train on n training images only (0: all): the first n, or spread over the classes of an image folder
//	-min-acc x     exit with status 1 without writing if the final test accuracy is below x (0)
//
// Ctrl-C stops training and writes nothing.
package main
