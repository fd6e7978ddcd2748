package platform_test

import (
	"fmt"
	"time"

	"github.com/ebmgo/ebm/platform"
)

// Report wall-clock and CPU time of a piece of work, as the example
// programs do in their results.
func ExampleCPUSeconds() {
	start, cpu0 := time.Now(), platform.CPUSeconds()
	x := 0.0
	for i := range 1000000 {
		x += float64(i)
	}
	wall, cpu := time.Since(start).Seconds(), platform.CPUSeconds()-cpu0
	fmt.Println(x > 0, wall >= 0, cpu >= 0)
	// Output: true true true
}
