package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// dataRequestBudget is the memory one data request is assumed to hold at
// most: a PUT's erasure and hashing buffers (about 10 MiB measured, see
// docs/benchmarks.md "Memory under large uploads"); a GET holds about
// 2.3 MiB.
const dataRequestBudget = 10 << 20

// defaultMaxDataRequests sizes the admission limit so that data requests
// may use at most half of the machine's memory, between 16 and 4096; 256
// when the memory size is unknown.
func defaultMaxDataRequests(mem int64) int64 {
	if mem <= 0 {
		return 256
	}
	return min(max(mem/2/dataRequestBudget, 16), 4096)
}

// memTotal returns the machine's memory in bytes from /proc/meminfo, 0
// where that is unavailable (not Linux).
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
