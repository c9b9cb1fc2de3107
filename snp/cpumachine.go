package snp

// Machine on the real processor: the privileged instructions the platform
// drives. Trap and boot context: //go:nosplit, no allocation.

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// msrGHCB is the GHCB MSR (GHCB spec section 2.3.1); RDMSR and WRMSR of
// it never exit to the hypervisor.
const msrGHCB = 0xC001_0130

// Page-table entry bits (AMD APM vol. 2, 5.3.3 "4-Kbyte Page
// Translation" and 5.3.4 "2-Mbyte Page Translation"): present, page size,
// and the physical-address field, bits 51:12.
const (
	ptePresent = 1 << 0
	pteHuge    = 1 << 7
	pteAddr    = 0x000f_ffff_ffff_f000
	pageSize   = 4096
)

// CPUMachine is Machine on the processor. CBit is the page-table
// encryption bit (Status.CBitMask).
type CPUMachine struct {
	CBit uint64
}

//go:nosplit
func (m *CPUMachine) ReadGHCBMSR() uint64 { return cpu.Rdmsr(msrGHCB) }

//go:nosplit
func (m *CPUMachine) WriteGHCBMSR(v uint64) { cpu.Wrmsr(msrGHCB, v) }

//go:nosplit
func (m *CPUMachine) VMGEXIT() { cpu.Vmgexit() }

//go:nosplit
func (m *CPUMachine) PValidate(va uintptr, huge, validate bool) (uint32, bool) {
	return cpu.Pvalidate(va, huge, validate)
}

// Translate walks the page tables in CR3 (AMD APM vol. 2, 5.3 "Long-Mode
// Page Translation"), 1 GiB and 2 MiB pages included. Physical addresses
// beyond the direct map are reported unmapped: the kernel cannot read
// tables there.
//
//go:nosplit
func (m *CPUMachine) Translate(va uint64) (pa uint64, private, ok bool) {
	addr := pteAddr &^ m.CBit
	table := uint64(cpu.Rcr3()) & addr
	for level := 3; level >= 0; level-- {
		if table >= uint64(cpu.DirectMapSize) {
			return 0, false, false
		}
		shift := uint(12 + 9*level)
		e := *cpu.Ptr64(cpu.Virt(uintptr(table)) + uintptr(va>>shift&511)*8)
		if e&ptePresent == 0 {
			return 0, false, false
		}
		if level == 0 || level <= 2 && e&pteHuge != 0 {
			size := uint64(1) << shift
			return e&addr&^(size-1) | va&(size-1), e&m.CBit != 0, true
		}
		table = e & addr
	}
	return 0, false, false
}

// Fetch reads instruction bytes through Translate and the direct map.
//
//go:nosplit
func (m *CPUMachine) Fetch(va uint64, buf []byte) int {
	n := 0
	for n < len(buf) {
		pa, _, ok := m.Translate(va + uint64(n))
		if !ok || pa >= uint64(cpu.DirectMapSize) {
			break
		}
		page := cpu.Bytes(cpu.Virt(uintptr(pa)), uintptr(pageSize-pa%pageSize))
		n += copy(buf[n:], page)
	}
	return n
}

// GuestTSCFreq reads GUEST_TSC_FREQ. Under Secure TSC the processor
// answers it; should the hypervisor intercept it anyway, the #VC handler
// refuses the read and terminates the guest.
//
//go:nosplit
func (m *CPUMachine) GuestTSCFreq() uint64 { return cpu.Rdmsr(MSRGuestTSCFreq) }

// XState reports CR4.OSXSAVE (bit 18) and XCR0.
//
//go:nosplit
func (m *CPUMachine) XState() (bool, uint64) {
	if cpu.Rcr4()&(1<<18) == 0 {
		return false, 0
	}
	return true, cpu.Xgetbv0()
}
