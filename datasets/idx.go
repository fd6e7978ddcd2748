package datasets

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// ErrBadFormat is wrapped by every error that reports a corrupt, truncated
// or malformed data file: a wrong magic number, a header that does not fit
// the data, a broken gzip stream, image and label files that disagree.
// Branch on it with errors.Is; the message names the file and the fault.
// A Batches position that does not belong to the iterator it is restored
// into (UnmarshalBinary) wraps it too.
var ErrBadFormat = errors.New("datasets: bad format")

// IDXType is the element type code of an IDX file (the third byte of its
// magic number).
type IDXType byte

// The element types of the IDX format. Multi-byte types are big-endian.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// Size returns the number of bytes of one element, or 0 for an unknown type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// String returns the type's name, e.g. "uint8".
func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return fmt.Sprintf("IDXType(0x%02x)", byte(t))
}

// MaxIDXBytes is the largest data section ReadIDX accepts, 16 GiB. A header
// that declares more is rejected before anything is allocated; below the
// limit, memory grows only as data actually arrives, so a hostile header
// cannot make the reader allocate much more than the input it is given.
const MaxIDXBytes = 16 << 30

// IDX is an n-dimensional array read from an IDX file, the format of the
// MNIST distribution: a magic number 0x0000TTNN (TT the element type, NN the
// number of dimensions), NN big-endian uint32 sizes, then the elements in
// row-major order. Its methods only read it, so it is safe for concurrent
// use while nothing changes its fields.
type IDX struct {
	Type IDXType
	// Dims are the sizes of the dimensions, outermost first; MNIST images
	// are {N, 28, 28}, labels {N}.
	Dims []int
	// Data holds the elements as stored: big-endian, row-major,
	// len(Data) = Len()·Type.Size().
	Data []byte
}

// Len returns the number of elements, the product of Dims.
func (m *IDX) Len() int {
	n := 1
	for _, d := range m.Dims {
		n *= d
	}
	return n
}

// Float64s converts the elements to float64 into dst, which must have
// length Len() or be nil (then a new slice is allocated), and returns it.
func (m *IDX) Float64s(dst []float64) []float64 {
	n := m.Len()
	if dst == nil {
		dst = make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("datasets: IDX.Float64s: dst has %d values, want %d", len(dst), n))
	}
	if sz := m.Type.Size(); sz == 0 || len(m.Data) != n*sz {
		panic(fmt.Sprintf("datasets: IDX.Float64s: %d data bytes do not hold %d %v elements", len(m.Data), n, m.Type))
	}
	b := m.Data
	switch m.Type {
	case IDXUint8:
		for i := range dst {
			dst[i] = float64(b[i])
		}
	case IDXInt8:
		for i := range dst {
			dst[i] = float64(int8(b[i]))
		}
	case IDXInt16:
		for i := range dst {
			dst[i] = float64(int16(binary.BigEndian.Uint16(b[2*i:])))
		}
	case IDXInt32:
		for i := range dst {
			dst[i] = float64(int32(binary.BigEndian.Uint32(b[4*i:])))
		}
	case IDXFloat32:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(binary.BigEndian.Uint32(b[4*i:])))
		}
	case IDXFloat64:
		for i := range dst {
			dst[i] = math.Float64frombits(binary.BigEndian.Uint64(b[8*i:]))
		}
	}
	return dst
}

// ReadIDX reads one IDX array from r, which may be gzip-compressed (it is
// recognised by its magic bytes). The stream must end right after the data:
// trailing bytes, a short data section and a failed gzip checksum are errors
// wrapping ErrBadFormat. Errors from r itself are returned wrapped as they
// are.
func ReadIDX(r io.Reader) (*IDX, error) {
	m, err := readIDX(context.Background(), r, -1, -1)
	if err != nil {
		return nil, fmt.Errorf("datasets: read IDX: %w", err)
	}
	return m, nil
}

// ReadIDXFile reads the IDX file name, gzipped or not. Errors name the file.
func ReadIDXFile(name string) (*IDX, error) {
	return readIDXFile(context.Background(), name, -1)
}

func readIDXFile(ctx context.Context, name string, limit int) (*IDX, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	m, err := readIDX(ctx, f, limit, streamSize(f))
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", name, err)
	}
	return m, nil
}

// streamSize returns the size of the IDX stream in f, uncompressed, if it
// can be known cheaply and trusted as an allocation size: the file size for
// a plain file; for a gzip file the ISIZE trailer (the uncompressed size
// mod 2³²), if it is within deflate's maximum expansion (1032:1) of the
// file size. Otherwise it returns −1.
func streamSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	size := st.Size()
	var head [2]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return -1
	}
	if head[0] != 0x1f || head[1] != 0x8b {
		return size
	}
	var tail [4]byte
	if size < 18 {
		return -1
	}
	if _, err := f.ReadAt(tail[:], size-4); err != nil {
		return -1
	}
	isize := int64(binary.LittleEndian.Uint32(tail[:]))
	if isize > 1032*size {
		return -1
	}
	return isize
}

