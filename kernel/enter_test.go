//go:build !cocoonfuzz

package kernel

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// enterSyscall makes a system call the way the trap path does.
func enterSyscall(f *cpu.Frame) { handleSyscall(f) }
