package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// file assembles a safetensors file from a header string and data bytes.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func f32bytes(v ...float32) []byte {
	return Float32Tensor("", []int{len(v)}, v).Data
}

func mustWrite(t testing.TB, tensors []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parseBytes(b []byte) (*File, error) { return NewFile(bytes.NewReader(b), int64(len(b))) }

// TestWriteGolden checks the writer against the bytes of the reference
// implementation's own serialization tests (safetensors/src/tensor.rs).
func TestWriteGolden(t *testing.T) {
	data := f32bytes(0, 1, 2, 3, 4, 5)
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    []byte
	}{
		{"attn.0", []Tensor{{Name: "attn.0", Dtype: F32, Shape: []int{1, 2, 3}, Data: data}}, nil,
			file(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, data)},
		{"padding", []Tensor{{Name: "attn0", Dtype: F32, Shape: []int{1, 1, 2, 3}, Data: data}}, nil,
			file(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, data)},
		{"empty", nil, nil, file(`{}      `, nil)},
		{"metadata only", nil, map[string]string{"framework": "pt"},
			file(`{"__metadata__":{"framework":"pt"}}     `, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustWrite(t, tc.tensors, tc.meta)
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
			if len(got)%8 != 0 && len(tc.tensors) == 0 || (len(got)-len(data))%8 != 0 && len(tc.tensors) > 0 {
				t.Errorf("header of %d bytes is not 8-byte aligned", len(got))
			}
			if _, err := parseBytes(got); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestWriteOrder checks the reference order: descending dtype alignment,
// then names in byte order; and that escaping matches serde_json.
func TestWriteOrder(t *testing.T) {
	ts := []Tensor{
		{Name: "b", Dtype: F32, Shape: []int{1}, Data: make([]byte, 4)},
		{Name: "10.w", Dtype: F32, Shape: []int{1}, Data: make([]byte, 4)},
		{Name: "2.w", Dtype: F32, Shape: []int{}, Data: make([]byte, 4)},
		{Name: "h", Dtype: F16, Shape: []int{1}, Data: make([]byte, 2)},
		{Name: "z", Dtype: F64, Shape: []int{1}, Data: make([]byte, 8)},
		{Name: "i", Dtype: I64, Shape: []int{1}, Data: make([]byte, 8)},
		{Name: "q\"\\\n\x01é<", Dtype: U8, Shape: []int{0}, Data: nil},
	}
	h, order, err := Header(ts, map[string]string{"b": "2", "a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, t := range order {
		names = append(names, t.Name)
	}
	want := []string{"i", "z", "10.w", "2.w", "b", "h", "q\"\\\n\x01é<"}
	if !slices.Equal(names, want) {
		t.Errorf("order %q, want %q", names, want)
	}
	wantH := `{"__metadata__":{"a":"1","b":"2"},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},` +
		`"z":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},"10.w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},` +
		`"2.w":{"dtype":"F32","shape":[],"data_offsets":[20,24]},"b":{"dtype":"F32","shape":[1],"data_offsets":[24,28]},` +
		`"h":{"dtype":"F16","shape":[1],"data_offsets":[28,30]},"q\"\\\n\u0001é<":{"dtype":"U8","shape":[0],"data_offsets":[30,30]}}`
	if got := strings.TrimRight(string(h), " "); got != wantH {
		t.Errorf("header\n%s\nwant\n%s", got, wantH)
	}
	f, err := parseBytes(mustWrite(t, ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := f.Info("q\"\\\n\x01é<"); !ok || info.NumElements() != 0 {
		t.Errorf("escaped name did not round-trip: %+v %v", info, ok)
	}
	if info, _ := f.Info("2.w"); len(info.Shape) != 0 || info.NumElements() != 1 {
		t.Errorf("scalar: %+v", info)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		ts   []Tensor
		want string
	}{
		{"duplicate", []Tensor{{Name: "a", Dtype: U8, Shape: []int{1}, Data: []byte{1}}, {Name: "a", Dtype: U8, Shape: []int{1}, Data: []byte{1}}}, `two tensors are called "a"`},
		{"size", []Tensor{{Name: "w", Dtype: F32, Shape: []int{2, 3}, Data: make([]byte, 20)}}, `tensor "w": 20 bytes of data for F32 [2 3]`},
		{"negative", []Tensor{{Name: "w", Dtype: F32, Shape: []int{-1}}}, `tensor "w": negative dimension`},
		{"dtype", []Tensor{{Name: "w", Dtype: "F128", Shape: []int{1}}}, `unknown dtype "F128"`},
		{"metadata name", []Tensor{{Name: "__metadata__", Dtype: U8, Shape: []int{0}}}, `cannot be called`},
		{"utf8", []Tensor{{Name: "\xff", Dtype: U8, Shape: []int{0}}}, `not valid UTF-8`},
	} {
		var buf bytes.Buffer
		err := Write(&buf, tc.ts, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written before the error", tc.name, buf.Len())
		}
	}
}

// TestRoundTrip writes random tensors of every dtype and reads them back.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var all []Dtype
	for d := range dtypes {
		all = append(all, d)
	}
	slices.Sort(all)
	for iter := range 200 {
		var ts []Tensor
		for i := range rng.IntN(6) {
			d := all[rng.IntN(len(all))]
			shape := make([]int, rng.IntN(4))
			n := 1
			for j := range shape {
				shape[j] = rng.IntN(4)
				n *= shape[j]
			}
			size, ok := byteSize(d, uint64(n))
			if !ok { // packed 4- or 6-bit elements: make the count a multiple of 4
				shape, n = append(shape, 4), 4*n
				size, _ = byteSize(d, uint64(n))
			}
			data := make([]byte, size)
			for k := range data {
				data[k] = byte(rng.Uint32())
			}
			ts = append(ts, Tensor{Name: fmt.Sprintf("t%d.%d", i, rng.IntN(100)), Dtype: d, Shape: shape, Data: data})
		}
		meta := map[string]string{"iter": fmt.Sprint(iter)}
		b := mustWrite(t, ts, meta)
		f, err := parseBytes(b)
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		if !reflect.DeepEqual(f.Metadata(), meta) {
			t.Fatalf("metadata %v, want %v", f.Metadata(), meta)
		}
		if len(f.Tensors()) != len(ts) {
			t.Fatalf("iter %d: %d tensors read, %d written", iter, len(f.Tensors()), len(ts))
		}
		for _, w := range ts {
			info, ok := f.Info(w.Name)
			if !ok || info.Dtype != w.Dtype || !slices.Equal(info.Shape, w.Shape) {
				t.Fatalf("iter %d: tensor %q read as %+v", iter, w.Name, info)
			}
			got, err := f.Bytes(w.Name)
			if err != nil || !bytes.Equal(got, w.Data) {
				t.Fatalf("iter %d: tensor %q data %v, %v", iter, w.Name, got, err)
			}
			if w.Dtype.Convertible() {
				if _, err := f.Float64s(w.Name, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Rewriting what was read gives the same bytes.
		var again []Tensor
		for _, info := range f.Tensors() {
			data, _ := f.Bytes(info.Name)
			again = append(again, Tensor{Name: info.Name, Dtype: info.Dtype, Shape: info.Shape, Data: data})
		}
		if b2 := mustWrite(t, again, f.Metadata()); !bytes.Equal(b, b2) {
			t.Fatalf("iter %d: rewrite differs", iter)
		}
	}
}

// TestFloat16 checks every half-precision value against its definition
// (−1)^s · 2^(e−15) · (1 + m/1024), or 2^−14 · m/1024 for subnormals.
func TestFloat16(t *testing.T) {
	for h := range 1 << 16 {
		s, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case e == 0x1f && m == 0:
			want = math.Inf(1)
		case e == 0x1f:
			want = math.NaN()
		case e == 0:
			want = math.Ldexp(float64(m)/1024, -14)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := float64(Float16(uint16(h)))
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) || math.Signbit(got) != math.Signbit(want) && !math.IsNaN(want) {
			t.Fatalf("Float16(%#04x) = %v, want %v", h, got, want)
		}
	}
	if v := BFloat16(0x3f80); v != 1 {
		t.Errorf("BFloat16(0x3f80) = %v, want 1", v)
	}
	if v := BFloat16(0xc0490000 >> 16); v != -3.140625 {
		t.Errorf("BFloat16(0xc049) = %v, want -3.140625", v)
	}
}

func TestConvert(t *testing.T) {
	le := binary.LittleEndian
	ts := []Tensor{
		Float64Tensor("f64", []int{3}, []float64{1.5, -2, math.Inf(-1)}),
		Float32Tensor("f32", []int{3}, []float32{0.1, -3, 1e30}),
		Int64Tensor("i64", []int{2}, []int64{-7, 1 << 40}),
		{Name: "i32", Dtype: I32, Shape: []int{2}, Data: le.AppendUint32(le.AppendUint32(nil, uint32(0xffffffff)), 5)},
		{Name: "f16", Dtype: F16, Shape: []int{3}, Data: le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 0x3c00), 0xc000), 0x0001)},
		{Name: "bf16", Dtype: BF16, Shape: []int{2}, Data: le.AppendUint16(le.AppendUint16(nil, 0x3f80), 0xbf00)},
		{Name: "bool", Dtype: BOOL, Shape: []int{3}, Data: []byte{0, 1, 2}},
		{Name: "i8", Dtype: I8, Shape: []int{2}, Data: []byte{0xff, 7}},
		{Name: "e4m3", Dtype: F8E4M3, Shape: []int{1}, Data: []byte{1}},
	}
	f, err := parseBytes(mustWrite(t, ts, nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float64{
		"f64":  {1.5, -2, math.Inf(-1)},
		"f32":  {float64(float32(0.1)), -3, float64(float32(1e30))},
		"i64":  {-7, 1 << 40},
		"i32":  {-1, 5},
		"f16":  {1, -2, math.Ldexp(1, -24)},
		"bf16": {1, -0.5},
		"bool": {0, 1, 1},
		"i8":   {-1, 7},
	} {
		got, err := f.Float64s(name, nil)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Float64s(%q) = %v, %v; want %v", name, got, err, want)
		}
		got32, err := f.Float32s(name, make([]float32, 0, 8))
		for i := range want {
			if err != nil || float32(want[i]) != got32[i] {
				t.Errorf("Float32s(%q) = %v, %v; want %v", name, got32, err, want)
				break
			}
		}
	}
	if _, err := f.Float64s("e4m3", nil); err == nil || !strings.Contains(err.Error(), `tensor "e4m3": dtype F8_E4M3 does not convert`) {
		t.Errorf("F8_E4M3: %v", err)
	}
	if _, err := f.Float64s("nope", nil); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing tensor: %v", err)
	}
}

// TestReadErrors feeds malformed files and checks that each error wraps
// ErrBadFormat and says what is wrong with which tensor.
func TestReadErrors(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`
	d12 := make([]byte, 12)
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1<<62)
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "0 bytes is too short"},
		{"short", []byte{1, 2, 3}, "3 bytes is too short"},
		{"header too long", append(binary.LittleEndian.AppendUint64(nil, 200), "{}"...), "header length 200 exceeds the 2 bytes"},
		{"header huge", append(hugeLen, "{}"...), "exceeds the limit"},
		{"truncated data", file(good, d12[:10]), `tensor "b": data_offsets [8, 12] run past the end of the data (10 bytes`},
		{"trailing", file(good, make([]byte, 13)), `1 bytes of data after the last tensor "b"`},
		{"not json", file(`{"a":`, nil), "header JSON"},
		{"not object", file(`[1,2]   `, nil), "does not start with '{'"},
		{"trailing json", file(`{} {}`, nil), "data after the end of the object"},
		{"utf8", file("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"duplicate", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), `key "a" appears twice`},
		{"duplicate field", file(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), `tensor "a": key "dtype" appears twice`},
		{"dtype", file(`{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": unknown dtype "F33"`},
		{"dtype type", file(`{"w":{"dtype":3,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": dtype is 3`},
		{"no shape", file(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": no shape`},
		{"no offsets", file(`{"w":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), `tensor "w": no data_offsets`},
		{"no dtype", file(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": no dtype`},
		{"negative dim", file(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": shape: element 0 is -1`},
		{"float dim", file(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": shape: element 0 is 1.5`},
		{"shape not array", file(`{"w":{"dtype":"F32","shape":{},"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": shape: got "{"`},
		{"three offsets", file(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4)), `data_offsets has 3 numbers`},
		{"reversed", file(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, make([]byte, 4)), `tensor "w": data_offsets [4, 0] end before they begin`},
		{"size mismatch", file(`{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, make([]byte, 20)), `tensor "w": data_offsets [0, 20] hold 20 bytes, but F32 [2, 3] needs 24`},
		{"overflow", file(`{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "w": shape [4294967296, 4294967296] overflows`},
		{"overflow bytes", file(`{"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "w": shape [4611686018427387904] of F64 is not a whole number of bytes or overflows`},
		{"huge offset", file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}}`, make([]byte, 1)), `tensor "w": data_offsets [18446744073709551614, 18446744073709551615] out of range`},
		{"odd nibbles", file(`{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, make([]byte, 2)), `not a whole number of bytes`},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `tensor "b": data_offsets [4, 8] overlap tensor "a", which ends at 8`},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, d12), `tensor "b": data_offsets [8, 12] leave a gap after tensor "a", which ends at 4`},
		{"late start", file(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `tensor "b": data_offsets [4, 8] leave bytes [0, 4) unused`},
		{"data without tensors", file(`{}`, make([]byte, 3)), "3 bytes of data after a header without tensors"},
		{"metadata type", file(`{"__metadata__":{"a":1}}`, nil), `__metadata__: value of "a" is 1, want a string`},
		{"metadata array", file(`{"__metadata__":[]}`, nil), `__metadata__: is [], want an object`},
		{"entry type", file(`{"w":[1]}`, nil), `tensor "w": entry is [1]`},
	} {
		f, err := parseBytes(tc.file)
		if err == nil {
			t.Errorf("%s: parsed without error: %+v", tc.name, f.Tensors())
			continue
		}
		if !errors.Is(err, ErrBadFormat) {
			t.Errorf("%s: error %q does not wrap ErrBadFormat", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.want)
		}
	}
}

func TestReadLenient(t *testing.T) {
	// Whitespace, any key order, unknown keys, tensors listed out of
	// offset order, zero-size tensors, null metadata: all valid.
	h := "{ \"b\" : {\"data_offsets\":[4,8],\"shape\":[1],\"dtype\":\"F32\",\"extra\":{\"x\":[1]}},\n" +
		"\"__metadata__\": null, \"e\":{\"dtype\":\"F64\",\"shape\":[0,5],\"data_offsets\":[8,8]}," +
		"\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]} }\t"
	f, err := parseBytes(file(h, f32bytes(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !slices.Equal(got, []string{"a", "b", "e"}) {
		t.Errorf("names %v", got)
	}
	b, _ := f.Float64s("b", nil)
	a, _ := f.Float64s("a", nil)
	e, _ := f.Float64s("e", nil)
	if !slices.Equal(a, []float64{1}) || !slices.Equal(b, []float64{2}) || len(e) != 0 {
		t.Errorf("a=%v b=%v e=%v", a, b, e)
	}
	if f.Metadata() != nil {
		t.Errorf("metadata %v, want nil", f.Metadata())
	}
}

func TestOpenAndWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	ts := []Tensor{Float32Tensor("w", []int{2}, []float32{1, 2})}
	if err := WriteFile(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("stat: %v %v", st, err)
	}
	// A failing write leaves the old file and no temporary file.
	bad := []Tensor{{Name: "w", Dtype: F32, Shape: []int{3}, Data: make([]byte, 4)}}
	if err := WriteFile(path, bad, nil); err == nil {
		t.Fatal("no error for a bad tensor")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after failed writes, want 1", len(entries))
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, err := f.Float64s("w", nil); err != nil || !slices.Equal(v, []float64{1, 2}) {
		t.Errorf("read back %v, %v", v, err)
	}
	if f.Name() != path {
		t.Errorf("Name() = %q", f.Name())
	}
	// Errors from Open name the file.
	os.WriteFile(filepath.Join(dir, "bad.safetensors"), []byte("garbage!garbage!"), 0o644)
	if _, err := Open(filepath.Join(dir, "bad.safetensors")); err == nil || !strings.Contains(err.Error(), "bad.safetensors") || !errors.Is(err, ErrBadFormat) {
		t.Errorf("Open(garbage): %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.safetensors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing): %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open(directory) succeeded")
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir.safetensors"), ts, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile into a missing directory: %v", err)
	}
}

// TestTruncations checks that every prefix of a valid file is rejected
// with ErrBadFormat and none panics.
func TestTruncations(t *testing.T) {
	b := mustWrite(t, []Tensor{Float32Tensor("a", []int{2, 2}, []float32{1, 2, 3, 4}), Float64Tensor("b", []int{1}, []float64{5})},
		map[string]string{"format": "pt"})
	for n := range len(b) {
		if _, err := parseBytes(b[:n]); !errors.Is(err, ErrBadFormat) {
			t.Fatalf("prefix of %d/%d bytes: %v", n, len(b), err)
		}
	}
}
