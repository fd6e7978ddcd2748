#!/usr/bin/env bash
# setup.sh: prepare gotch (github.com/sugarme/gotch) for the libtorch on this
# machine, so that the torch-tagged code builds:
#
#	scripts/torch/setup.sh
#	GOWORK=$PWD/.cache/torch/go.work go test -tags torch ./torch/...
#
# or, equivalently, eval "$(scripts/torch/setup.sh)" and then go test
# -tags torch ./torch/... (it prints the environment to use on stdout;
# everything else goes to stderr). The same lines are in .cache/torch/env.sh.
#
# What it does, once per gotch version and libtorch build (later runs find
# the result in the cache and take a second):
#  1. finds libtorch: Debian's libtorch-dev (CPU), or the torch of python3
#     (e.g. a pip CUDA wheel), or EBM_LIBTORCH=/path/to/libtorch;
#  2. copies gotch's module source from the Go module cache into the cache
#     directory (EBM_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/ebm);
#  3. builds gotch's C++ wrapper (libtch/torch_api.cpp) as one shared
#     library, libgotch.so, against that libtorch, replacing each generated
#     atg_* wrapper the compiler rejects with one that throws
#     std::runtime_error (same C signature, so Go code that calls it gets an
#     error, and nothing an EBM uses is affected); ebm's c10d shim
#     (ebm_dist.cpp: TCPStore, Gloo, and NCCL on a CUDA libtorch) goes into
#     the same library;
#  4. rewrites the copy's libtch/lib.go to link only that library (no
#     CUDA libraries on a CPU libtorch, rpath set, no C++ compiled by cgo)
#     and adds small wrappers for at_manual_seed and at_set_num_threads,
#     and the Go side of the c10d shim (ebm_dist.go.txt);
#  5. writes .cache/torch/go.work, a workspace that uses this module and
#     replaces gotch with the prepared copy. The committed go.mod is not
#     touched, and no third-party source enters the repository.
#
# Needs: Go, g++, awk and a libtorch (apt-get install -y
# --no-install-recommends libtorch-dev libgloo-dev g++; without libgloo-dev
# package torch/dist has no Gloo backend). Cold: ~1.5 min of g++ here;
# the first `go test -tags torch` then compiles gotch's cgo package (~1.5
# min, 2.5 GB RAM). Set EBM_TORCH_FORCE=1 to rebuild.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

command -v go >/dev/null || die "Go is not on PATH"
command -v g++ >/dev/null || die "g++ is missing: apt-get install -y --no-install-recommends g++"

gotch_module=github.com/sugarme/gotch
gotch_version=$(cd "$repo" && GOWORK=off go list -m -f '{{.Version}}' "$gotch_module" 2>/dev/null) ||
	die "go.mod does not require $gotch_module"

detect_torch

cache=${EBM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ebm}
# Two cache entries: the C++ library (keyed by gotch, the libtorch build and
# the scripts that build it) and the patched Go module (keyed by the library
# and this script, which writes the patches).
libkey=$({
	echo "$gotch_version"
	torch_fingerprint
	cat "$here/common.sh" "$here/stub.awk" "$here/ebm_extra.cpp" "$here/ebm_dist.cpp"
	ls /usr/include/gloo/algorithm.h 2>/dev/null || true
} | sha256sum | cut -c1-12)
libdir=$cache/libtch-$gotch_version-torch$TORCH_VERSION-$TORCH_KIND-$libkey
modkey=$({
	echo "$libdir"
	cat "$here/setup.sh" "$here/ebm_extra.go.txt" "$here/ebm_dist.go.txt"
} | sha256sum | cut -c1-12)
dir=$cache/gotch-$gotch_version-torch$TORCH_VERSION-$TORCH_KIND-$modkey

gotch_source() {
	local src
	src=$(cd "$repo" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$gotch_module@$gotch_version" |
		awk -F'"' '/"Dir":/ {print $4}')
	[ -d "$src/libtch" ] || die "go mod download $gotch_module@$gotch_version gave no source directory"
	echo "$src"
}

if [ -f "$libdir/.done" ] && [ -z "${EBM_TORCH_FORCE:-}" ]; then
	log "libgotch.so for libtorch $TORCH_VERSION ($TORCH_KIND) is cached in $libdir"
else
	src=$(gotch_source)
	rm -rf "$libdir" "$dir"
	mkdir -p "$libdir"
	build_libtch "$src/libtch" "$libdir"
	{
		echo "gotch $gotch_version"
		torch_fingerprint
		echo "include: $TORCH_INCLUDES"
		echo "libs: $TORCH_LIBS"
	} >"$libdir/torch.txt"
	touch "$libdir/.done"
fi

if [ -f "$dir/.done" ] && [ -z "${EBM_TORCH_FORCE:-}" ]; then
	log "gotch $gotch_version for libtorch $TORCH_VERSION ($TORCH_KIND) is ready in $dir"
else
	src=$(gotch_source)
	rm -rf "$dir"
	# The Go module, without its examples and code generator (90 MB).
	mkdir -p "$dir/gotch"
	(cd "$src" && tar --exclude=./example --exclude=./gen -cf - .) | (cd "$dir/gotch" && tar -xf -)
	chmod -R u+w "$dir/gotch"
	# cgo must compile no C++: the wrapper lives in libgotch.so.
	rm -f "$dir/gotch/libtch/torch_api.cpp"
	# A comment directly above a #cgo line would break the preamble, so the
	# comment goes above the package clause.
	cat >"$dir/gotch/libtch/lib.go" <<EOF
// Rewritten by ebm's scripts/torch/setup.sh for libtorch $TORCH_VERSION ($TORCH_KIND):
// the C++ wrapper is prebuilt as $libdir/lib/libgotch.so.

package libtch

// #cgo CFLAGS: -I\${SRCDIR} -O2 -Wno-deprecated-declarations
// #cgo LDFLAGS: -L$libdir/lib -lgotch -Wl,-rpath,$libdir/lib
import "C"
EOF
	cp "$here/ebm_extra.go.txt" "$dir/gotch/libtch/ebm_extra.go"
	cp "$here/ebm_dist.go.txt" "$dir/gotch/libtch/ebm_dist.go"
	touch "$dir/.done"
fi

# Per-checkout files: a workspace that swaps in the prepared gotch.
work=$repo/.cache/torch
mkdir -p "$work"
goversion=$(awk '$1 == "go" {print $2; exit}' "$repo/go.mod")
cat >"$work/go.work.tmp" <<EOF
// Written by scripts/torch/setup.sh; do not edit. Use with GOWORK=$work/go.work.
go $goversion

use $repo

replace $gotch_module $gotch_version => $dir/gotch
EOF
mv "$work/go.work.tmp" "$work/go.work"
cat >"$work/env.sh" <<EOF
export GOWORK=$work/go.work
export CGO_ENABLED=1
export OMP_WAIT_POLICY=\${OMP_WAIT_POLICY:-PASSIVE}
EOF
log "ready: libtorch $TORCH_VERSION ($TORCH_KIND), $(wc -l <"$libdir/stubbed.txt") unavailable wrappers stubbed, c10d backends: $(cat "$libdir/dist.txt" 2>/dev/null || echo none)"
log "run: GOWORK=$work/go.work go test -tags torch ./torch/..."
cat "$work/env.sh"
