//go:build !linux

package main

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; the harness
// still stops its servers on a normal exit, SIGINT and SIGTERM.
func sysProcAttr() *syscall.SysProcAttr { return nil }
