package nn_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
)

// TestConcurrentGraphs does what the package documentation allows: graphs
// of one model compiled one at a time, then run at the same time, one
// goroutine each; every goroutine gets the energies and gradients a lone
// run gets, bit for bit. (go test -race checks the sharing itself.)
func TestConcurrentGraphs(t *testing.T) {
	m := nn.NewMNISTCNN(rand.New(rand.NewPCG(1, 2)), 4)
	const batch, goroutines = 4, 3
	x := make([]float64, batch*784)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	var es []*graph.Energy
	for range goroutines + 1 {
		e, err := graph.NewEnergy(m, graph.Config{Shape: []int{1, 28, 28}, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	wantF, wantG := make([]float64, batch), make([]float64, batch*784)
	if err := es[goroutines].FGrad(wantF, wantG, x); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range es[:goroutines] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, g := make([]float64, batch), make([]float64, batch*784)
			for range 5 {
				if err := e.FGrad(f, g, x); err != nil {
					t.Error(err)
					return
				}
				for i := range f {
					if math.Float64bits(f[i]) != math.Float64bits(wantF[i]) {
						t.Errorf("f[%d] = %v in a concurrent run, %v alone", i, f[i], wantF[i])
						return
					}
				}
				for i := range g {
					if math.Float64bits(g[i]) != math.Float64bits(wantG[i]) {
						t.Errorf("∇f[%d] = %v in a concurrent run, %v alone", i, g[i], wantG[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
