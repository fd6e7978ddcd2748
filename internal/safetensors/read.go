package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrBadFormat is wrapped by every error about a malformed file.
var ErrBadFormat = errors.New("safetensors: bad format")

// MaxHeaderSize is the largest header the reader accepts, as in the
// reference implementation.
const MaxHeaderSize = 100_000_000

// metadataKey is the header key of the free-form string map.
const metadataKey = "__metadata__"

// Info describes one tensor of a file.
type Info struct {
	Name  string
	Dtype Dtype
	// Shape is the tensor's shape, row-major; empty for a scalar.
	Shape []int
	// Begin and End are the tensor's byte offsets in the data part of the
	// file (after the header).
	Begin, End int64
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Info) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file whose tensor data is read on demand.
// Its methods are safe for concurrent use if its io.ReaderAt is.
type File struct {
	name      string // file name for errors; "" when unknown
	r         io.ReaderAt
	closer    io.Closer
	dataStart int64
	meta      map[string]string
	tensors   []Info // in offset order
	index     map[string]int
}

// Open opens and parses the file at path. The caller must Close it.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("safetensors: %s is not a regular file", path)
	}
	sf, err := parse(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.closer = f
	return sf, nil
}

// NewFile parses the safetensors data of the given size read through r.
// Errors and names refer to no file name; use [Open] for files on disk.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	return parse(r, size, "")
}

// ReadFile reads all of r and parses it, for sources without random
// access (a network stream, a compressed file).
func ReadFile(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return NewFile(bytes.NewReader(data), int64(len(data)))
}

// Close closes the file opened by Open; it does nothing for a File made by
// NewFile or ReadFile.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Name returns the path the file was opened from ("" if none).
func (f *File) Name() string { return f.name }

// Metadata returns a copy of the header's "__metadata__" map (nil if the
// file has none).
func (f *File) Metadata() map[string]string {
	if f.meta == nil {
		return nil
	}
	m := make(map[string]string, len(f.meta))
	for k, v := range f.meta {
		m[k] = v
	}
	return m
}

// Tensors returns the descriptions of all tensors, in the order of their
// data in the file.
func (f *File) Tensors() []Info {
	out := make([]Info, len(f.tensors))
	for i, t := range f.tensors {
		t.Shape = slices.Clone(t.Shape)
		out[i] = t
	}
	return out
}

// Names returns the tensor names in byte order.
func (f *File) Names() []string {
	names := make([]string, len(f.tensors))
	for i, t := range f.tensors {
		names[i] = t.Name
	}
	slices.Sort(names)
	return names
}

// Info returns the description of the tensor called name.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, false
	}
	t := f.tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// ErrNotFound is wrapped by the error of asking for a tensor the file does
// not hold.
var ErrNotFound = errors.New("safetensors: no such tensor")

// Bytes returns the raw little-endian data of the tensor called name.
func (f *File) Bytes(name string) ([]byte, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	return f.read(t)
}

// Float64s returns the tensor called name converted to float64, in dst if
// it has room (allocated otherwise). The dtype must be convertible.
func (f *File) Float64s(name string, dst []float64) ([]float64, error) {
	t, data, err := f.readConvertible(name)
	if err != nil {
		return nil, err
	}
	n := t.NumElements()
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	switch t.Dtype {
	case F64:
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	default:
		decode(t.Dtype, data, func(i int, v float64) { dst[i] = v })
	}
	return dst, nil
}

// Float32s returns the tensor called name converted to float32 (rounded
// to nearest), in dst if it has room.
func (f *File) Float32s(name string, dst []float32) ([]float32, error) {
	t, data, err := f.readConvertible(name)
	if err != nil {
		return nil, err
	}
	n := t.NumElements()
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	switch t.Dtype {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	default:
		decode(t.Dtype, data, func(i int, v float64) { dst[i] = float32(v) })
	}
	return dst, nil
}

func (f *File) readConvertible(name string) (Info, []byte, error) {
	t, err := f.lookup(name)
	if err != nil {
		return t, nil, err
	}
	if !t.Dtype.Convertible() {
		return t, nil, fmt.Errorf("safetensors: %stensor %q: dtype %s does not convert to floating point", f.prefix(), name, t.Dtype)
	}
	data, err := f.read(t)
	return t, data, err
}

func (f *File) lookup(name string) (Info, error) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, fmt.Errorf("safetensors: %stensor %q: %w", f.prefix(), name, ErrNotFound)
	}
	return f.tensors[i], nil
}

