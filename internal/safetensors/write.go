package safetensors

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ebmgo/ebm/internal/atomicfile"
)

// Tensor is a tensor to write: its name, dtype, shape and raw
// little-endian data.
type Tensor struct {
	Name  string
	Dtype Dtype
	Shape []int
	Data  []byte
}

// Float32Tensor returns an F32 tensor holding v (copied) with the given
// shape.
func Float32Tensor(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, Dtype: F32, Shape: slices.Clone(shape), Data: b}
}

// Float64Tensor returns an F64 tensor holding v (copied) with the given
// shape.
func Float64Tensor(name string, shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, Dtype: F64, Shape: slices.Clone(shape), Data: b}
}

// Int64Tensor returns an I64 tensor holding v (copied) with the given
// shape.
func Int64Tensor(name string, shape []int, v []int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, Dtype: I64, Shape: slices.Clone(shape), Data: b}
}

// Header returns the header the reference writer produces for tensors and
// metadata, padded with spaces to a multiple of 8 bytes, and the tensors
// in the order their data follows it. It returns an error if two tensors
// share a name, a name is "__metadata__" or not UTF-8, a dtype is unknown, a dimension
// is negative, or a tensor's data does not have the size its shape and
// dtype give.
func Header(tensors []Tensor, metadata map[string]string) ([]byte, []Tensor, error) {
	order := slices.Clone(tensors)
	slices.SortStableFunc(order, func(a, b Tensor) int {
		if ra, rb := dtypes[a.Dtype].rank, dtypes[b.Dtype].rank; ra != rb {
			return rb - ra // higher alignment first
		}
		return strings.Compare(a.Name, b.Name)
	})
	var h []byte
	h = append(h, '{')
	if metadata != nil {
		h = append(h, `"`+metadataKey+`":{`...)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if !utf8.ValidString(k) || !utf8.ValidString(metadata[k]) {
				return nil, nil, fmt.Errorf("safetensors: write: metadata %q: %q is not valid UTF-8", k, metadata[k])
			}
			if i > 0 {
				h = append(h, ',')
			}
			h = appendString(h, k)
			h = append(h, ':')
			h = appendString(h, metadata[k])
		}
		h = append(h, '}')
	}
	var offset uint64
	for i, t := range order {
		if i > 0 && t.Name == order[i-1].Name {
			return nil, nil, fmt.Errorf("safetensors: write: two tensors are called %q", t.Name)
		}
		if !utf8.ValidString(t.Name) {
			return nil, nil, fmt.Errorf("safetensors: write: tensor name %q is not valid UTF-8", t.Name)
		}
		if t.Name == metadataKey {
			return nil, nil, fmt.Errorf("safetensors: write: a tensor cannot be called %q", metadataKey)
		}
		if !t.Dtype.Valid() {
			return nil, nil, fmt.Errorf("safetensors: write: tensor %q: unknown dtype %q", t.Name, t.Dtype)
		}
		elems := uint64(1)
		for _, d := range t.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("safetensors: write: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			if d != 0 && elems > math.MaxUint64/uint64(d) {
				return nil, nil, fmt.Errorf("safetensors: write: tensor %q: shape %v overflows", t.Name, t.Shape)
			}
			elems *= uint64(d)
		}
		size, ok := byteSize(t.Dtype, elems)
		if !ok || size != uint64(len(t.Data)) {
			return nil, nil, fmt.Errorf("safetensors: write: tensor %q: %d bytes of data for %s %v (%d elements)",
				t.Name, len(t.Data), t.Dtype, t.Shape, elems)
		}
		if metadata != nil || i > 0 {
			h = append(h, ',')
		}
		h = appendString(h, t.Name)
		h = append(h, `:{"dtype":`...)
		h = appendString(h, string(t.Dtype))
		h = append(h, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendUint(h, offset, 10)
		h = append(h, ',')
		offset += size
		h = strconv.AppendUint(h, offset, 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return h, order, nil
}

// appendString appends s as a JSON string escaped as serde_json (the
// reference writer) escapes: '"', '\\' and control characters only, so
// other characters stay UTF-8. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// Write writes tensors and metadata (nil for none) to w in safetensors
// format. See [Header] for the checks it makes before writing anything.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	h, order, err := Header(tensors, metadata)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var nb [8]byte
	binary.LittleEndian.PutUint64(nb[:], uint64(len(h)))
	bw.Write(nb[:])
	bw.Write(h)
	for _, t := range order {
		bw.Write(t.Data)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// WriteFile writes tensors and metadata to path atomically: to a
// temporary file in the same directory, synced to disk and renamed over
// path, after which the directory is synced too. On error the temporary
// file is removed and any old file at path is untouched.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	if _, _, err := Header(tensors, metadata); err != nil {
		return err
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, metadata) }); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	return nil
}
