// Package quality scores the samples of generative models of images the
// way such models are scored in the literature: a classifier trained on
// the same data (for MNIST a digit classifier, which this project trains
// itself with cmd/train-classifier and embeds) judges how much the samples
// look like members of its classes, how evenly they cover the classes,
// and how close the distribution of its features on them is to that on
// real test images.
//
// # Other data
//
// NewClassifierFor builds the same kind of judge for any C×H×W images and
// K classes (ClassifierConfig): a stride-2 5×5 convolution, then stride-2
// 3×3 convolutions doubling the channels until the image is at most 8×8,
// then Linear(→64) SiLU [features] and Linear(64→K). Train fits it to any
// labelled datasets.ImageSet (an image folder with one sub-folder per
// class, Fashion-MNIST, CIFAR-10, …), with random shifts and, for
// photographs, mirror images (TrainConfig.Flip); SetReference on the test
// images gives the Fréchet distance its reference. The file SaveFile
// writes records the input shape, the number and names of the classes and
// the width, so LoadClassifierFile rebuilds it; cmd/train-classifier
// -data DIR does all of this. Scores and Reference (with
// ReferenceConfig.Data) then work as for MNIST, with log K as the class
// entropy of a balanced set.
//
// # The classifier
//
// A small CNN on 28×28 images in [−1, 1] (NewClassifier):
//
//	Conv2d(1→16, 5, s2, p2) SiLU → Conv2d(16→32, 3, s2, p1) SiLU → Flatten
//	→ Linear(1568→64) SiLU  [features φ(x) ∈ ℝ⁶⁴]  → Linear(64→10)  [logits z(x)]
//
// trained with package graph, optim.Adam and the cross-entropy
// L = −(1/B) Σ_b log softmax(z(x_b))_{y_b} on the 60 000 MNIST training
// images shifted at random by up to 2 pixels. The embedded weights
// (classifier.safetensors, 459 KB: float32 weights and the float64
// reference statistics) were written by
//
//	go run ./cmd/train-classifier
//
// (12 epochs, batch 128, Adam with a peak learning rate of 2e-3, warm-up
// and cosine decay, seed 1; 3 minutes on 2 shared cores) and classify
// 99.23% of the 10 000 MNIST test digits correctly (9923). LoadClassifier
// returns them, with no file and no training.
//
// # The scores
//
// For N samples x_1..x_N with class probabilities p(k|x) = softmax(z(x))_k
// (see Scores):
//
//   - confidence: (1/N) Σ_i max_k p(k|x_i), and the fraction of samples
//     with max_k p(k|x_i) > 0.9;
//
//   - class balance: the entropy H(h) = −Σ_k h_k log h_k, in nats, of the
//     predicted-class frequencies h_k = #{i : argmax p(·|x_i) = k}/N;
//     log 10 ≈ 2.303 means perfectly balanced, 0 means one class only;
//
//   - classifier score (the Inception score of Salimans et al. 2016 with
//     this classifier): exp((1/N) Σ_i KL(p(·|x_i) ‖ p̄)), p̄ = (1/N) Σ_i
//     p(·|x_i), between 1 and 10;
//
//   - Fréchet distance (the FID of Heusel et al. 2017 with this
//     classifier's features in place of Inception's): fit Gaussians
//     N(μ₁, C₁) to the features φ(x_i) of the samples and N(μ₂, C₂) to
//     those of the 10 000 MNIST test digits (computed when the classifier
//     was trained and stored with its weights), then
//
//     FD = ‖μ₁ − μ₂‖² + tr(C₁ + C₂ − 2 (C₁^½ C₂ C₁^½)^½),
//
//     the squared 2-Wasserstein distance between the two Gaussians. Both
//     matrix square roots are of symmetric positive semi-definite matrices
//     and are computed from eigendecompositions (gonum's mat.EigenSym),
//     clipping negative rounding errors to zero:
//     tr (C₁^½ C₂ C₁^½)^½ = Σ_j √λ_j(C₁^½ C₂ C₁^½). The sample
//     covariance makes FD biased upwards by roughly O(d/N), so compare
//     FDs of equally many samples (e.g. 1000 or more).
//
// # The scale
//
// Reference scores real digits and uniform noise with the same N. With the
// embedded classifier (FD in squared feature units; the features are not
// normalised, so FDs of different classifiers do not compare):
//
//	                        N = 500   N = 1000   N = 5000
//	real digits (train) FD    17–20      9–10     3.5–4
//	uniform noise FD           1300      1300      1300
//
// Real digits: confidence 0.99 (98% > 0.9), class entropy 2.30, classifier
// score 9.7–9.8. Noise: confidence 0.34 (none > 0.9), class entropy 1.55
// (mostly "8" and "3"), classifier score 1.3. Random test digits, a
// subset of the reference set itself, give FD ≈ 6–7 at N = 1000 and 0.6 at
// N = 5000. A set of 500 ones (mode collapse) has class entropy 0.03 and
// FD 1220. Real training digits are the zero value of
// ReferenceConfig.Split, since the reference statistics have not seen
// them: they are what a perfect generator of MNIST would score.
package quality
