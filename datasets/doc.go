// Package datasets holds the data ebm trains and tests on: MNIST read from
// the original IDX files, two-dimensional toy distributions with exact
// densities, and a shuffled mini-batch iterator.
package datasets
