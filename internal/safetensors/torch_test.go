package safetensors

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
)

// TestTorchDtypes reads values torch wrote in F16, BF16, F32, I32, I64, U8,
// I8 and BOOL and compares our conversions with torch's own conversions to
// float64, bit for bit. nn/testdata/make_torch.py writes the file.
func TestTorchDtypes(t *testing.T) {
	f, err := Open("testdata/torch_dtypes.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := 0
	for _, name := range f.Names() {
		ref, ok := strings.CutSuffix(name, "_as_f64")
		if !ok {
			continue
		}
		want, err := f.Float64s(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Float64s(ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Info(ref)
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", ref, len(got), len(want))
		}
		for i := range got {
			same := math.Float64bits(got[i]) == math.Float64bits(want[i]) || math.IsNaN(got[i]) && math.IsNaN(want[i])
			if !same {
				t.Errorf("%s (%s) [%d] = %v, torch says %v", ref, info.Dtype, i, got[i], want[i])
			}
		}
		checked++
	}
	if checked < 8 {
		t.Errorf("only %d dtypes checked", checked)
	}
}

// TestTorchFileRewrite re-encodes files written by the plain-Python writer
// of nn/testdata/torchref.py (which follows the reference's ordering and
// padding) and expects identical bytes.
func TestTorchFileRewrite(t *testing.T) {
	for _, path := range []string{"testdata/torch_dtypes.safetensors", "../../nn/testdata/torch_model.safetensors"} {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseBytes(orig)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var ts []Tensor
		for _, info := range f.Tensors() {
			b, err := f.Bytes(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, Tensor{Name: info.Name, Dtype: info.Dtype, Shape: info.Shape, Data: b})
		}
		var buf bytes.Buffer
		if err := Write(&buf, ts, f.Metadata()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("%s: rewritten file differs\n got %.300q\nwant %.300q", path, buf.Bytes()[8:], orig[8:])
		}
	}
}
