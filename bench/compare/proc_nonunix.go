//go:build !unix

package main

import (
	"errors"
	"os"
)

// Pausing needs SIGSTOP; outside Unix the idle server keeps running.
var (
	sigStop os.Signal = nil
	sigCont os.Signal = nil
	sigTerm os.Signal = os.Kill
)

// signalProcess sends sig to p; nil (pause and resume) is a no-op.
func signalProcess(p *os.Process, sig os.Signal) error {
	if sig == nil {
		return nil
	}
	if p == nil {
		return errors.New("no process")
	}
	return p.Signal(sig)
}
