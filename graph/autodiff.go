package graph

import (
	"fmt"

	"github.com/ebmgo/ebm/internal/ops"
	G "gorgonia.org/gorgonia"
)

// backprop returns the gradient of Σₖ ⟨seeds[k], outs[k]⟩ with respect to
// each node of wrt, built symbolically from the ops' own derivatives. It
// is reverse-mode differentiation like Gorgonia's Backpropagate, except
// that it can run again over nodes it has already differentiated, and
// over the nodes an earlier call built: that is what a loss containing
// ∇x f, or a Hessian–vector product ∇x(vᵀ∇x f), needs. Gorgonia's
// Backpropagate caches one derivative per node and so differentiates a
// graph once.
//
// wrt may hold any nodes of the graph, not only inputs. A wrt node the
// outputs do not depend on gets a nil gradient. Ops of package ops are
// asked only for the derivatives that lead to wrt; an op on the path that
// cannot be differentiated is an error naming it.
func backprop(outs, seeds, wrt G.Nodes) (G.Nodes, error) {
	order := topo(outs)
	want := make(map[*G.Node]bool, len(wrt))
	for _, n := range wrt {
		want[n] = true
	}
	// live: the node depends differentiably on some wrt node.
	live := make(map[*G.Node]bool, len(order))
	for _, n := range order {
		if want[n] {
			live[n] = true
			continue
		}
		kids := children(n)
		if n.Op() == nil || len(kids) == 0 {
			continue
		}
		d := diffWRT(n, len(kids))
		for j, c := range kids {
			if live[c] && (d == nil || d[j]) {
				live[n] = true
				break
			}
		}
	}
	grads := make(map[*G.Node]G.Nodes, len(order))
	for i, o := range outs {
		grads[o] = append(grads[o], seeds[i])
	}
	total := make(map[*G.Node]*G.Node, len(wrt))
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if !live[n] || len(grads[n]) == 0 {
			continue
		}
		g, err := sum(grads[n])
		if err != nil {
			return nil, fmt.Errorf("summing the gradients of %v: %w", n, err)
		}
		if want[n] {
			total[n] = g
			continue
		}
		kids := children(n)
		d := diffWRT(n, len(kids))
		if d == nil {
			return nil, fmt.Errorf("op %v (node %v) cannot be differentiated", n.Op(), n.Name())
		}
		need := make([]bool, len(kids))
		some := false
		for j, c := range kids {
			need[j] = d[j] && live[c]
			some = some || need[j]
		}
		if !some {
			continue
		}
		var cg G.Nodes
		if pd, ok := n.Op().(ops.PartialDiffer); ok {
			cg, err = pd.DiffSome(kids, n, g, need)
		} else {
			cg, err = n.Op().(G.SDOp).SymDiff(kids, n, g)
		}
		if err != nil {
			return nil, fmt.Errorf("differentiating %v: %w", n.Op(), err)
		}
		for j, c := range kids {
			if need[j] {
				if cg[j] == nil {
					return nil, fmt.Errorf("op %v gave no derivative for its input %d", n.Op(), j)
				}
				grads[c] = append(grads[c], cg[j])
			}
		}
	}
	out := make(G.Nodes, len(wrt))
	for i, n := range wrt {
		out[i] = total[n]
	}
	return out, nil
}

// diffWRT returns which inputs n's op is differentiable in, or nil if
// the op declares no derivatives.
func diffWRT(n *G.Node, arity int) []bool {
	sd, ok := n.Op().(G.SDOp)
	if !ok {
		return nil
	}
	return sd.DiffWRT(arity)
}

func sum(ns G.Nodes) (*G.Node, error) {
	s := ns[0]
	for _, n := range ns[1:] {
		var err error
		if s, err = G.Add(s, n); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// children returns n's inputs in order.
func children(n *G.Node) G.Nodes {
	it := n.Graph().From(n.ID())
	var out G.Nodes
	for it.Next() {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}

// topo returns the nodes outs depend on, each after all of its inputs.
func topo(outs G.Nodes) []*G.Node {
	seen := map[*G.Node]bool{}
	var order []*G.Node
	var visit func(n *G.Node)
	visit = func(n *G.Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, c := range children(n) {
			visit(c)
		}
		order = append(order, n)
	}
	for _, o := range outs {
		visit(o)
	}
	return order
}
