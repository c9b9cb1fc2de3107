package mem

import "sync/atomic"

// kernelShort is the machine's MemoryShort (kernel.MemoryShort), set at
// boot; nil on the host, where the kernel's memory never runs short.
var kernelShort atomic.Pointer[func() bool]

// SetKernelShort installs the machine's test for kernel memory running
// short.
func SetKernelShort(f func() bool) { kernelShort.Store(&f) }

// KernelShort reports whether the kernel must refuse to allocate memory
// for an application: a pipe's buffer, queued socket data, an open file,
// a timer, a mapping. The caller fails the call as Linux fails one whose
// kernel allocation fails (ENOMEM, ENOBUFS, EAGAIN, ENFILE), so an
// application that runs the kernel's memory out gets an error and the
// kernel lives.
func KernelShort() bool {
	f := kernelShort.Load()
	return f != nil && (*f)()
}
