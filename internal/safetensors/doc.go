// Package safetensors reads and writes the safetensors format of Hugging
// Face, the file PyTorch (safetensors.torch.save_file / load_file), JAX and
// most model hubs use for weights.
//
// # Format
//
// A file is three parts, all little-endian:
//
//	N       8 bytes, an unsigned 64-bit integer: the length of the header
//	header  N bytes of UTF-8 JSON:
//	        {"__metadata__": {"key": "value", ...},
//	         "name": {"dtype": "F32", "shape": [4, 1, 3, 3], "data_offsets": [b, e]}, ...}
//	data    the tensors' bytes, row-major (C order), little-endian
//
// data_offsets are byte offsets into the data part. Every tensor's extent
// e − b equals prod(shape)·size(dtype) (a shape of [] is a scalar of one
// element); sorted by offset, the tensors tile the data part exactly, with
// no gap, overlap or trailing byte. "__metadata__" is optional and maps
// strings to strings.
//
// # Reading
//
// [Open] and [NewFile] parse and validate the header as strictly as the
// reference implementation does, and more: the header length against the
// file size (and at most 100 MB), well-formed UTF-8 JSON that is an object,
// no duplicate names (encoding/json would silently keep the last), known
// dtypes, non-negative integer shapes whose byte size does not overflow,
// offsets in range, contiguous and non-overlapping. Every error wraps
// [ErrBadFormat] and names the tensor and what is wrong. Nothing is
// allocated beyond what the file's size justifies, so a hostile or
// truncated file cannot make the reader allocate absurd amounts or panic.
// Tensor data is read lazily through an io.ReaderAt and converted on
// request: F64, F32, F16, BF16, the integer types and BOOL convert to
// float64 and float32 ([File.Float64s], [File.Float32s]).
//
// # Writing
//
// [Write] and [WriteFile] produce the bytes the reference writer
// (safetensors.serialize) produces for the same tensors: tensors ordered
// by descending dtype alignment, then by name (byte order); compact JSON
// with "__metadata__" first and each tensor's keys in the order dtype,
// shape, data_offsets; the header padded with spaces to a multiple of 8
// bytes so every tensor's data is aligned. [WriteFile] is atomic: it writes
// a temporary file in the same directory, syncs it and renames it over the
// target, so a crash leaves either the old file or the new one.
package safetensors
