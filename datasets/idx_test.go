package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func encodeIDX(t testing.TB, m *IDX) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteIDX(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	if _, err := z.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestIDXRoundTrip(t *testing.T) {
	f32 := make([]byte, 4*3)
	for i, v := range []float32{1.5, -2, 1e-3} {
		binary.BigEndian.PutUint32(f32[4*i:], math.Float32bits(v))
	}
	f64 := make([]byte, 8*2)
	for i, v := range []float64{math.Pi, -1e300} {
		binary.BigEndian.PutUint64(f64[8*i:], math.Float64bits(v))
	}
	for _, tc := range []struct {
		m    IDX
		want []float64
	}{
		{IDX{IDXUint8, []int{2, 3}, []byte{0, 1, 2, 253, 254, 255}}, []float64{0, 1, 2, 253, 254, 255}},
		{IDX{IDXInt8, []int{3}, []byte{0x7f, 0x80, 0xff}}, []float64{127, -128, -1}},
		{IDX{IDXInt16, []int{2}, []byte{0x01, 0x02, 0xff, 0xfe}}, []float64{258, -2}},
		{IDX{IDXInt32, []int{1, 1, 1}, []byte{0xff, 0xff, 0xff, 0xfd}}, []float64{-3}},
		{IDX{IDXFloat32, []int{3}, f32}, []float64{1.5, -2, float64(float32(1e-3))}},
		{IDX{IDXFloat64, []int{2, 1}, f64}, []float64{math.Pi, -1e300}},
		{IDX{IDXUint8, []int{0, 28, 28}, []byte{}}, []float64{}},
	} {
		raw := encodeIDX(t, &tc.m)
		for name, enc := range map[string][]byte{"plain": raw, "gzip": gz(t, raw)} {
			got, err := ReadIDX(bytes.NewReader(enc))
			if err != nil {
				t.Fatalf("%v %s: %v", tc.m.Type, name, err)
			}
			if got.Type != tc.m.Type || !equalInts(got.Dims, tc.m.Dims) || !bytes.Equal(got.Data, tc.m.Data) {
				t.Errorf("%v %s: read %v %v %x, want %v %v %x", tc.m.Type, name, got.Type, got.Dims, got.Data, tc.m.Type, tc.m.Dims, tc.m.Data)
			}
			if v := got.Float64s(nil); !equalFloats(v, tc.want) {
				t.Errorf("%v %s: Float64s = %v, want %v", tc.m.Type, name, v, tc.want)
			}
		}
	}
}

// A reader that hands out one byte at a time must give the same result.
func TestIDXOneByteReader(t *testing.T) {
	m := &IDX{IDXUint8, []int{3, 4}, []byte("abcdefghijkl")}
	for _, enc := range [][]byte{encodeIDX(t, m), gz(t, encodeIDX(t, m))} {
		got, err := ReadIDX(iotest.OneByteReader(bytes.NewReader(enc)))
		if err != nil || !bytes.Equal(got.Data, m.Data) {
			t.Fatalf("got %v, %v", got, err)
		}
	}
}

func TestIDXBadFormat(t *testing.T) {
	good := encodeIDX(t, &IDX{IDXUint8, []int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}})
	flipped := gz(t, good)
	flipped[len(flipped)-6] ^= 0xff // inside the CRC-32 trailer
	huge := []byte{0, 0, 0x08, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "truncated", nil},
		{"short magic", "truncated", []byte{0, 0}},
		{"wrong magic", "not an IDX file", append([]byte{1, 2}, good[2:]...)},
		{"unknown type", "unknown element type 0x07", append([]byte{0, 0, 7}, good[3:]...)},
		{"no dims", "zero dimensions", []byte{0, 0, 8, 0}},
		{"short header", "truncated", good[:9]},
		{"short data", "data ends after 5 bytes", good[:len(good)-3]},
		{"trailing", "trailing bytes", append(append([]byte(nil), good...), 0)},
		{"huge", "limit", huge},
		{"gzip truncated", "truncated", gz(t, good)[:20]},
		{"gzip crc", "corrupt gzip", flipped},
		{"gzip garbage", "corrupt gzip", append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, bytes.Repeat([]byte{0xff}, 40)...)},
	} {
		_, err := ReadIDX(bytes.NewReader(tc.data))
		if !errors.Is(err, ErrBadFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrBadFormat mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestIDXFileErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "broken-idx3-ubyte")
	if err := os.WriteFile(p, []byte{0, 0, 8, 3, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadIDXFile(p)
	if !errors.Is(err, ErrBadFormat) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want ErrBadFormat naming %s", err, p)
	}
	_, err = ReadIDXFile(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want os.ErrNotExist", err)
	}
}

// An I/O error is reported as such, not as a format error.
func TestIDXReadErrorIsNotFormat(t *testing.T) {
	good := encodeIDX(t, &IDX{IDXUint8, []int{4}, []byte{1, 2, 3, 4}})
	boom := errors.New("disk on fire")
	_, err := ReadIDX(io.MultiReader(bytes.NewReader(good[:6]), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.Is(err, ErrBadFormat) {
		t.Errorf("err = %v, want the reader's error and not ErrBadFormat", err)
	}
}

// A header declaring 4 GiB followed by a few bytes must fail without
// allocating anything near 4 GiB.
func TestIDXHostileHeaderAllocatesLittle(t *testing.T) {
	hdr := []byte{0, 0, 0x08, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadIDX(bytes.NewReader(hdr))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBadFormat) {
		t.Fatalf("err = %v, want ErrBadFormat", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Errorf("allocated %d bytes for an 11-byte input", d)
	}
}

func TestWriteIDXRejects(t *testing.T) {
	for _, m := range []*IDX{
		{IDXType(1), []int{1}, []byte{0}},
		{IDXUint8, nil, nil},
		{IDXUint8, []int{-1}, nil},
		{IDXInt16, []int{2}, []byte{1, 2, 3}},
	} {
		if err := WriteIDX(io.Discard, m); err == nil {
			t.Errorf("WriteIDX(%v) succeeded", m)
		}
	}
}

// FuzzIDX checks that no input makes ReadIDX panic or return an array
// whose size disagrees with its header, and that what it accepts survives
// a write/read round trip.
func FuzzIDX(f *testing.F) {
	seeds := [][]byte{
		encodeIDX(f, &IDX{IDXUint8, []int{2, 3, 3}, make([]byte, 18)}),
		encodeIDX(f, &IDX{IDXUint8, []int{5}, []byte{0, 1, 2, 3, 9}}),
		encodeIDX(f, &IDX{IDXFloat64, []int{1, 2}, make([]byte, 16)}),
		encodeIDX(f, &IDX{IDXInt16, []int{0}, nil}),
		gz(f, encodeIDX(f, &IDX{IDXUint8, []int{4, 2}, []byte("abcdefgh")})),
		{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0, 0, 0x0e, 0xff},
		{0x1f, 0x8b},
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadIDX(bytes.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatal("non-nil array with an error")
			}
			return
		}
		if len(m.Data) != m.Len()*m.Type.Size() {
			t.Fatalf("%d data bytes for dims %v of %v", len(m.Data), m.Dims, m.Type)
		}
		m.Float64s(nil)
		var b bytes.Buffer
		if err := WriteIDX(&b, m); err != nil {
			t.Fatal(err)
		}
		m2, err := ReadIDX(&b)
		if err != nil || !bytes.Equal(m2.Data, m.Data) || !equalInts(m2.Dims, m.Dims) || m2.Type != m.Type {
			t.Fatalf("round trip: %v, %v", m2, err)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
