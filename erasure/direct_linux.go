package erasure

import "syscall"

// oDirect is the open flag for unbuffered (page-cache bypassing) writes.
const oDirect = syscall.O_DIRECT
