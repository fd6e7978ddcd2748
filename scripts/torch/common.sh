# common.sh: shared by setup.sh (the Go side, on a machine with Go) and
# gpu.sh (the GPU side, on a machine with CUDA torch but no Go). Sourced,
# not run. Needs bash, awk, g++ and, for a pip-installed torch, python3.
#
#   detect_torch   finds the libtorch to build against and sets
#                  TORCH_VERSION (1.13.0), TORCH_KIND (cpu or cuda),
#                  TORCH_LIBDIR, TORCH_INCLUDES (-I flags), TORCH_ABI (0/1),
#                  TORCH_CXX_STD and TORCH_LIBS (-l flags).
#   build_libtch SRC OUT
#                  builds gotch's C++ wrapper (torch_api.cpp and the headers
#                  next to it in SRC) as OUT/lib/libgotch.so against that
#                  libtorch, stubbing the wrappers that do not compile,
#                  with ebm's c10d shim (ebm_dist.cpp, for package
#                  torch/dist) as one more unit.
#
# Which libtorch: $EBM_LIBTORCH if set — "system" (Debian's libtorch-dev),
# "python" (the torch package of ${PYTHON:-python3}, e.g. a pip CUDA wheel)
# or the path of an unpacked libtorch zip (with include/ and lib/). Unset:
# Debian's if /usr/include/torch exists, else python's.

log() { printf 'torch-setup: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

detect_torch() {
	local want=${EBM_LIBTORCH:-} root=
	if [ -z "$want" ]; then
		if [ -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then
			want=system
		else
			want=python
		fi
	fi
	case $want in
	system)
		[ -f /usr/include/torch/csrc/api/include/torch/torch.h ] ||
			die "Debian's libtorch headers are missing: apt-get install -y --no-install-recommends libtorch-dev g++"
		TORCH_INCLUDES="-I/usr/include/torch/csrc/api/include"
		TORCH_LIBDIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
		[ -e "$TORCH_LIBDIR/libtorch.so" ] || die "no libtorch.so in $TORCH_LIBDIR: install libtorch-dev"
		;;
	python)
		local py=${PYTHON:-python3}
		root=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null) ||
			die "no libtorch found: install Debian's libtorch-dev, or torch for $py, or set EBM_LIBTORCH to an unpacked libtorch"
		;;
	*)
		root=$want
		;;
	esac
	if [ -n "$root" ]; then
		[ -f "$root/include/torch/csrc/api/include/torch/torch.h" ] ||
			die "$root has no include/torch/csrc/api/include/torch/torch.h: not a libtorch with C++ headers"
		[ -e "$root/lib/libtorch.so" ] || die "$root/lib/libtorch.so is missing"
		TORCH_INCLUDES="-I$root/include -I$root/include/torch/csrc/api/include"
		TORCH_LIBDIR=$root/lib
	fi
	local vh major minor patch
	for vh in ${TORCH_INCLUDES//-I/}; do
		[ -f "$vh/torch/version.h" ] && break
	done
	[ -f "$vh/torch/version.h" ] || die "torch/version.h not found under $TORCH_INCLUDES"
	major=$(awk '/define TORCH_VERSION_MAJOR/ {print $3}' "$vh/torch/version.h")
	minor=$(awk '/define TORCH_VERSION_MINOR/ {print $3}' "$vh/torch/version.h")
	patch=$(awk '/define TORCH_VERSION_PATCH/ {print $3}' "$vh/torch/version.h")
	TORCH_VERSION=$major.$minor.$patch
	TORCH_LIBS="-ltorch -ltorch_cpu -lc10"
	TORCH_KIND=cpu
	if [ -e "$TORCH_LIBDIR/libtorch_cuda.so" ]; then
		TORCH_KIND=cuda
		TORCH_LIBS="$TORCH_LIBS -ltorch_cuda -lc10_cuda"
	fi
	# libc10 built with the C++11 string ABI exports std::__cxx11 names.
	# (grep -c, not grep -q: an early exit would fail the pipe under pipefail.)
	if [ "$(nm -D --defined-only "$TORCH_LIBDIR/libc10.so" 2>/dev/null | grep -c __cxx11)" -gt 0 ]; then
		TORCH_ABI=1
	else
		TORCH_ABI=0
	fi
	# ATen needs C++20 from torch 2.13 on, C++17 before.
	if [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 13 ]; }; then
		TORCH_CXX_STD=${TORCH_CXX_STD:-c++20}
	else
		TORCH_CXX_STD=${TORCH_CXX_STD:-c++17}
	fi
	export TORCH_VERSION TORCH_KIND TORCH_LIBDIR TORCH_INCLUDES TORCH_ABI TORCH_CXX_STD TORCH_LIBS
}

