package bench

import "syscall"

// childAttr makes the kernel send SIGTERM to a child when the harness dies,
// so no server or sandbox outlives an interrupted run.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
