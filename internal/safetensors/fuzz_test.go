package safetensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzRead checks that the reader never panics, allocates no more than the
// input justifies, and that whatever it accepts survives a write and a
// second read unchanged. Run it with
//
//	go test ./internal/safetensors -run '^$' -fuzz FuzzRead -fuzztime 60s
func FuzzRead(f *testing.F) {
	le := func(t []Tensor, m map[string]string) []byte {
		var buf bytes.Buffer
		if err := Write(&buf, t, m); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	f.Add(le(nil, nil))
	f.Add(le([]Tensor{Float32Tensor("0.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), Float32Tensor("0.bias", []int{2}, []float32{-1, 1})},
		map[string]string{"format": "pt"}))
	f.Add(le([]Tensor{Float64Tensor("x", []int{}, []float64{math.Pi}), Int64Tensor("n", []int{1}, []int64{7}),
		{Name: "h", Dtype: F16, Shape: []int{2}, Data: []byte{0, 0x3c, 0, 0x7c}},
		{Name: "b", Dtype: BF16, Shape: []int{1}, Data: []byte{0x80, 0x3f}},
		{Name: "z", Dtype: U8, Shape: []int{0, 3}}}, nil))
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, []byte{0x21}))
	f.Add(file(`{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 3)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'})
	for _, p := range []string{"testdata/torch_dtypes.safetensors", "../../nn/testdata/torch_model.safetensors"} {
		if b, err := os.ReadFile(filepath.FromSlash(p)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := parseBytes(data)
		if err != nil {
			return
		}
		var again []Tensor
		var total int64
		for _, info := range sf.Tensors() {
			b, err := sf.Bytes(info.Name)
			if err != nil {
				t.Fatalf("accepted file, but tensor %q does not read: %v", info.Name, err)
			}
			total += int64(len(b))
			if info.Dtype.Convertible() {
				v, err := sf.Float64s(info.Name, nil)
				if err != nil || len(v) != info.NumElements() {
					t.Fatalf("tensor %q: %d values for %d elements, %v", info.Name, len(v), info.NumElements(), err)
				}
			}
			again = append(again, Tensor{Name: info.Name, Dtype: info.Dtype, Shape: info.Shape, Data: b})
		}
		if total > int64(len(data)) {
			t.Fatalf("tensors hold %d bytes in a %d-byte file", total, len(data))
		}
		var buf bytes.Buffer
		if err := Write(&buf, again, sf.Metadata()); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		sf2, err := parseBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if !slices.Equal(sf.Names(), sf2.Names()) {
			t.Fatalf("names %q became %q", sf.Names(), sf2.Names())
		}
		for _, name := range sf.Names() {
			a, _ := sf.Info(name)
			b, _ := sf2.Info(name)
			da, _ := sf.Bytes(name)
			db, _ := sf2.Bytes(name)
			if a.Dtype != b.Dtype || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(da, db) {
				t.Fatalf("tensor %q changed on rewrite: %+v -> %+v", name, a, b)
			}
		}
	})
}