func (f *File) read(t Info) ([]byte, error) {
	buf := make([]byte, t.End-t.Begin)
	if len(buf) == 0 {
		return buf, nil
	}
	// ReaderAt may return io.EOF with a full read at the end of the input.
	if n, err := f.r.ReadAt(buf, f.dataStart+t.Begin); err != nil && (n < len(buf) || err != io.EOF) {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("safetensors: %stensor %q: reading %d bytes at offset %d: %w",
			f.prefix(), t.Name, len(buf), f.dataStart+t.Begin, err)
	}
	return buf, nil
}

func (f *File) prefix() string {
	if f.name == "" {
		return ""
	}
	return f.name + ": "
}

// parse reads and validates the header.
func parse(r io.ReaderAt, size int64, name string) (*File, error) {
	f := &File{name: name, r: r}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s"+format+": %w", append([]any{f.prefix()}, append(args, ErrBadFormat)...)...)
	}
	if size < 8 {
		return nil, bad("%d bytes is too short for the 8-byte header length", size)
	}
	var nb [8]byte
	if _, err := r.ReadAt(nb[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: %sreading the header length: %w", f.prefix(), err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	switch {
	case n > MaxHeaderSize:
		return nil, bad("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	case n > uint64(size-8):
		return nil, bad("header length %d exceeds the %d bytes after the length field (truncated file?)", n, size-8)
	case n < 2:
		return nil, bad("header length %d is too short for a JSON object", n)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, fmt.Errorf("safetensors: %sreading the %d-byte header: %w", f.prefix(), n, err)
	}
	f.dataStart = 8 + int64(n)
	dataSize := size - f.dataStart
	if !utf8.Valid(header) {
		return nil, bad("header is not valid UTF-8")
	}
	if header[0] != '{' {
		return nil, bad("header does not start with '{' (got %q)", clip(header, 16))
	}
	fields, err := objectFields(header)
	if err != nil {
		return nil, bad("header JSON: %v", err)
	}
	f.index = make(map[string]int, len(fields))
	for _, fl := range fields {
		if fl.key == metadataKey {
			if f.meta, err = parseMetadata(fl.value); err != nil {
				return nil, bad("%s: %v", metadataKey, err)
			}
			continue
		}
		t, err := parseInfo(fl.key, fl.value)
		if err != nil {
			return nil, bad("tensor %q: %v", fl.key, err)
		}
		f.index[fl.key] = len(f.tensors)
		f.tensors = append(f.tensors, t)
	}
	// Tensors must tile [0, dataSize): sorted by offsets, each begins where
	// the previous one ended and the last ends at the end of the file.
	slices.SortStableFunc(f.tensors, func(a, b Info) int {
		if a.Begin != b.Begin {
			if a.Begin < b.Begin {
				return -1
			}
			return 1
		}
		if a.End != b.End {
			if a.End < b.End {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	var end int64
	var prev string
	for i, t := range f.tensors {
		f.index[t.Name] = i
		switch {
		case t.End > dataSize:
			return nil, bad("tensor %q: data_offsets [%d, %d] run past the end of the data (%d bytes; truncated file?)", t.Name, t.Begin, t.End, dataSize)
		case t.Begin < end:
			return nil, bad("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", t.Name, t.Begin, t.End, prev, end)
		case t.Begin > end && i == 0:
			return nil, bad("tensor %q: data_offsets [%d, %d] leave bytes [0, %d) unused; data must start at 0", t.Name, t.Begin, t.End, t.Begin)
		case t.Begin > end:
			return nil, bad("tensor %q: data_offsets [%d, %d] leave a gap after tensor %q, which ends at %d", t.Name, t.Begin, t.End, prev, end)
		}
		end, prev = t.End, t.Name
	}
	if end != dataSize {
		if len(f.tensors) == 0 {
			return nil, bad("%d bytes of data after a header without tensors", dataSize)
		}
		return nil, bad("%d bytes of data after the last tensor %q (which ends at %d)", dataSize-end, prev, end)
	}
	return f, nil
}

type field struct {
	key   string
	value json.RawMessage
}

// objectFields splits the JSON object data into its fields, in order,
// rejecting duplicate keys and anything after the object.
func objectFields(data []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("got %s, want an object", describe(tok))
	}
	var fields []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %s", describe(tok))
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		fields = append(fields, field{key, v})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the end of the object")
	}
	return fields, nil
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case string:
		return fmt.Sprintf("the string %q", clip([]byte(v), 32))
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func parseMetadata(v json.RawMessage) (map[string]string, error) {
	if string(v) == "null" {
		return nil, nil
	}
	if len(v) == 0 || v[0] != '{' {
		return nil, fmt.Errorf("is %s, want an object of strings", clip(v, 32))
	}
	fields, err := objectFields(v)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(fields))
	for _, fl := range fields {
		var s string
		if len(fl.value) == 0 || fl.value[0] != '"' || json.Unmarshal(fl.value, &s) != nil {
			return nil, fmt.Errorf("value of %q is %s, want a string", fl.key, clip(fl.value, 32))
		}
		m[fl.key] = s
	}
	return m, nil
}

// parseInfo decodes and checks one tensor entry.
func parseInfo(name string, v json.RawMessage) (Info, error) {
	t := Info{Name: name}
	if len(v) == 0 || v[0] != '{' {
		return t, fmt.Errorf("entry is %s, want an object with dtype, shape and data_offsets", clip(v, 32))
	}
	fields, err := objectFields(v)
	if err != nil {
		return t, err
	}
	var haveDtype, haveShape, haveOffsets bool
	var shape []uint64
	var offsets []uint64
	for _, fl := range fields {
		switch fl.key {
		case "dtype":
			var s string
			if len(fl.value) == 0 || fl.value[0] != '"' || json.Unmarshal(fl.value, &s) != nil {
				return t, fmt.Errorf("dtype is %s, want a string such as \"F32\"", clip(fl.value, 32))
			}
			t.Dtype, haveDtype = Dtype(s), true
			if !t.Dtype.Valid() {
				return t, fmt.Errorf("unknown dtype %q", clip([]byte(s), 32))
			}
		case "shape":
			if shape, err = uintArray(fl.value); err != nil {
				return t, fmt.Errorf("shape: %v", err)
			}
			haveShape = true
		case "data_offsets":
			if offsets, err = uintArray(fl.value); err != nil {
				return t, fmt.Errorf("data_offsets: %v", err)
			}
			if len(offsets) != 2 {
				return t, fmt.Errorf("data_offsets has %d numbers, want 2: [begin, end]", len(offsets))
			}
			haveOffsets = true
		default:
			// Unknown keys are ignored, as by the reference reader.
		}
	}
	switch {
	case !haveDtype:
		return t, errors.New("no dtype")
	case !haveShape:
		return t, errors.New("no shape")
	case !haveOffsets:
		return t, errors.New("no data_offsets")
	}
	begin, end := offsets[0], offsets[1]
	if end < begin {
		return t, fmt.Errorf("data_offsets [%d, %d] end before they begin", begin, end)
	}
	if end > math.MaxInt64 {
		return t, fmt.Errorf("data_offsets [%d, %d] out of range", begin, end)
	}
	elems := uint64(1)
	for _, d := range shape {
		if d != 0 && elems > math.MaxUint64/d {
			return t, fmt.Errorf("shape %v overflows", fmtUints(shape))
		}
		elems *= d
	}
	want, ok := byteSize(t.Dtype, elems)
	if !ok {
		return t, fmt.Errorf("shape %v of %s is not a whole number of bytes or overflows", fmtUints(shape), t.Dtype)
	}
	if end-begin != want {
		return t, fmt.Errorf("data_offsets [%d, %d] hold %d bytes, but %s %v needs %d",
			begin, end, end-begin, t.Dtype, fmtUints(shape), want)
	}
	// Every dimension is now bounded by the byte size, which is bounded by
	// the file size, unless another dimension is 0.
	t.Shape = make([]int, len(shape))
	for i, d := range shape {
		if d > math.MaxInt32 {
			return t, fmt.Errorf("shape %v: dimension %d is too large", fmtUints(shape), d)
		}
		t.Shape[i] = int(d)
	}
	t.Begin, t.End = int64(begin), int64(end)
	return t, nil
}

// uintArray decodes a JSON array of non-negative integers.
func uintArray(v json.RawMessage) ([]uint64, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("got %s, want an array of integers", describe(tok))
	}
	var out []uint64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, want a non-negative integer", len(out), describe(tok))
		}
		u, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("element %d is %s, want a non-negative integer", len(out), clip([]byte(num), 32))
		}
		out = append(out, u)
	}
	return out, nil
}

func fmtUints(s []uint64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(d, 10))
	}
	b.WriteByte(']')
	return b.String()
}
