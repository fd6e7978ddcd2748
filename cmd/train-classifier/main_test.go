package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/quality"
)

// A short run writes a classifier that loads, with its reference
// statistics and the command in its metadata; bad flags are errors that
// name the flag.
func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clf.safetensors")
	var out bytes.Buffer
	args := []string{"-out", path, "-limit", "1000", "-epochs", "1", "-batch", "100"}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"epoch 1/1  step    10/10", "TEST ACC", "final test accuracy", "wrote " + path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	c, err := quality.LoadClassifierFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ref == nil || c.Ref.N != 10000 || c.Meta["command"] != "go run ./cmd/train-classifier "+strings.Join(args, " ") {
		t.Errorf("loaded classifier: reference %v, metadata %v", c.Ref != nil, c.Meta)
	}

	for _, bad := range [][]string{{"-epochs", "0"}, {"-shift", "-1"}, {"-lr", "0"}, {"-min-acc", "1.1", "-limit", "100", "-epochs", "1", "-batch", "100"}, {"extra"}} {
		err := run(context.Background(), append([]string{"-out", path}, bad...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%v: error %v, want one naming %s", bad, err, bad[0])
		}
	}
}
