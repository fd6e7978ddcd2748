// Package cputime reads the CPU time the process has used (user plus system,
// all threads, from getrusage), for programs and benchmarks that report CPU
// seconds next to wall-clock time: on a shared machine CPU time is the
// steadier measure of work.
package cputime