// WriteIDX writes m to w in the IDX format, uncompressed.
func WriteIDX(w io.Writer, m *IDX) error {
	sz := m.Type.Size()
	if sz == 0 {
		return fmt.Errorf("datasets: WriteIDX: unknown element type %v", m.Type)
	}
	if len(m.Dims) == 0 || len(m.Dims) > 255 {
		return fmt.Errorf("datasets: WriteIDX: %d dimensions, want 1 to 255", len(m.Dims))
	}
	hdr := make([]byte, 4+4*len(m.Dims))
	hdr[2], hdr[3] = byte(m.Type), byte(len(m.Dims))
	n := uint64(1)
	for i, d := range m.Dims {
		if d < 0 || uint64(d) > math.MaxUint32 {
			return fmt.Errorf("datasets: WriteIDX: dimension %d has size %d, outside 0..2³²−1", i, d)
		}
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(d))
		n *= uint64(d)
	}
	if uint64(len(m.Data)) != n*uint64(sz) {
		return fmt.Errorf("datasets: WriteIDX: %d data bytes for %s %v elements (%d bytes)", len(m.Data), dimString(m.Dims), m.Type, n*uint64(sz))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("datasets: WriteIDX: %w", err)
	}
	if _, err := w.Write(m.Data); err != nil {
		return fmt.Errorf("datasets: WriteIDX: %w", err)
	}
	return nil
}

func dimString(d []int) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "×")
}

// readIDX decodes an IDX stream. With 0 ≤ limit < Dims[0] it reads only
// the first limit entries along the outermost dimension (Dims[0] becomes
// limit) and does not look past them; otherwise it reads everything and
// insists that the stream ends there, which for gzip also verifies the
// checksum. If the stream's total size is known (size ≥ 0) and agrees with
// the header, the data buffer is allocated at once rather than grown.
func readIDX(ctx context.Context, r io.Reader, limit int, size int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	src := io.Reader(br)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, formatError(err, "gzip header")
		}
		defer z.Close()
		src = z
	}
	var magic [4]byte
	if _, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, formatError(err, "reading the magic number")
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%w: magic number %02x%02x%02x%02x does not start with two zero bytes; not an IDX file", ErrBadFormat, magic[0], magic[1], magic[2], magic[3])
	}
	typ, nd := IDXType(magic[2]), int(magic[3])
	sz := typ.Size()
	if sz == 0 {
		return nil, fmt.Errorf("%w: magic number 0x%02x%02x%02x%02x has unknown element type 0x%02x", ErrBadFormat, magic[0], magic[1], magic[2], magic[3], magic[2])
	}
	if nd == 0 {
		return nil, fmt.Errorf("%w: magic number 0x0000%02x00 declares zero dimensions", ErrBadFormat, magic[2])
	}
	hdr := make([]byte, 4*nd)
	if _, err := io.ReadFull(src, hdr); err != nil {
		return nil, formatError(err, fmt.Sprintf("reading the sizes of %d dimensions", nd))
	}
	dims := make([]int, nd)
	total := uint64(sz)
	overflow, partial := false, false
	for i := range dims {
		d := binary.BigEndian.Uint32(hdr[4*i:])
		dims[i] = int(d)
		if i == 0 && limit >= 0 && uint64(limit) < uint64(d) {
			dims[0], partial = limit, true
		}
		if !overflow {
			hi, lo := bits.Mul64(total, uint64(dims[i]))
			overflow = hi != 0
			total = lo
		}
	}
	if overflow || total > MaxIDXBytes || total > math.MaxInt {
		return nil, fmt.Errorf("%w: header declares %s %v elements, more than the %d-byte limit", ErrBadFormat, dimString(dims), typ, int64(MaxIDXBytes))
	}
	var data []byte
	var err error
	if hdrLen := int64(4 + 4*nd); !partial && size >= 0 && uint64(size-hdrLen) == total {
		data = make([]byte, total)
		var k int
		k, err = readFull(ctx, src, data)
		data = data[:k]
	} else {
		data, err = readGrowing(ctx, src, int(total))
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, formatError(err, fmt.Sprintf("header declares %s %v elements (%d bytes) but the data ends after %d bytes", dimString(dims), typ, total, len(data)))
	}
	if !partial {
		var one [1]byte
		n, err := io.ReadFull(src, one[:])
		if n > 0 {
			return nil, fmt.Errorf("%w: trailing bytes after the %s %v array", ErrBadFormat, dimString(dims), typ)
		}
		if err != io.EOF {
			return nil, formatError(err, fmt.Sprintf("after the %s %v array", dimString(dims), typ))
		}
	}
	return &IDX{Type: typ, Dims: dims, Data: data}, nil
}

// readGrowing reads exactly n bytes, growing its buffer as the data arrives
// (first 1 MiB, then doubling), so a header that promises more than the
// stream holds costs at most twice the bytes actually present. It checks
// ctx between chunks.
func readGrowing(ctx context.Context, r io.Reader, n int) ([]byte, error) {
	const first = 1 << 20
	buf := make([]byte, 0, min(n, first))
	for len(buf) < n {
		if err := ctx.Err(); err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			c := min(n, 2*cap(buf))
			nb := make([]byte, len(buf), c)
			copy(nb, buf)
			buf = nb
		}
		end := min(cap(buf), len(buf)+first)
		k, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+k]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// readFull is io.ReadFull in 1 MiB chunks, checking ctx between them.
func readFull(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := io.ReadFull(r, buf[n:min(len(buf), n+1<<20)])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// formatError classifies a read error: an early end of data and a corrupt
// gzip stream are format errors; anything else (a failing disk, a closed
// pipe) is returned as it is, with context.
func formatError(err error, what string) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated: %s", ErrBadFormat, what)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return fmt.Errorf("%w: corrupt gzip stream (%v): %s", ErrBadFormat, err, what)
	}
	return fmt.Errorf("%s: %w", what, err)
}
