// Package torch is the libtorch backend.
package torch
