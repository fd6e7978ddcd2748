package runlock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// With RUNLOCK_TEST_HOLD=DIR the test binary takes the lock of DIR, says
// so on stdout and waits to be killed: the other process of the tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv("RUNLOCK_TEST_HOLD"); dir != "" {
		if _, err := Acquire(dir); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestAcquireRelease(t *testing.T) {
	if runtime.GOOS == "aix" || runtime.GOOS == "solaris" {
		t.Skip("fcntl locks do not exclude the process that holds them")
	}
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Enforced() {
		t.Skip("no file locks on " + runtime.GOOS)
	}
	_, err = Acquire(dir)
	var held *HeldError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &held) {
		t.Fatalf("second Acquire: %v, want a HeldError", err)
	}
	if held.Holder.PID != os.Getpid() || held.Holder.Started.IsZero() || len(held.Holder.Command) == 0 {
		t.Errorf("holder %+v does not name this process", held.Holder)
	}
	msg := err.Error()
	for _, want := range []string{"run folder " + dir + " is in use by pid " + strconv.Itoa(os.Getpid()), "started ", os.Args[0]} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

// Another process's lock keeps this one out, names that process, and
// goes when the process is killed (SIGKILL: it runs no code on the way
// out).
func TestLockOfKilledProcessIsReleased(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" || runtime.GOOS == "plan9" {
		t.Skip("no processes or no file locks")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUNLOCK_TEST_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("holder process: %q, %v", line, err)
	}
	_, err = Acquire(dir)
	var held *HeldError
	if !errors.As(err, &held) || held.Holder.PID != cmd.Process.Pid {
		t.Fatalf("Acquire while pid %d holds the lock: %v", cmd.Process.Pid, err)
	}
	if h, _ := os.Hostname(); held.Holder.Host != h {
		t.Errorf("holder host %q, want %q", held.Holder.Host, h)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

func TestHolderString(t *testing.T) {
	h := Holder{PID: 7, Host: "box", Started: time.Now().Add(-90 * time.Second), Command: []string{"mnist-ebm", "-dir", "my runs/a"}}
	s := h.String()
	for _, want := range []string{"pid 7 on host box, started ", "(1m30s ago)", `: mnist-ebm -dir "my runs/a"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%q does not contain %q", s, want)
		}
	}
	if s := (Holder{}).String(); !strings.Contains(s, "another process") {
		t.Errorf("empty holder: %q", s)
	}
}
