//go:build torch

package torch

// #cgo LDFLAGS: -ldl
// #define _GNU_SOURCE
// #include <dlfcn.h>
//
// // glibc's mallopt parameters (malloc.h); found at run time, so that a C
// // library without mallopt (or with other numbers) is left alone.
// enum { ebm_M_TRIM_THRESHOLD = -1, ebm_M_TOP_PAD = -2, ebm_M_MMAP_THRESHOLD = -3 };
// static int ebm_malloc_tune(int mmap_threshold, int trim_threshold, int top_pad) {
// 	int (*mo)(int, int) = (int (*)(int, int))dlsym(RTLD_DEFAULT, "mallopt");
// 	if (!dlsym(RTLD_DEFAULT, "gnu_get_libc_version") || !mo) return 0;
// 	return mo(ebm_M_MMAP_THRESHOLD, mmap_threshold) && mo(ebm_M_TRIM_THRESHOLD, trim_threshold) &&
// 		mo(ebm_M_TOP_PAD, top_pad);
// }
import "C"

import "os"

// libtorch allocates every tensor with malloc and frees it as soon as it
// is dead: a Langevin step of the MNIST CNN allocates about 40 MB in ~100
// blocks of up to a few MB, and a training iteration 2.3 GB. glibc's
// malloc adapts its thresholds to the largest block freed so far, and
// with the usual ones it hands the freed top of the heap back to the
// kernel and faults it in again at the next step: measured on the 2-core
// development machine, up to 100,000 page faults and a third of a second
// of system time per training iteration (a fifth of its CPU time), how
// many depending on where the heap happened to end, in PyTorch's own
// process too. The package therefore sets, at its first call: blocks up
// to 32 MiB (the most glibc's adaptation reaches) come from the heap
// (M_MMAP_THRESHOLD), which grows with 64 MiB to spare (M_TOP_PAD) and is
// trimmed only when 128 MiB are free at its top (M_TRIM_THRESHOLD), so
// that what one step frees stays for the next. The process's peak memory
// is unchanged; up to 128 MiB of freed memory per malloc arena stays
// mapped. A program that sets any of malloc's
// environment variables (GLIBC_TUNABLES, MALLOC_ARENA_MAX,
// MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_) keeps
// its own settings.
const (
	mallocMmapThreshold = 32 << 20
	mallocTrimThreshold = 128 << 20
	mallocTopPad        = 64 << 20
)

// tuneMalloc applies the settings above unless the environment chooses.
// It reports whether it changed them.
func tuneMalloc() bool {
	for _, v := range []string{"GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"} {
		if _, ok := os.LookupEnv(v); ok {
			return false
		}
	}
	return C.ebm_malloc_tune(mallocMmapThreshold, mallocTrimThreshold, mallocTopPad) != 0
}
