package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Dtype is a tensor element type, spelled as in the file ("F32").
type Dtype string

// The dtypes of the format. Data of every dtype can be read as bytes
// ([File.Bytes]); those marked convertible also convert to float64 and
// float32.
const (
	BOOL Dtype = "BOOL" // 1 byte, 0 or 1; convertible
	U8   Dtype = "U8"   // convertible
	I8   Dtype = "I8"   // convertible
	I16  Dtype = "I16"  // convertible
	U16  Dtype = "U16"  // convertible
	I32  Dtype = "I32"  // convertible
	U32  Dtype = "U32"  // convertible
	I64  Dtype = "I64"  // convertible (exactly up to 2⁵³)
	U64  Dtype = "U64"  // convertible (exactly up to 2⁵³)
	F16  Dtype = "F16"  // IEEE 754 binary16; convertible exactly
	BF16 Dtype = "BF16" // bfloat16, the top half of a float32; convertible exactly
	F32  Dtype = "F32"  // convertible
	F64  Dtype = "F64"  // convertible
	C64  Dtype = "C64"  // complex64: two float32

	F8E5M2     Dtype = "F8_E5M2"
	F8E4M3     Dtype = "F8_E4M3"
	F8E8M0     Dtype = "F8_E8M0"
	F8E4M3FNUZ Dtype = "F8_E4M3FNUZ"
	F8E5M2FNUZ Dtype = "F8_E5M2FNUZ"
	F6E2M3     Dtype = "F6_E2M3" // 6 bits, packed
	F6E3M2     Dtype = "F6_E3M2" // 6 bits, packed
	F4         Dtype = "F4"      // 4 bits, packed
)

type dtypeInfo struct {
	bits int // bits per element
	// rank orders dtypes as the reference implementation's Dtype enum
	// does (by alignment); its writer puts higher ranks first.
	rank int
}

var dtypes = map[Dtype]dtypeInfo{
	BOOL: {8, 0}, F4: {4, 1}, F6E2M3: {6, 2}, F6E3M2: {6, 3},
	U8: {8, 4}, I8: {8, 5}, F8E5M2: {8, 6}, F8E4M3: {8, 7}, F8E8M0: {8, 8},
	F8E4M3FNUZ: {8, 9}, F8E5M2FNUZ: {8, 10},
	I16: {16, 11}, U16: {16, 12}, F16: {16, 13}, BF16: {16, 14},
	I32: {32, 15}, U32: {32, 16}, F32: {32, 17}, C64: {64, 18},
	F64: {64, 19}, I64: {64, 20}, U64: {64, 21},
}

// Bits returns the number of bits of one element, or 0 for a dtype the
// format does not define.
func (d Dtype) Bits() int { return dtypes[d].bits }

// Valid reports whether the format defines d.
func (d Dtype) Valid() bool { _, ok := dtypes[d]; return ok }

// Convertible reports whether data of dtype d converts to float64.
func (d Dtype) Convertible() bool {
	switch d {
	case BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64:
		return true
	}
	return false
}

// byteSize returns the number of bytes of n elements of d, or false if it
// overflows or is not a whole number of bytes.
func byteSize(d Dtype, n uint64) (uint64, bool) {
	bits := uint64(d.Bits())
	if bits == 0 || n > math.MaxUint64/bits {
		return 0, false
	}
	nb := n * bits
	if nb%8 != 0 {
		return 0, false
	}
	return nb / 8, true
}

// Float16 returns the value of the IEEE 754 half-precision number h.
// Subnormals, infinities and NaN convert exactly.
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN; keep the payload's top bits
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant·2⁻²⁴
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BFloat16 returns the value of the bfloat16 number b.
func BFloat16(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// decode converts the little-endian data of n elements of dtype d into
// dst, calling set(i, v) for each element. It panics on a dtype that is
// not convertible; callers check first.
func decode(d Dtype, data []byte, set func(i int, v float64)) {
	le := binary.LittleEndian
	switch d {
	case BOOL, U8:
		for i, b := range data {
			if d == BOOL && b != 0 {
				b = 1
			}
			set(i, float64(b))
		}
	case I8:
		for i, b := range data {
			set(i, float64(int8(b)))
		}
	case I16:
		for i := range len(data) / 2 {
			set(i, float64(int16(le.Uint16(data[2*i:]))))
		}
	case U16:
		for i := range len(data) / 2 {
			set(i, float64(le.Uint16(data[2*i:])))
		}
	case F16:
		for i := range len(data) / 2 {
			set(i, float64(Float16(le.Uint16(data[2*i:]))))
		}
	case BF16:
		for i := range len(data) / 2 {
			set(i, float64(BFloat16(le.Uint16(data[2*i:]))))
		}
	case I32:
		for i := range len(data) / 4 {
			set(i, float64(int32(le.Uint32(data[4*i:]))))
		}
	case U32:
		for i := range len(data) / 4 {
			set(i, float64(le.Uint32(data[4*i:])))
		}
	case F32:
		for i := range len(data) / 4 {
			set(i, float64(math.Float32frombits(le.Uint32(data[4*i:]))))
		}
	case I64:
		for i := range len(data) / 8 {
			set(i, float64(int64(le.Uint64(data[8*i:]))))
		}
	case U64:
		for i := range len(data) / 8 {
			set(i, float64(le.Uint64(data[8*i:])))
		}
	case F64:
		for i := range len(data) / 8 {
			set(i, math.Float64frombits(le.Uint64(data[8*i:])))
		}
	default:
		panic(fmt.Sprintf("safetensors: decode: dtype %s is not convertible", d))
	}
}
