package mem

import "sync/atomic"

// kernelShort is the machine's MemoryShort (kernel.MemoryShort), set at
// boot; nil on the host, where the kernel's memory never runs short.
var kernelShort atomic.Pointer[func() bool]

// buffersShort is the machine's BuffersShort (kernel.BuffersShort).
var buffersShort atomic.Pointer[func() bool]

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

// SetBuffersShort installs the machine's test for memory running short
// for data buffers.
func SetBuffersShort(f func() bool) { buffersShort.Store(&f) }

// BuffersShort reports whether the kernel must refuse memory for an
// application's data in flight: a pipe's buffer, queued socket data. It
// holds before KernelShort does and before the application's own pages
// run out, so that a program hoarding data in the kernel gets the error
// (ENOMEM, ENOBUFS) rather than others' page faults the out-of-memory
// killer.
func BuffersShort() bool {
	f := buffersShort.Load()
	return f != nil && (*f)()
}

// buffersFit is the machine's BuffersFit (kernel.BuffersFit).
var buffersFit atomic.Pointer[func(int64) bool]

// SetBuffersFit installs the machine's test for a data buffer of a size
// fitting in memory.
func SetBuffersFit(f func(int64) bool) { buffersFit.Store(&f) }

// BuffersFit reports whether a data buffer of n bytes may be taken:
// memory stays above BuffersShort's line with it (a pipe growing to a
// large capacity at once must not take the kernel's reserve).
func BuffersFit(n int64) bool {
	f := buffersFit.Load()
	return f == nil || (*f)(n)
}
