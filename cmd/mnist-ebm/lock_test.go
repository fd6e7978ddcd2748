//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Two trainings on one run folder: the second is refused with one line
// that names the first (its pid and command line) and changes nothing in
// the folder; once the first is killed with SIGKILL, which runs no code on
// the way out, the folder is free again and the run resumes.
func TestRunFolderLock(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	first := startCommand(t, tinyTrain(dir, data, "-iterations", "100000", "-checkpoint-every", "2", "-sample-every", "100000")...)
	first.waitFor(t, "iter ")
	config, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd(t, tinyTrain(dir, data, "-lr", "0.001")...)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	want := "run folder " + dir + " is in use by pid " + strconv.Itoa(first.cmd.Process.Pid)
	if code != 1 || len(lines) != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "-iterations 100000") {
		t.Errorf("second training on a folder in use: exit %d\nstdout:\n%s\nstderr:\n%s\nwant one line containing %q and the first's command line", code, out, stderr, want)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(now) != string(config) {
		t.Errorf("the refused run changed config.json:\n%s", now)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t)
	code, out, stderr = runCmd(t, tinyTrain(dir, data)...)
	if code != 0 {
		t.Errorf("training after the holder was killed: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}
