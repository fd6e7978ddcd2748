package safetensors_test

import (
	"bytes"
	"fmt"

	"github.com/ebmgo/ebm/internal/safetensors"
)

func Example() {
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		safetensors.Float32Tensor("0.weight", []int{2, 2}, []float32{1, 2, 3, 4}),
		safetensors.Float32Tensor("0.bias", []int{2}, []float32{0.5, -0.5}),
	}, map[string]string{"format": "pt"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, header %s\n", buf.Len(), bytes.TrimRight(buf.Bytes()[8:buf.Len()-24], " "))

	f, err := safetensors.NewFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		v, _ := f.Float64s(name, nil)
		fmt.Println(name, info.Dtype, info.Shape, v)
	}
	// Output:
	// 192 bytes, header {"__metadata__":{"format":"pt"},"0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}
	// 0.bias F32 [2] [0.5 -0.5]
	// 0.weight F32 [2 2] [1 2 3 4]
}

func ExampleNewFile_error() {
	// A file whose header promises more data than there is.
	b := []byte("\x40\x00\x00\x00\x00\x00\x00\x00" +
		`{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}       ` + "\x00\x00\x00\x00")
	_, err := safetensors.NewFile(bytes.NewReader(b), int64(len(b)))
	fmt.Println(err)
	// Output:
	// safetensors: tensor "w": data_offsets [0, 16] run past the end of the data (4 bytes; truncated file?): safetensors: bad format
}
