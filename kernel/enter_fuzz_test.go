//go:build cocoonfuzz

package kernel

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// enterSyscall, in fuzzing builds (make fuzz passes -tags cocoonfuzz),
// serves the runtime's system calls through dispatch and leaves the
// private ones (user mode's address-space services) out, so that the
// test binary does not link their call chain into the page tables: the
// fuzzing instrumentation grows its frames past the nosplit stack limit
// the linker enforces (handleSyscall → privateSyscall → memSyscall →
// spaceFill → walkIn → pmem.Alloc was 88 bytes over), while the kernel
// itself is built without instrumentation and checked in full.
func enterSyscall(f *cpu.Frame) {
	r := dispatch(f)
	if r != blocked {
		f.RAX = uint64(r)
	}
}
