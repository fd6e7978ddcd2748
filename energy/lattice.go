package energy

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/ebmgo/ebm/internal/mathx"
)

// torus holds the neighbour tables of an l×l periodic square lattice whose
// site (r, c) is variable r·l + c. For l = 2 the right and left neighbours
// coincide, so each horizontal and each vertical pair is counted twice:
// the lattice is the torus multigraph with 2l² edges, as the sums
// Σ_i x_i x_right(i) + x_i x_down(i) define it for every l.
type torus struct {
	l                     int
	right, down, left, up []int
}

func newTorus(l int) torus {
	t := torus{l: l}
	n := l * l
	t.right, t.down, t.left, t.up = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	for r := 0; r < l; r++ {
		for c := 0; c < l; c++ {
			i := r*l + c
			t.right[i] = r*l + (c+1)%l
			t.left[i] = r*l + (c+l-1)%l
			t.down[i] = ((r+1)%l)*l + c
			t.up[i] = ((r+l-1)%l)*l + c
		}
	}
	return t
}

// MaxTransferOps bounds the work of the exact transfer-matrix sums behind
// (*Ising).LogZ and (*Potts).LogZ: l²·K^(2l+1) multiply-adds for an l×l
// lattice of K-state variables (Ising up to 10×10, 3-state Potts up to
// 6×6, 4-state Potts up to 5×5).
const MaxTransferOps = 1 << 29

// transferCost returns l²·K^(2l+1), or −1 if it exceeds MaxTransferOps.
func transferCost(l, k int) int {
	c := l * l
	for i := 0; i < 2*l+1; i++ {
		if c > MaxTransferOps/k {
			return -1
		}
		c *= k
	}
	return c
}

// transferLogZ returns
//
//	log Σ_x exp(Σ_i [pair(x_i, x_right(i)) + pair(x_i, x_down(i)) + site(x_i)])
//
// over the K^(l²) states of an l×l periodic lattice, with pair[a*K+b] a
// symmetric table over value indices and site[a]. It is the trace of the
// l-th power of the row-to-row transfer matrix, Z = Σ_{s₀} (T^l)[s₀, s₀],
// computed for each first row s₀ by adding the sites of the following rows
// one at a time (a vector over the K^l configurations of the last l sites
// added), so that each start costs l²·K^(l+1).
func transferLogZ(ctx context.Context, l, k int, pair, site []float64) (float64, error) {
	if transferCost(l, k) < 0 {
		return 0, tooLargeErrorf("transfer matrix: %d×%d lattice of %d-state variables costs more than %d operations", l, l, k, MaxTransferOps)
	}
	pmax, pmin := math.Inf(-1), math.Inf(1)
	for _, p := range pair {
		pmax, pmin = math.Max(pmax, p), math.Min(pmin, p)
	}
	smax := math.Inf(-1)
	for _, s := range site {
		smax = math.Max(smax, s)
	}
	// Entries of the partial-sum vector that underflow relative to its
	// largest can regain at most exp((2l+1)·(pmax−pmin)) through the bonds
	// that cross the frontier; below e^600 they stay negligible and the
	// linear domain is exact to double precision. Beyond, work in logs.
	logDomain := float64(2*l+1)*(pmax-pmin) > 600
	st := &transferState{l: l, k: k, pair: pair, site: site, pmax: pmax, smax: smax, logDomain: logDomain}
	st.ePair = make([]float64, len(pair))
	for i, p := range pair {
		st.ePair[i] = math.Exp(p - pmax)
	}
	st.eSite = make([]float64, len(site))
	for i, s := range site {
		st.eSite[i] = math.Exp(s - smax)
	}
	st.pow = make([]int, l+1)
	st.pow[0] = 1
	for i := 1; i <= l; i++ {
		st.pow[i] = st.pow[i-1] * k
	}
	nStart := st.pow[l]
	out := make([]float64, nStart)
	var (
		next, workers = 0, min(runtime.GOMAXPROCS(0), nStart)
		mu            sync.Mutex
		wg            sync.WaitGroup
		ctxErr        error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, nv := make([]float64, nStart), make([]float64, nStart)
			for {
				mu.Lock()
				if ctxErr == nil {
					ctxErr = ctx.Err()
				}
				s0, stop := next, ctxErr != nil
				next++
				mu.Unlock()
				if stop || s0 >= nStart {
					return
				}
				out[s0] = st.start(s0, v, nv)
			}
		}()
	}
	wg.Wait()
	if ctxErr != nil {
		return 0, fmt.Errorf("energy: transfer matrix: %w", ctxErr)
	}
	return mathx.LogSumExp(out), nil
}

