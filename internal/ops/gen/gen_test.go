package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesUpToDate fails when a file of package ops differs from
// what gen writes: run go generate ./internal/ops after changing gen.
func TestGeneratedFilesUpToDate(t *testing.T) {
	for name, want := range generate() {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what go run ./gen writes: run go generate ./internal/ops", name)
		}
	}
}
