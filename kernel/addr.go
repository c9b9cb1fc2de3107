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
