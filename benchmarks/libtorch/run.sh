#!/usr/bin/env bash
# run.sh: build the C++ floor of ebm's libtorch backend (floor.cpp) and the
# operator counter (opcount.cpp) against the libtorch that
# scripts/torch/setup.sh finds, then run the floor's workloads:
#
#	benchmarks/libtorch/run.sh                          all workloads, 3 s each
#	benchmarks/libtorch/run.sh langevin/cnn train/cnn   some
#	SECONDS_PER=5 THREADS=1 benchmarks/libtorch/run.sh
#	benchmarks/libtorch/run.sh --build                  only build; print the directory
#
# Each workload prints one JSON line in the format of
# benchmarks/pytorch/bench.py. The binaries go to .cache/torch/floor (about a
# minute of g++ the first time). To count the operators and allocations of
# any libtorch process (Go, Python or the floor):
#
#	EBM_OPCOUNT=/tmp/ops.txt LD_PRELOAD=$PWD/.cache/torch/floor/libopcount.so PROGRAM ...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/torch/common.sh
source "$repo/scripts/torch/common.sh"
command -v g++ >/dev/null || die "g++ is missing: apt-get install -y --no-install-recommends g++"
detect_torch

out=$repo/.cache/torch/floor
mkdir -p "$out"
flags="-std=$TORCH_CXX_STD -O2 -w -D_GLIBCXX_USE_CXX11_ABI=$TORCH_ABI"
build() { # build SOURCE OUTPUT EXTRA-FLAGS...
	local src=$1 bin=$2
	shift 2
	if [ ! -e "$bin" ] || [ "$src" -nt "$bin" ]; then
		log "compiling $(basename "$src") against libtorch $TORCH_VERSION ($TORCH_KIND)"
		# shellcheck disable=SC2086
		g++ $flags "$@" $TORCH_INCLUDES "$src" -o "$bin.tmp" -L"$TORCH_LIBDIR" -Wl,-rpath,"$TORCH_LIBDIR" \
			-Wl,--no-as-needed $TORCH_LIBS -Wl,--as-needed
		mv "$bin.tmp" "$bin"
	fi
}
build "$here/floor.cpp" "$out/floor"
build "$here/opcount.cpp" "$out/libopcount.so" -shared -fPIC

if [ "${1:-}" = "--build" ]; then
	echo "$out"
	exit 0
fi
[ $# -gt 0 ] || set -- langevin/toy2d langevin/mlp784 langevin/cnn train/cnn
threads=${THREADS:-$(nproc)}
for w in "$@"; do
	OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} OMP_NUM_THREADS=$threads \
		"$out/floor" "$w" --seconds "${SECONDS_PER:-3}" --threads "$threads"
done
