package snp

import "github.com/cocoon-vm/cocoon/snp/ghcbmsr"

// Machine is the privileged interface the platform drives. In the kernel
// it is RDMSR/WRMSR of the GHCB MSR, VMGEXIT, PVALIDATE and walks of the
// current page tables; in tests, snptest.Guest, a fake hypervisor with a
// fake RMP. Implementations called from trap context are //go:nosplit.
type Machine interface {
	ghcbmsr.CPU

	// PValidate executes PVALIDATE (AMD APM vol. 3, "PVALIDATE") on the
	// page at virtual address va, 4 KiB or 2 MiB (huge), setting or
	// clearing its Validated bit. It returns RAX (0 on success) and CF,
	// which is set when the RMP entry was already in the requested state.
	PValidate(va uintptr, huge, validate bool) (ret uint32, unchanged bool)

	// Translate walks the current page tables for va: the physical
	// address, and whether the mapping is private (C-bit set). ok is
	// false when va is not mapped.
	Translate(va uint64) (pa uint64, private, ok bool)

	// Fetch copies the bytes at va into buf, as an instruction fetch
	// would, and returns how many it could read: fewer than len(buf)
	// when a page on the way is not mapped.
	Fetch(va uint64, buf []byte) int

	// GuestTSCFreq reads GUEST_TSC_FREQ (MSRGuestTSCFreq). Called only
	// under Secure TSC, where the processor answers it.
	GuestTSCFreq() uint64

	// XState reports CR4.OSXSAVE and, when set, XCR0 (XGETBV): the
	// dynamic CPUID bits that hardware derives from them.
	XState() (osxsave bool, xcr0 uint64)
}
