package boot

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// bootMain is the first Go code to run: long mode, the boot page tables,
// the boot stack and a dummy TLS. It must not grow the stack or allocate.
//
//go:nosplit
func bootMain(startInfo uintptr) {
	for _, c := range []byte("cocoon: hello\n") {
		cpu.Outb(0x3f8, c)
	}
	cpu.Outb(0xf4, 0)
}
