package cpu

import "unsafe"

// Ptr64 returns a pointer to the 64-bit word at virtual address addr.
// unsafe: kernel code addresses page tables, MMIO and the direct map by
// number; the memory is not Go-managed.
//
//go:nosplit
func Ptr64(addr uintptr) *uint64 { return (*uint64)(unsafe.Add(nil, addr)) }

// Ptr32 is Ptr64 for a 32-bit word.
//
//go:nosplit
func Ptr32(addr uintptr) *uint32 { return (*uint32)(unsafe.Add(nil, addr)) }

// Ptr16 is Ptr64 for a 16-bit word.
//
//go:nosplit
func Ptr16(addr uintptr) *uint16 { return (*uint16)(unsafe.Add(nil, addr)) }

// Ptr8 is Ptr64 for a byte.
//
//go:nosplit
func Ptr8(addr uintptr) *uint8 { return (*uint8)(unsafe.Add(nil, addr)) }

// Bytes returns the n bytes at virtual address addr as a slice.
// unsafe: as for Ptr64.
//
//go:nosplit
func Bytes(addr, n uintptr) []byte { return unsafe.Slice((*byte)(unsafe.Add(nil, addr)), n) }

// CPUID feature bits (AMD APM vol. 3, appendix E; Intel SDM vol. 2A CPUID).
//
//go:nosplit
func HasRDRAND() bool {
	_, _, c, _ := Cpuid(1, 0)
	return c&(1<<30) != 0
}

//go:nosplit
func HasRDSEED() bool {
	_, b, _, _ := Cpuid(7, 0)
	return b&(1<<18) != 0
}

//go:nosplit
func HasXSAVE() bool {
	_, _, c, _ := Cpuid(1, 0)
	return c&(1<<26) != 0
}
