package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/internal/atomicfile"
)

// A run folder keeps its settings twice: config.json holds those of the
// latest training segment (sample and eval read it, and -config can reuse
// it), and config-history.jsonl one line per segment — each start or
// resumption of training — with the settings, what the command line
// changed, the data's fingerprint, and when, where and how it ran.
const (
	settingsFile = "config.json"
	historyFile  = "config-history.jsonl"
)

// resumable are the settings a resumed run may change without
// -allow-changed-settings: how long it trains and how often it writes,
// where it runs, and what only sample and eval use. data may change to
// another path of the same images (checked by fingerprint). Every other
// setting, and any added later, changes what the run computes.
var resumable = map[string]bool{
	"dir": true, "iterations": true, "duration": true, "checkpoint-every": true, "sample-every": true,
	"backend": true, "device": true, "master-port": true, "dist-backend": true, "dist-timeout": true,
	"model": true, "sample-steps": true, "anneal-step": true, "num-samples": true, "out": true, "samples": true, "judge": true,
	"data": true,
}

// perCommand are settings of one command, not of the run: a resumed run
// takes them from its command line (or preset), never from the run's
// settings — a -duration limits this command, not every one after it.
var perCommand = map[string]bool{"duration": true, "master-port": true}

// resumableList is resumable for messages and -h, flag style, sorted.
func resumableList() string {
	var names []string
	for k := range resumable {
		if k != "dir" {
			names = append(names, "-"+k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// resumeInfo is what parse learned about resuming the run folder; it
// travels in Config, unexported, so that it is no setting.
type resumeInfo struct {
	resuming bool            // the folder has a checkpoint: training resumes it
	changes  []settingChange // settings this command line sets otherwise than the run
	allow    bool            // -allow-changed-settings
	args     []string        // the command line, for the history
}

// settingChange is a setting a resumed segment runs with otherwise than
// the segment before.
type settingChange struct {
	Flag string `json:"flag"`
	Was  string `json:"was"`
	Now  string `json:"now"`
}

func (c settingChange) String() string {
	return fmt.Sprintf("-%s %s (the run has %s)", c.Flag, c.Now, c.Was)
}

// settingText formats a setting's value as a flag shows it; -size in one
// spelling ("28" and "28x28" are the same size).
func settingText(name string, v reflect.Value) string {
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	if s, ok := v.Interface().(string); ok && name == "size" {
		if h, w, err := datasets.ParseSize(s); err == nil && h > 0 {
			return fmt.Sprintf("%dx%d", w, h)
		}
	}
	return fmt.Sprint(v.Interface())
}

// resumeSettings returns the settings of resuming the run whose settings
// file is path: the run's own, except for the settings the command line
// sets explicitly (flags, keys of -config, every setting of an explicit
// -preset), which are given's, and the list of those that differ.
func resumeSettings(given Config, explicit map[string]bool, path string) (Config, []settingChange, error) {
	run := presets["default"] // keys a settings file lacks keep the default
	keys, err := loadConfigFile(path, "the run's settings", &run)
	if err != nil {
		return given, nil, err
	}
	olderRunSettings(keys, &run)
	eff := run
	ev, gv, rv := reflect.ValueOf(&eff).Elem(), reflect.ValueOf(given), reflect.ValueOf(run)
	var changes []settingChange
	for i := range ev.NumField() {
		f := ev.Type().Field(i)
		name := f.Tag.Get("json")
		if !f.IsExported() || !explicit[name] && !perCommand[name] {
			continue
		}
		ev.Field(i).Set(gv.Field(i))
		if was, now := settingText(name, rv.Field(i)), settingText(name, gv.Field(i)); was != now && name != "dir" && explicit[name] {
			changes = append(changes, settingChange{name, was, now})
		}
	}
	eff.Dir = given.Dir
	return eff, changes, nil
}

// meaningChanges returns the changes that alter what the run computes.
func (r resumeInfo) meaningChanges() []settingChange {
	var m []settingChange
	for _, c := range r.changes {
		if !resumable[c.Flag] {
			m = append(m, c)
		}
	}
	return m
}

// checkResume refuses to resume with settings that change what the run
// computes, unless -allow-changed-settings.
func (c Config) checkResume() error {
	m := c.resume.meaningChanges()
	if len(m) == 0 || c.resume.allow {
		return nil
	}
	parts := make([]string, len(m))
	for i, ch := range m {
		parts[i] = ch.String()
	}
	return fmt.Errorf("resuming %s with changed settings: %s; these change what the run computes (resumed runs may change only %s): start a new run with another -dir, or pass -allow-changed-settings to go on with them (each segment's settings are kept in %s): %w",
		c.Dir, strings.Join(parts, ", "), resumableList(), filepath.Join(c.Dir, historyFile), errUsage)
}

// dataPrint identifies a data set: its size, shape and the CRC-32C of its
// values (little-endian float64), so that a run resumed with -data
// pointing elsewhere can tell the same images from others.
type dataPrint struct {
	Images int    `json:"images"`
	Shape  []int  `json:"shape"`
	CRC32C string `json:"crc32c"`
}

func fingerprint(images *datasets.ImageSet) dataPrint {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	var buf [8 << 10]byte
	x := images.Images
	for len(x) > 0 {
		n := min(len(x), len(buf)/8)
		for i, v := range x[:n] {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		h.Write(buf[:8*n])
		x = x[n:]
	}
	return dataPrint{Images: images.N, Shape: images.Shape(), CRC32C: fmt.Sprintf("%08x", h.Sum32())}
}

func (p dataPrint) String() string {
	return fmt.Sprintf("%d images of %s, CRC-32C %s", p.Images, shapeText(p.Shape), p.CRC32C)
}

// segment is one line of config-history.jsonl.
type segment struct {
	Segment        int             `json:"segment"`
	Started        time.Time       `json:"started"`
	StartIteration int             `json:"start_iteration"`
	Host           string          `json:"host,omitempty"`
	PID            int             `json:"pid"`
	Command        []string        `json:"command"`
	Changed        []settingChange `json:"changed,omitempty"`
	Allowed        bool            `json:"allowed_changes,omitempty"` // -allow-changed-settings was given
	Data           dataPrint       `json:"data"`
	Settings       json.RawMessage `json:"settings"`
}

// readHistory reads config-history.jsonl; a missing file is empty and a
// torn last line (a kill while writing) is dropped.
func readHistory(dir string) ([]segment, error) {
	path := filepath.Join(dir, historyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []segment
	lines := bytes.Split(b, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var s segment
		if err := json.Unmarshal(line, &s); err != nil {
			if i == len(lines)-1 {
				break
			}
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// checkData compares the images of a resumed run with those its last
// segment trained on; other images are a change of meaning like any
// other (refused unless -allow-changed-settings, recorded if allowed).
func (c *Config) checkData(p dataPrint) error {
	if !c.resume.resuming {
		return nil
	}
	hist, err := readHistory(c.Dir)
	if err != nil || len(hist) == 0 {
		return err
	}
	last := hist[len(hist)-1].Data
	if last.CRC32C == "" || reflect.DeepEqual(last, p) {
		return nil
	}
	ch := settingChange{Flag: "data", Was: last.String(), Now: p.String()}
	if !c.resume.allow {
		return fmt.Errorf("resuming %s on other images: -data %s holds %s, the run was trained on %s: start a new run with another -dir, or pass -allow-changed-settings to go on with them: %w",
			c.Dir, c.dataName(), p, last, errUsage)
	}
	c.resume.changes = append(c.resume.changes, ch)
	return nil
}

// writeSettings writes config.json and records the segment that starts at
// iteration start in config-history.jsonl: a fresh run starts the history,
// a resumed one appends to it.
func (c Config) writeSettings(start int, data dataPrint) error {
	b, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(c.Dir, settingsFile), append(b, '\n')); err != nil {
		return err
	}
	var hist []segment
	if c.resume.resuming {
		if hist, err = readHistory(c.Dir); err != nil {
			return err
		}
	}
	s := segment{
		Segment: len(hist) + 1, Started: time.Now().UTC().Round(time.Second), StartIteration: start,
		PID: os.Getpid(), Command: c.resume.args, Changed: c.resume.changes,
		Allowed: c.resume.allow && len(c.resume.meaningChanges()) > 0, Data: data, Settings: b,
	}
	s.Host, _ = os.Hostname()
	var out bytes.Buffer
	for _, h := range append(hist, s) {
		h.Settings = compact(h.Settings)
		line, err := json.Marshal(h)
		if err != nil {
			return err
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return atomicfile.WriteBytes(filepath.Join(c.Dir, historyFile), out.Bytes())
}

func compact(b json.RawMessage) json.RawMessage {
	var w bytes.Buffer
	if json.Compact(&w, b) != nil {
		return b
	}
	return w.Bytes()
}
