package runlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FileName is the name of the lock file Acquire keeps in the folder.
const FileName = ".lock"

// ErrLocked is wrapped by the error Acquire returns when another process
// holds the folder; errors.As with *HeldError gives the holder.
var ErrLocked = errors.New("runlock: folder in use")

// Holder describes the process that holds a lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command []string  `json:"command"`
}

// String describes the holder in one line: process, host, start time and
// command line.
func (h Holder) String() string {
	if h.PID == 0 {
		return "another process (it has not yet written its name into the lock file)"
	}
	s := fmt.Sprintf("pid %d", h.PID)
	if h.Host != "" {
		s += " on host " + h.Host
	}
	if !h.Started.IsZero() {
		s += fmt.Sprintf(", started %s (%s ago)", h.Started.Format("2006-01-02 15:04:05"), time.Since(h.Started).Round(time.Second))
	}
	if len(h.Command) > 0 {
		s += ": " + commandLine(h.Command)
	}
	return s
}

// commandLine joins args, quoting those a shell would split.
func commandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`*?[]{}()<>|&;#~") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// HeldError is the error of Acquire on a folder another process holds.
type HeldError struct {
	Dir    string
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("run folder %s is in use by %s", e.Dir, e.Holder)
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *HeldError) Is(target error) bool { return target == ErrLocked }

// Lock is a held lock on a folder.
type Lock struct {
	f        *os.File
	path     string
	enforced bool
}

// Acquire takes the lock of dir, which must exist, for this process and
// writes this process's identity into it. If another process holds it,
// the error is a *HeldError (wrapping ErrLocked) that names the holder;
// Acquire does not wait. The lock lasts until Release or the end of the
// process, however it ends.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlock: %w", err)
	}
	enforced, err := lockFile(f)
	if errors.Is(err, errHeld) {
		f.Close()
		return nil, &HeldError{Dir: dir, Holder: readHolder(path)}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("runlock: locking %s: %w", path, err)
	}
	l := &Lock{f: f, path: path, enforced: enforced}
	if err := l.writeHolder(); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// Enforced reports whether the operating system keeps other processes out
// (false only on systems without file locks; see the package doc).
func (l *Lock) Enforced() bool { return l.enforced }

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Release gives the lock up. The lock file stays (removing it would let a
// process that opened it just before lock a file no longer in the folder).
// Calling Release again does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("runlock: releasing %s: %w", l.path, err)
	}
	return nil
}

func (l *Lock) writeHolder() error {
	h := Holder{PID: os.Getpid(), Started: time.Now().Round(time.Second), Command: os.Args}
	h.Host, _ = os.Hostname()
	b, _ := json.Marshal(h)
	b = append(b, '\n')
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("runlock: %w", err)
	}
	if _, err := l.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("runlock: writing %s: %w", l.path, err)
	}
	return nil
}

// readHolder reads the holder's identity; the holder writes it right after
// taking the lock, so an empty or torn file is read again a few times.
func readHolder(path string) Holder {
	var h Holder
	for try := 0; try < 20; try++ {
		f, err := os.Open(path)
		if err != nil {
			return h
		}
		b, _ := io.ReadAll(io.LimitReader(f, 1<<16))
		f.Close()
		if json.Unmarshal(b, &h) == nil && h.PID != 0 {
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
	return Holder{}
}
