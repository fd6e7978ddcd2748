#!/usr/bin/env bash
# opcount.sh: what one operation of a workload asks of libtorch, on each
# side: PyTorch (benchmarks/pytorch/bench.py), the C++ floor (floor.cpp) and
# ebm's libtorch backend (the NAME@torch workload of benchmarks/cmd/compare).
#
#	benchmarks/libtorch/opcount.sh langevin/cnn [SECONDS]
#	OPS=1 benchmarks/libtorch/opcount.sh train/cnn      also list the operators
#
# Each side runs under libopcount.so (opcount.cpp) on one thread for
# SECONDS (default 2), and its totals are divided by the number of
# operations it ran, counted by the backward passes through the network's
# SiLU layers (one per Langevin step; 61 per train/cnn iteration: 60 steps
# and the update), which every side runs alike. Printed per operation:
# operator calls (as libtorch's profiler records them, nested ones
# included), tensor allocations by the CPU allocator, and bytes allocated.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || {
	echo "usage: opcount.sh WORKLOAD [SECONDS]" >&2
	exit 2
}
w=$1 secs=${2:-2}
case $w in
langevin/cnn) silu=5 per=1 ;;
train/cnn) silu=5 per=61 ;;
langevin/mlp784 | langevin/toy2d) silu=2 per=1 ;;
*)
	echo "opcount.sh: unknown workload $w" >&2
	exit 2
	;;
esac

out=$("$here/run.sh" --build)
[ -f "$repo/.cache/torch/env.sh" ] || "$repo/scripts/torch/setup.sh" >/dev/null
# shellcheck disable=SC1091
source "$repo/.cache/torch/env.sh"
(cd "$repo" && go build -tags torch -o "$out/compare" ./benchmarks/cmd/compare)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
count() { # count NAME COMMAND...
	local name=$1
	shift
	EBM_OPCOUNT=$tmp/$name.txt LD_PRELOAD=$out/libopcount.so "$@" >/dev/null
	sleep 0.3 # the counter writes its file every 200 ms
	awk -v name="$name" -v silu="$silu" -v per="$per" -v list="${OPS:-}" '
		NR == 1 { calls = $1 } NR == 2 { allocs = $1 } NR == 3 { bytes = $1 }
		/evaluate_function: SiluBackward0$/ { ops = $1 / silu / per }
		NR > 3 { n = $1; $1 = ""; c[substr($0, 2)] = n }
		END {
			if (!ops) { print name ": no backward pass counted" > "/dev/stderr"; exit 1 }
			printf "%-8s %8.0f operator calls %6.0f allocations %8.1f MB per operation (%.0f operations)\n",
				name, calls / ops, allocs / ops, bytes / ops / 1e6, ops
			if (list) for (k in c) if (c[k] / ops >= 0.5) printf "    %7.1f %s\n", c[k] / ops, k | "sort -rn"
			close("sort -rn")
		}' "$tmp/$name.txt"
}
count pytorch /usr/bin/python3 "$repo/benchmarks/pytorch/bench.py" "$w" --seconds "$secs" --threads 1
count floor "$out/floor" "$w" --seconds "$secs" --threads 1
count ebm "$out/compare" -worker "$w@torch" -seconds "$secs"
