//go:build unix

package main

import (
	"os"
	"syscall"
)

var (
	sigStop os.Signal = syscall.SIGSTOP
	sigCont os.Signal = syscall.SIGCONT
	sigTerm os.Signal = syscall.SIGTERM
)

// signalProcess sends sig to p.
func signalProcess(p *os.Process, sig os.Signal) error { return p.Signal(sig) }
