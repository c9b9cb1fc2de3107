package kernel

import "unsafe"

// addrOf returns the address of a kernel global as a number.
// unsafe: the globals are in the kernel image and never move.
//
//go:nosplit
func addrOf(p *byte) uintptr { return uintptr(unsafe.Pointer(p)) }

// ptrOf converts a kernel global's pointer for addrOf.
//
//go:nosplit
func ptrOf(k *kfile) unsafe.Pointer { return unsafe.Pointer(k) }

// ptrAt turns an address the trap layer received as a number (an object
// the calling goroutine keeps alive) back into a pointer.
// unsafe: the object is a live Go heap object pinned by its caller.
//
//go:nosplit
func ptrAt(p uintptr) unsafe.Pointer { return unsafe.Add(nil, p) }
