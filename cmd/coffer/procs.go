package main

import (
	"fmt"
	"runtime"
	"strconv"
)

// procsPerCPU is how many Go scheduler slots (GOMAXPROCS) the server runs
// per CPU available to it by default.
//
// Shard writes (O_DIRECT) and shard reads are blocking system calls. A
// goroutine in one keeps its scheduler slot until the runtime's monitor
// takes the slot back, which can be milliseconds later; with one slot per
// CPU, both slots of a 2-CPU machine were often held that way while
// hashing and encoding goroutines waited, and about a third of the CPU
// time of a 64 MiB PUT load went idle waiting for I/O. Four slots per CPU
// keep the CPUs busy: 64 MiB PUT 6.8 → 9.6 ops/s, 4 KiB GET +25 %, no
// workload's throughput lower; 1 MiB GET p99 rose from 13.5 to 20 ms under
// 16 clients (docs/benchmarks.md, "Scheduler slots"). Measured on 2 CPUs
// only; --procs tunes it elsewhere.
//
// Setting GOMAXPROCS turns off the Go runtime's own updates of it when the
// container's CPU limit changes: restart the server after such a change.
const procsPerCPU = 4

// startCPUs is the Go runtime's own GOMAXPROCS at process start (the CPUs
// the process may use, container limits included), read before the server
// changes it, so that resolving the default twice never compounds it.
var startCPUs = runtime.GOMAXPROCS(0)

// maxProcs is the largest GOMAXPROCS the Go runtime accepts.
const maxProcs = 1024

// resolveProcs returns the GOMAXPROCS the server should set, or 0 to leave
// the Go runtime's own choice. flagValue is --procs (COFFER_PROCS): a
// positive value is used as is, 0 means the default. The default is
// procsPerCPU × cpus, where cpus is the runtime's default GOMAXPROCS (the
// CPUs the process may use, container limits included), unless the
// operator set GOMAXPROCS in the environment, which is then respected.
func resolveProcs(flagValue int64, getenv func(string) string, cpus int) (int, error) {
	switch {
	case flagValue < 0 || flagValue > maxProcs:
		return 0, fmt.Errorf("--procs %d: want 0 (automatic) or a count up to %d", flagValue, maxProcs)
	case flagValue > 0:
		return int(flagValue), nil
	}
	if v := getenv("GOMAXPROCS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return 0, nil // the runtime already applied it
		}
	}
	return min(procsPerCPU*max(cpus, 1), maxProcs), nil
}
