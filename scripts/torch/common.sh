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
#                  libtorch, stubbing the wrappers that do not compile.
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
