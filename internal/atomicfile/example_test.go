package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebmgo/ebm/internal/atomicfile"
)

// Replace a file so that no reader ever sees half of it.
func ExampleWriteBytes() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.json")
	if err := atomicfile.WriteBytes(path, []byte(`{"lr": 1e-4}`)); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Println(string(b))
	// Output:
	// {"lr": 1e-4}
}