type transferState struct {
	l, k         int
	pair, site   []float64 // log weights
	ePair, eSite []float64 // exp(pair − pmax), exp(site − smax)
	pmax, smax   float64
	logDomain    bool
	pow          []int // K^i
}

func (st *transferState) digit(idx, c int) int { return idx / st.pow[c] % st.k }

// start returns log Σ over all states whose first row is s₀.
func (st *transferState) start(s0 int, v, nv []float64) float64 {
	l, k := st.l, st.k
	// Row 0: its site terms and horizontal bonds.
	var w0 float64
	for c := 0; c < l; c++ {
		a, b := st.digit(s0, c), st.digit(s0, (c+1)%l)
		w0 += st.site[a] + st.pair[a*k+b]
	}
	lz := w0 // log scale of v
	if st.logDomain {
		for i := range v {
			v[i] = math.Inf(-1)
		}
		v[s0] = 0
	} else {
		clear(v)
		v[s0] = 1
	}
	for r := 1; r < l; r++ {
		for c := 0; c < l; c++ {
			lz += st.addSite(c, v, nv)
			v, nv = nv, v
		}
	}
	// Close the torus: bonds between the last row (now in v) and row 0.
	if st.logDomain {
		acc := newLogAccumulator()
		for idx, lv := range v {
			if lv == math.Inf(-1) {
				continue
			}
			for c := 0; c < l; c++ {
				lv += st.pair[st.digit(idx, c)*k+st.digit(s0, c)]
			}
			acc.add(lv)
		}
		return lz + acc.log()
	}
	var sum float64
	for idx, x := range v {
		if x == 0 {
			continue
		}
		for c := 0; c < l; c++ {
			x *= st.ePair[st.digit(idx, c)*k+st.digit(s0, c)]
		}
		sum += x
	}
	return lz + float64(l)*st.pmax + math.Log(sum)
}

// addSite adds the site in column c of the next row: the vector's digit c
// (the site above) is summed out and replaced by the new site's value. It
// writes the new vector to nv and returns the log of the factor taken out.
func (st *transferState) addSite(c int, v, nv []float64) float64 {
	l, k, pc := st.l, st.k, st.pow[c]
	nBonds := 1 // the vertical bond to the site above
	if c > 0 {
		nBonds++ // the bond to the left neighbour, column c−1 of this row
	}
	if c == l-1 {
		nBonds++ // the wrap-around bond to column 0 of this row
	}
	if st.logDomain {
		m := math.Inf(-1)
		terms := make([]float64, k)
		for idx := range nv {
			x := idx / pc % k
			base := idx - x*pc
			w := st.site[x]
			if c > 0 {
				w += st.pair[x*k+st.digit(idx, c-1)]
			}
			if c == l-1 {
				w += st.pair[x*k+st.digit(idx, 0)]
			}
			for y := 0; y < k; y++ {
				terms[y] = v[base+y*pc] + st.pair[y*k+x]
			}
			t := mathx.LogSumExp(terms) + w
			nv[idx] = t
			m = math.Max(m, t)
		}
		for idx := range nv {
			nv[idx] -= m
		}
		return m
	}
	// idx = ((hi·K + x)·K + top)·K^(c−1) + rest, where x is the new site,
	// top its left neighbour (column c−1) and rest columns 0…c−2.
	var m float64
	pl := 1
	if c > 0 {
		pl = st.pow[c-1]
	}
	nTop := k
	if c == 0 {
		nTop = 1
	}
	for hi := 0; hi < st.pow[l-c-1]; hi++ {
		for x := 0; x < k; x++ {
			fx := st.eSite[x]
			up := st.ePair[x*k : x*k+k] // up[y] = ePair[y*k+x]: pair is symmetric
			for top := 0; top < nTop; top++ {
				f := fx
				if c > 0 {
					f *= st.ePair[x*k+top]
				}
				lo0 := top * pl
				for rest := 0; rest < pl; rest++ {
					base := hi*pc*k + lo0 + rest
					var s float64
					for y, e := range up {
						s += v[base+y*pc] * e
					}
					s *= f
					if c == l-1 {
						d0 := rest % k // column 0
						if c == 1 {
							d0 = top
						}
						s *= st.ePair[x*k+d0]
					}
					nv[base+x*pc] = s
					m = math.Max(m, s)
				}
			}
		}
	}
	for idx := range nv {
		nv[idx] /= m
	}
	return float64(nBonds)*st.pmax + st.smax + math.Log(m)
}
