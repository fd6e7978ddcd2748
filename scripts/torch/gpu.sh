#!/usr/bin/env bash
# gpu.sh: run the torch tests and benchmarks on a GPU machine that has a
# CUDA build of torch in python3 (pip wheel: headers and libraries under
# site-packages/torch) and g++, but no Go toolchain.
#
# The Go side is built here, the C++ side there:
#
#   here:   scripts/torch/gpu.sh pack
#           builds the torch test binary (tests + benchmarks) against this
#           machine's libgotch.so (Debian's CPU libtorch, via setup.sh) and
#           puts it, with gotch's C++ wrapper sources, in .cache/torch/gpu
#           (about 15 MB, git-ignored). The binary's only torch dependency
#           is libgotch.so, whose C API is the same for every libtorch.
#
#   there:  scripts/torch/gpu.sh run [test binary flags]
#           (in a copy of this repository with .cache/torch/gpu carried
#           along) builds libgotch.so against the python3 torch, with the
#           same stub pass as setup.sh, then runs the tests on CUDA
#           (EBM_TORCH_DEVICE=cuda) and the benchmarks, with LD_LIBRARY_PATH
#           pointing at that library. Output, with the libtorch build and
#           the benchmark lines, goes to stdout and to $OUT (if set).
#
# Default flags: -test.v -test.count=1 -test.bench=. -test.benchtime=20x.
# Give others to choose, e.g. run -test.run=Matches -test.bench=CNN.
# Environment: PYTHON (default python3), TORCH_JOBS (parallel compile
# units, default the CPU count), EBM_LIBTORCH (see common.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
pack=$repo/.cache/torch/gpu
# shellcheck source=common.sh
source "$here/common.sh"

cmd=${1:-}
[ $# -gt 0 ] && shift

case $cmd in
pack)
	command -v go >/dev/null || die "pack needs Go: run it on the development machine"
	eval "$("$here/setup.sh")"
	rm -rf "$pack"
	mkdir -p "$pack/libtch-src"
	log "building the torch test binary"
	(cd "$repo" && go test -c -tags torch -trimpath -ldflags='-s -w -extldflags=-Wl,--enable-new-dtags' -o "$pack/torch.test" ./torch)
	# The binary must need libgotch.so and nothing else from torch.
	needed=$(readelf -d "$pack/torch.test" | awk '/NEEDED/ {print $5}' | tr -d '[]' | tr '\n' ' ')
	case " $needed " in
	*" libgotch.so "*) ;;
	*) die "torch.test does not link libgotch.so (NEEDED: $needed)" ;;
	esac
	if printf '%s\n' $needed | grep -Eq '^lib(torch|c10)'; then
		die "torch.test links libtorch directly (NEEDED: $needed): it would not run against another libtorch"
	fi
	gotch_version=$(cd "$repo" && GOWORK=off go list -m -f '{{.Version}}' github.com/sugarme/gotch)
	src=$(cd "$repo" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "github.com/sugarme/gotch@$gotch_version" |
		awk -F'"' '/"Dir":/ {print $4}')
	cp "$src"/libtch/torch_api.cpp "$src"/libtch/*.h "$pack/libtch-src/"
	chmod -R u+w "$pack"
	echo "$gotch_version" >"$pack/gotch-version"
	log "packed $(du -sh "$pack" | cut -f1) in $pack (NEEDED: $needed)"
	log "on the GPU machine, with .cache/torch/gpu carried along: bash scripts/torch/gpu.sh run"
	;;
run)
	[ -x "$pack/torch.test" ] || die "$pack/torch.test is missing: run 'scripts/torch/gpu.sh pack' on the Go machine and carry .cache/torch/gpu"
	export EBM_LIBTORCH=${EBM_LIBTORCH:-python}
	detect_torch
	[ "$TORCH_KIND" = cuda ] || log "warning: libtorch $TORCH_VERSION in $TORCH_LIBDIR has no CUDA"
	build=$pack/build-$TORCH_VERSION-$TORCH_KIND
	if [ ! -f "$build/lib/libgotch.so" ]; then
		build_libtch "$pack/libtch-src" "$build"
	fi
	report=${OUT:-$pack}/torch-gpu.txt
	{
		echo "libtorch $TORCH_VERSION ($TORCH_KIND) in $TORCH_LIBDIR, C++ ABI $TORCH_ABI, $TORCH_CXX_STD"
		echo "gotch $(cat "$pack/gotch-version"), $(wc -l <"$build/stubbed.txt") wrappers stubbed"
		if command -v nvidia-smi >/dev/null; then
			nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
		fi
	} | tee "$report"
	cp "$build/stubbed.txt" "${OUT:-$pack}/stubbed.txt" 2>/dev/null || true
	flags=("$@")
	[ ${#flags[@]} -gt 0 ] || flags=(-test.v -test.count=1 -test.bench=. -test.benchtime=20x)
	# Tests run in the package directory, as go test runs them.
	cd "$repo/torch"
	set +e
	EBM_TORCH_DEVICE=${EBM_TORCH_DEVICE:-cuda} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} \
		LD_LIBRARY_PATH="$build/lib:$TORCH_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$pack/torch.test" "${flags[@]}" 2>&1 | tee -a "$report"
	rc=${PIPESTATUS[0]}
	set -e
	log "tests exited with $rc; report in $report"
	exit "$rc"
	;;
*)
	echo "usage: $0 pack | run [test binary flags]" >&2
	exit 2
	;;
esac
