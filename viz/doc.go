// Package viz draws the pictures people look at while training and
// studying energy-based models, as PNG: grids of image samples, loss and
// diagnostic curves, and energy or density landscapes of 2-D models with
// samples over them. It is pure Go (gonum.org/v1/plot for axes and text).
//
// # Image grids
//
// [ImageGrid] tiles a batch of N images, stored row-major like every batch
// in ebm (one []float64 of length N·C·H·W, C = 1 or 3, NCHW), into one
// picture with Cols images per row and a thin border. A value v maps to
// the 8-bit intensity
//
//	round(255 · clamp((v − Low) / (High − Low), 0, 1))
//
// so Low = −1, High = 1 shows samples of a model trained on images scaled
// to [−1, 1]. NaN pixels are drawn magenta, so diverged samples stand out.
// Scale repeats each pixel Scale×Scale times (nearest neighbour).
//
// # Line plots
//
// [LinePlot] draws named series (x, y) with axes, ticks, grid, legend and
// title, optionally on a log-10 y axis. A non-finite point (or, on a log
// axis, y ≤ 0) breaks the line instead of distorting the axes. Smooth
// adds each series' exponential moving average
//
//	s₀ = y₀,  sₖ = Smooth·sₖ₋₁ + (1 − Smooth)·yₖ
//
// (TensorBoard's smoothing) over the faded raw curve.
//
// # Heatmaps
//
// [Heatmap] colours a [Field], a function sampled at the NX×NY cell
// centres of a box,
//
//	x_i = XMin + (i + ½)·(XMax − XMin)/NX,  y_j = YMin + (j + ½)·(YMax − YMin)/NY,
//
// with a colour map and a colour bar, and can scatter samples over it.
// [EnergyField] samples an energy's log-density f(x, y) in batches. With
// Density set, Heatmap shows instead the density the log-density implies on
// the grid,
//
//	p_ij = exp(f_ij − max f) / (Σ_kl exp(f_kl − max f) · Δx·Δy),
//
// which integrates to 1 over the box (the quadrature estimate of Z).
//
// # Files
//
// Every drawing comes as an image, written to an io.Writer as PNG
// (Write...), or saved to a file (Save...) atomically: the PNG goes to a
// temporary file in the same directory which is then renamed, so a viewer
// or a crash never sees half a picture.
package viz
