// Package atomicfile writes files so that a reader, or a run killed at any
// moment, sees either the old file or the whole new one: the content goes
// to a temporary file in the same directory, which is synced to disk and
// renamed over the target, and the directory is synced after the rename.
package atomicfile