# torch_fingerprint prints what identifies the detected libtorch build.
torch_fingerprint() {
	printf '%s %s %s abi%s %s %s\n' "$TORCH_VERSION" "$TORCH_KIND" "$TORCH_LIBDIR" "$TORCH_ABI" "$TORCH_CXX_STD" \
		"$(stat -L -c '%s %Y' "$TORCH_LIBDIR/libtorch_cpu.so" 2>/dev/null)"
}

# detect_dist sets DIST_FLAGS and DIST_INCLUDES, the preprocessor flags of
# ebm_dist.cpp: -DUSE_C10D_GLOO when libtorch exports ProcessGroupGloo and
# Gloo's headers are installed (Debian: libgloo-dev), -DUSE_C10D_NCCL when
# a CUDA libtorch exports ProcessGroupNCCL and nccl.h is found (CUDA's
# include directory, or the nvidia-* pip packages beside a pip torch).
detect_dist() {
	DIST_FLAGS= DIST_INCLUDES=
	local d inc found
	# grep -c, not grep -q: an early exit would fail the pipe under pipefail.
	if [ "$(nm -D --defined-only "$TORCH_LIBDIR/libtorch_cpu.so" 2>/dev/null | grep -c ProcessGroupGloo)" -gt 0 ]; then
		found=
		for d in ${TORCH_INCLUDES//-I/} /usr/include /usr/local/include; do
			[ -f "$d/gloo/algorithm.h" ] && found=$d && break
		done
		if [ -n "$found" ]; then
			DIST_FLAGS="-DUSE_C10D_GLOO"
			DIST_INCLUDES="-I$found"
		else
			log "no Gloo headers (gloo/algorithm.h): torch/dist will have no gloo backend; apt-get install -y libgloo-dev and rerun"
		fi
	fi
	if [ "$TORCH_KIND" = cuda ] &&
		[ "$(nm -D --defined-only "$TORCH_LIBDIR/libtorch_cuda.so" 2>/dev/null | grep -c ProcessGroupNCCL)" -gt 0 ]; then
		found=
		for d in ${TORCH_INCLUDES//-I/}; do
			for inc in "$d/../../nvidia"/*/include "$d/../nvidia"/*/include; do
				[ -d "$inc" ] && DIST_INCLUDES="$DIST_INCLUDES -I$inc"
				[ -f "$inc/nccl.h" ] && found=$inc
			done
		done
		for d in "${CUDA_HOME:-/usr/local/cuda}/include" /usr/include; do
			[ -d "$d" ] && DIST_INCLUDES="$DIST_INCLUDES -I$d"
			[ -f "$d/nccl.h" ] && found=$d
		done
		if [ -n "$found" ]; then
			DIST_FLAGS="$DIST_FLAGS -DUSE_C10D_NCCL"
		else
			log "libtorch has NCCL but nccl.h was not found: torch/dist will have no nccl backend"
		fi
	fi
	export DIST_FLAGS DIST_INCLUDES
}

# build_dist_unit OUT FLAGS: compile ebm_dist.cpp into OUT/obj, with the
# backends detect_dist found; should a backend's headers not compile, it
# drops that backend (NCCL first) rather than fail the whole build.
build_dist_unit() {
	local out=$1 flags=$2 here try backends
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	cp "$here/ebm_dist.cpp" "$out/src/ebm_dist.cpp"
	detect_dist
	for try in "$DIST_FLAGS" "${DIST_FLAGS/-DUSE_C10D_NCCL/}" ""; do
		backends=$(echo "$try" | sed 's/-DUSE_C10D_//g' | tr 'A-Z' 'a-z' | xargs)
		backends=${backends:-none}
		log "compiling ebm's c10d shim (ebm_dist.cpp), backends: $backends"
		# shellcheck disable=SC2086
		if g++ $flags -I"$out/src" $TORCH_INCLUDES $DIST_INCLUDES $try -c "$out/src/ebm_dist.cpp" \
			-o "$out/obj/ebm_dist.cpp.o" 2>"$out/obj/ebm_dist.log"; then
			echo "$backends" >"$out/dist.txt"
			return 0
		fi
		log "ebm_dist.cpp failed to compile with backends $backends: $(grep -m 3 error "$out/obj/ebm_dist.log" | tr '\n' ' ')"
		[ -n "$try" ] || break
	done
	die "ebm's c10d shim does not compile against libtorch $TORCH_VERSION (log: $out/obj/ebm_dist.log)"
}

# build_libtch SRC OUT: copy SRC's C++ sources to OUT/src, stub what does not
# compile, build OUT/lib/libgotch.so. Each pass compiles the translation
# units that are not built yet; a failed pass stubs the wrappers its errors
# point at and tries again, until the build succeeds or a pass finds nothing
# left to stub.
#
# With TORCH_JOBS > 1 (default: the number of CPUs when there are at least
# 4) the generated wrappers are split into TORCH_JOBS translation units
# compiled in parallel, each with a copy of torch_api.h that declares
# torch_last_err instead of defining it; on fewer CPUs one unit is faster,
# since every unit parses the torch headers again.
build_libtch() {
	local src=$1 out=$2 here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	rm -rf "$out/src" "$out/lib" "$out/obj" "$out/stubbed.txt"
	mkdir -p "$out/src" "$out/lib" "$out/obj"
	cp "$src"/torch_api.cpp "$src"/*.h "$out/src/"
	cat "$here/ebm_extra.cpp" >>"$out/src/torch_api.cpp"
	: >"$out/stubbed.txt"
	local jobs=${TORCH_JOBS:-}
	if [ -z "$jobs" ]; then
		jobs=$(nproc 2>/dev/null || echo 1)
		[ "$jobs" -ge 4 ] || jobs=1
	fi
	local units=(torch_api.cpp)
	if [ "$jobs" -gt 1 ] && grep -q '^thread_local char \*torch_last_err = nullptr;' "$out/src/torch_api.h"; then
		split_generated "$out/src" "$jobs"
		mapfile -t units < <(cd "$out/src" && ls torch_api.cpp gen_*.cpp)
	fi
	local flags="-std=$TORCH_CXX_STD -fPIC -O${TORCH_OPT:-1} -w -D_GLIBCXX_USE_CXX11_ABI=$TORCH_ABI"
	local pass before after f u failed pids
	# A unit of its own, linked with the others (obj/*.o).
	build_dist_unit "$out" "$flags"
	for pass in 1 2 3 4; do
		log "compiling gotch's C++ wrapper against libtorch $TORCH_VERSION ($TORCH_KIND), pass $pass, ${#units[@]} unit(s)"
		pids=()
		for u in "${units[@]}"; do
			[ -f "$out/obj/$u.o" ] && continue
			# shellcheck disable=SC2086
			g++ $flags -I"$out/src" $TORCH_INCLUDES -c "$out/src/$u" -o "$out/obj/$u.o.tmp" 2>"$out/obj/$u.log" &&
				mv "$out/obj/$u.o.tmp" "$out/obj/$u.o" &
			pids+=($!)
		done
		for u in "${pids[@]}"; do wait "$u" || true; done
		failed=()
		for u in "${units[@]}"; do
			[ -f "$out/obj/$u.o" ] || failed+=("$u")
		done
		if [ ${#failed[@]} -eq 0 ]; then
			# shellcheck disable=SC2086
			g++ -shared -o "$out/lib/libgotch.so" "$out"/obj/*.o -L"$TORCH_LIBDIR" -Wl,-rpath,"$TORCH_LIBDIR" \
				-Wl,--no-as-needed $TORCH_LIBS -Wl,--as-needed 2>"$out/link.log" ||
				die "linking libgotch.so failed: $(head -c 2000 "$out/link.log")"
			log "built $out/lib/libgotch.so ($(wc -l <"$out/stubbed.txt") wrappers stubbed)"
			return 0
		fi
		(cd "$out/obj" && cat "${failed[@]/%/.log}") >"$out/build.log"
		before=$(wc -l <"$out/stubbed.txt")
		for f in "${failed[@]}" torch_api_generated.cpp.h; do
			[ -f "$out/src/$f" ] || continue
			awk -v file="$f" -v torch="$TORCH_VERSION" -v list="$out/stubbed.txt" \
				-f "$here/stub.awk" "$out/build.log" "$out/src/$f" >"$out/src/$f.new"
			mv "$out/src/$f.new" "$out/src/$f"
		done
		after=$(wc -l <"$out/stubbed.txt")
		if [ "$after" -eq "$before" ]; then
			grep -m 20 'error' "$out/build.log" >&2 || tail -n 20 "$out/build.log" >&2
			die "gotch's C++ wrapper does not build against libtorch $TORCH_VERSION and nothing is left to stub (full log: $out/build.log)"
		fi
		log "stubbed $((after - before)) wrappers that libtorch $TORCH_VERSION lacks"
	done
	die "gotch's C++ wrapper still fails after 4 passes (log: $out/build.log)"
}

# split_generated DIR N: move the generated wrappers out of torch_api.cpp
# into N units gen_K.cpp (split between functions), which include
# torch_api_unit.h, a copy of torch_api.h that only declares torch_last_err.
split_generated() {
	local dir=$1 n=$2
	sed 's/^thread_local char \*torch_last_err = nullptr;/extern thread_local char *torch_last_err;/' \
		"$dir/torch_api.h" >"$dir/torch_api_unit.h"
	{
		echo '#include "torch_api_unit.h"'
		grep -E '^#include <(ATen|torch|stdexcept|vector)' "$dir/torch_api.cpp"
		grep '^#include "ATen' "$dir/torch_api.cpp"
		echo 'using namespace std;'
	} >"$dir/unit_prelude.h"
	grep -v '^#include "torch_api_generated.cpp.h"' "$dir/torch_api.cpp" >"$dir/torch_api.cpp.new"
	mv "$dir/torch_api.cpp.new" "$dir/torch_api.cpp"
	awk -v n="$n" -v dir="$dir" '
		{ line[NR] = $0 }
		END {
			per = int(NR / n) + 1; k = 0; count = 0
			out = dir "/gen_0.cpp"; print "#include \"unit_prelude.h\"" > out
			for (i = 1; i <= NR; i++) {
				# Start a new unit at a function that begins after the quota.
				if (count >= per && line[i] ~ /^[a-z].*atg_[A-Za-z0-9_]*\(/ && k < n - 1) {
					close(out); k++; count = 0
					out = dir "/gen_" k ".cpp"; print "#include \"unit_prelude.h\"" > out
				}
				print line[i] > out; count++
			}
			close(out)
		}' "$dir/torch_api_generated.cpp.h"
}
