//go:build !linux

package bench

import "syscall"

// childAttr: only Linux can tie a child's life to ours; elsewhere the
// harness stops its children itself.
func childAttr() *syscall.SysProcAttr { return nil }
