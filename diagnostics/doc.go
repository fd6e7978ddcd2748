// Package diagnostics tells how far to trust the draws of Markov chains:
// effective sample sizes, the Monte Carlo standard error, the split R̂ and
// autocorrelations. Every function is a pure function of the draws of one
// scalar quantity, given as chains × draws (chains[c][t] is the quantity
// at draw t of chain c; sampling.Trace.Series gives this layout), and
// knows nothing about how they were drawn.
//
// The definitions are those of Vehtari, Gelman, Simpson, Carpenter and
// Bürkner (2021), "Rank-normalization, folding, and localization: an
// improved R-hat for assessing convergence of MCMC", step for step as the
// R package posterior (1.4) computes them; the tests check them against
// posterior's values to 9 digits.
//
// # Split chains, R̂ and ESS
//
// Every chain is split in halves (dropping the middle draw of an odd
// length), giving M chains of N draws. With W the mean within-chain
// variance, B/N the variance of the chain means and
// var⁺ = (N−1)/N·W + B/N,
//
//	R̂ = √(var⁺/W),
//
// which is near 1 when the chains agree and larger when they have not
// mixed. The autocorrelation at lag t, pooled over chains, is
// ρ̂_t = 1 − (W − γ̂_t)/var⁺, with γ̂_t the mean over chains of the biased
// lag-t autocovariance (computed by FFT). Geyer's initial positive
// sequence truncates the sum at the first pair ρ̂_{2k} + ρ̂_{2k+1} that is
// negative, and his initial monotone sequence makes the pair sums
// non-increasing; then
//
//	ESS = M·N / τ̂,   τ̂ = −1 + 2 Σ_t ρ̂_t (plus the first dropped even term),
//
// capped at M·N·log10(M·N) for antithetic chains.
//
// # Bulk, tail and mean
//
//   - ESS (bulk) and the bulk R̂ are computed on rank-normalised draws,
//     Φ⁻¹((r − 3/8)/(S + 1/4)) for rank r among all S draws (ties share
//     their average rank), so that they hold for heavy-tailed quantities
//     whose variance is infinite.
//   - ESSQuantile(p) is the ESS of the indicator I(x ≤ q̂_p); ESSTail is
//     the smaller of those for the 5% and 95% quantiles: how well the
//     draws pin down an interval.
//   - SplitRHat is the larger of the bulk R̂ and the R̂ of the
//     rank-normalised folded draws |x − median|, which sees chains that
//     agree in location but not in scale.
//   - ESSMean applies the ESS formula to the draws as they are, and
//     MCSE = sd/√ESSMean is the Monte Carlo standard error of their mean:
//     the mean is within about 2·MCSE of the expectation.
//
// Summarize computes them all at once.
//
// # Reading them
//
// Vehtari et al. recommend using draws only when R̂ < 1.01 and both the
// bulk and the tail ESS exceed 100 per chain (400 for four chains), so that
// R̂ and the ESS themselves are reliable; package sampling's Run warns when
// these fail. They are necessary, not sufficient: chains that all miss a
// region of the target (the neck of a funnel, a mode no chain has found)
// can agree with each other and show a healthy R̂ and ESS. Divergent
// transitions of HMC and NUTS are the other sign to look for.
//
// A quantity that is constant, that has a NaN or infinite draw, or that
// has fewer than 3 draws per half chain has no ESS: the functions return
// NaN. Ragged chains, no chains or chains without draws are an error
// wrapping energy.ErrShape.
package diagnostics
