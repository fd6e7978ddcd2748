package datasets

import (
	"fmt"
	"math"
)

// planes is an image of c channels of h×w intensities in [0, 1], planar and
// row-major like ImageSet.
type planes struct {
	c, h, w int
	pix     []float64
}

// weights are the coefficients of a one-dimensional resampling from in to
// out samples: output i is Σ_k w[i][k]·input[start[i]+k].
type weights struct {
	in, out int
	start   []int
	w       [][]float64
}

// resampleWeights returns the antialiased bilinear weights of PIL's
// BILINEAR filter and of torch.nn.functional.interpolate(mode="bilinear",
// antialias=True, align_corners=False): output pixel i is centred at
// c = (i + ½)·s in input coordinates, s = in/out, and input pixel j gets
// the weight tri((j + ½ − c)/max(s, 1)), tri(t) = max(0, 1 − |t|), over
// the pixels j ∈ [⌊c − max(s, 1) + ½⌋, ⌊c + max(s, 1) + ½⌋) ∩ [0, in),
// normalised to sum to 1. When shrinking (s > 1) the triangle is widened
// by s, so every input pixel contributes: an area-weighted average that
// does not alias. Only outputs lo..lo+n−1 are computed.
func resampleWeights(in, out, lo, n int) weights {
	s := float64(in) / float64(out)
	fs := math.Max(s, 1)
	support := fs // the triangle's radius
	wt := weights{in: in, out: n, start: make([]int, n), w: make([][]float64, n)}
	for k := range n {
		i := lo + k
		c := (float64(i) + 0.5) * s
		a := max(int(math.Floor(c-support+0.5)), 0)
		b := min(int(math.Floor(c+support+0.5)), in)
		ws := make([]float64, 0, max(b-a, 1))
		total := 0.0
		for j := a; j < b; j++ {
			t := math.Abs((float64(j) + 0.5 - c) / fs)
			v := math.Max(0, 1-t)
			ws = append(ws, v)
			total += v
		}
		if total == 0 { // cannot happen for in ≥ 1: the nearest pixel has t < 1
			ws, a = []float64{1}, min(int(c), in-1)
			total = 1
		}
		for j := range ws {
			ws[j] /= total
		}
		wt.start[k], wt.w[k] = a, ws
	}
	return wt
}

// shaper brings images to c×h×w with a Fit. It keeps its scratch space and
// the weights of the last sizes it saw between calls; one per goroutine.
type shaper struct {
	c, h, w int
	fit     Fit
	gray    []float64 // colour → gray scratch
	tmp     []float64 // after the horizontal pass
	key     [4]int
	wy, wx  weights
}

// apply writes src, converted to s.c channels and brought to s.h×s.w, to
// dst (len s.c·s.h·s.w), as intensities in [0, 1]. It fails only for
// CenterCrop of an image smaller than the size asked for.
func (s *shaper) apply(dst []float64, src planes) error {
	if src.c == 3 && s.c == 1 {
		n := src.h * src.w
		s.gray = grow(s.gray, n)
		r, g, b := src.pix[:n], src.pix[n:2*n], src.pix[2*n:3*n]
		for i := range s.gray {
			s.gray[i] = 0.299*r[i] + 0.587*g[i] + 0.114*b[i]
		}
		src = planes{1, src.h, src.w, s.gray}
	}
	plane := s.h * s.w
	if err := s.fitPlanes(dst[:src.c*plane], src); err != nil {
		return err
	}
	if src.c == 1 && s.c == 3 {
		copy(dst[plane:2*plane], dst[:plane])
		copy(dst[2*plane:3*plane], dst[:plane])
	}
	return nil
}

// fitPlanes brings every channel of src to s.h×s.w.
func (s *shaper) fitPlanes(dst []float64, src planes) error {
	h, w := s.h, s.w
	if src.h == h && src.w == w {
		copy(dst, src.pix[:src.c*h*w])
		return nil
	}
	// The output spans rows y0..y0+h−1 and columns x0..x0+w−1 of the
	// source resized to nh×nw.
	nh, nw, y0, x0 := h, w, 0, 0
	switch s.fit {
	case CenterCrop:
		if src.h < h || src.w < w {
			return fmt.Errorf("%d×%d is smaller than the %d×%d to crop", src.w, src.h, w, h)
		}
		y0, x0 = (src.h-h)/2, (src.w-w)/2
		for c := range src.c {
			in := src.pix[c*src.h*src.w:]
			out := dst[c*h*w:]
			for r := range h {
				copy(out[r*w:(r+1)*w], in[(y0+r)*src.w+x0:])
			}
		}
		return nil
	case ResizeCrop:
		k := math.Max(float64(h)/float64(src.h), float64(w)/float64(src.w))
		nh = max(h, int(math.Round(float64(src.h)*k)))
		nw = max(w, int(math.Round(float64(src.w)*k)))
		y0, x0 = (nh-h)/2, (nw-w)/2
	}
	if key := [4]int{src.h, src.w, nh, nw}; key != s.key {
		s.wy = resampleWeights(src.h, nh, y0, h)
		s.wx = resampleWeights(src.w, nw, x0, w)
		s.key = key
	}
	s.tmp = grow(s.tmp, src.h*w)
	for c := range src.c {
		in := src.pix[c*src.h*src.w : (c+1)*src.h*src.w]
		// Horizontal pass: src.h rows of w.
		for r := range src.h {
			row := in[r*src.w : (r+1)*src.w]
			out := s.tmp[r*w : (r+1)*w]
			for x := range w {
				a, ws := s.wx.start[x], s.wx.w[x]
				v := 0.0
				for k, wk := range ws {
					v += wk * row[a+k]
				}
				out[x] = v
			}
		}
		// Vertical pass: h rows of w.
		out := dst[c*h*w : (c+1)*h*w]
		for y := range h {
			a, ws := s.wy.start[y], s.wy.w[y]
			o := out[y*w : (y+1)*w]
			clear(o)
			for k, wk := range ws {
				t := s.tmp[(a+k)*w : (a+k+1)*w]
				for x := range o {
					o[x] += wk * t[x]
				}
			}
		}
	}
	return nil
}

// grow returns b with length n, reusing its storage when it can.
func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}
