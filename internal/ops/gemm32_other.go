//go:build !amd64 || purego

package ops

var tilesAvailable = false

var tileFuncs [tileRows][tileVecs]func(*tileArgs)
