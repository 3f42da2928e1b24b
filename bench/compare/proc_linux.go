package main

import "syscall"

// sysProcAttr puts a server in its own process group, so that a terminal's
// SIGINT reaches only the harness (which then stops the servers in order),
// and has the kernel kill it should the harness die without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
