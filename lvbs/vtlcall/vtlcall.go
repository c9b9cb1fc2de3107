// Package vtlcall is the VTL call ABI between the LVBS VTL0 kernel and a
// VTL1 secure kernel: which registers carry a call's arguments and result,
// the function IDs VTL0 uses, and the boot call that starts the secure
// kernel.
//
// The hypervisor defines only the switch itself (TLFS VSM, "VTL Call" and
// "VTL Return": RCX carries the control input, RAX is reserved, and every
// other general-purpose register is shared between VTLs, "Shared State").
// Everything else is a convention of the LVBS kernels, which this package
// follows to the register: heki-linux/lvbs-linux
// drivers/hv/hv_vsm_boot.c (__hv_vsm_init_vtlcall, hv_vsm_boot_vtl1:
// VTL0's side) and drivers/hv/mshv_vsm_vtl1.c (mshv_vsm_vtl_task,
// mshv_vsm_handle_entry: the Linux secure kernel's side). Every value VTL0
// passes is untrusted.
package vtlcall

import "fmt"

// Regs are the general-purpose registers VTL0 and VTL1 share (TLFS VSM,
// "Shared State": RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8-R15; RSP and RIP
// are private to each VTL). VTL1's entry sequence saves them here on every
// entry and its return sequence loads them back, so VTL0's state is
// preserved except where a call's results go.
type Regs struct {
	Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp    uint64
	R8, R9, R10, R11, R12, R13, R14, R15 uint64
}

// Args are a VTL call's four arguments: a0 in RDI, a1 in RSI, a2 in RDX,
// a3 in R8 (hv_vsm_boot.c __hv_vsm_init_vtlcall loads struct
// vtlcall_param {a0..a3} into RDI, RSI, RDX, R8 and zeroes RCX, the VTL
// call control input; it stores the same four registers back after the
// call and returns (int)a3). A0 is the function ID, except in the boot
// call.
type Args struct{ A0, A1, A2, A3 uint64 }

// FromRegs reads a call's arguments.
func FromRegs(r *Regs) Args { return Args{A0: r.Rdi, A1: r.Rsi, A2: r.Rdx, A3: r.R8} }

// ToRegs writes a call's results where VTL0 reads them.
func (a Args) ToRegs(r *Regs) { r.Rdi, r.Rsi, r.Rdx, r.R8 = a.A0, a.A1, a.A2, a.A3 }

// Function IDs in A0. The LVBS block is drivers/hv/mshv_vsm_vtl1.c's enum
// vsm_service_ids (also drivers/hv/hv_vsm.h on the VTL0 side). An older
// lvbs-linux revision (drivers/hv/hv_vsm_boot.h) numbered the first two
// 0x1FFFD and 0x1FFFC; Cocoon answers the current numbering.
const (
	FuncEnableAPsVtl   = 0x1FFE0 // a1: PFN of VTL0's cpu_present_mask page
	FuncBootAPs        = 0x1FFE1 // a1: PFN of cpu_online_mask, a2: PFN of the boot signal page
	FuncLockRegs       = 0x1FFE2 // pin VTL0's control registers and system MSRs
	FuncEndOfBoot      = 0x1FFE3 // no further boot-time requests
	FuncProtectMemory  = 0x1FFE4 // a1: GPA of a heki_page list, a2: number of ranges
	FuncLoadKData      = 0x1FFE5 // not served by Cocoon
	FuncValidateModule = 0x1FFE6 // not served by Cocoon

	// Cocoon's own services, in a block below LVBS's.
	FuncProtectPages = 0x1FF00 // a1: GPA, a2: page count, a3: MEM_ATTR_* bits
	FuncPinRegister  = 0x1FF01 // a1: register (HV name of CR0/CR4, or an MSR number), a2: bits to pin
	FuncLogInfo      = 0x1FF02 // out a1: log ring GPA, a2: its size in bytes

	// The application channel: function IDs AppFirst..AppLast are
	// delivered to the hosted application (/dev/vtl0). a1: request GPA,
	// a2: request length, a3: reply buffer GPA; out a1: reply length.
	AppFirst = 0x2_0000
	AppLast  = 0x2_FFFF
)

// Name names a function ID for logs.
func Name(id uint64) string {
	switch id {
	case FuncEnableAPsVtl:
		return "ENABLE_APS_VTL"
	case FuncBootAPs:
		return "BOOT_APS"
	case FuncLockRegs:
		return "LOCK_REGS"
	case FuncEndOfBoot:
		return "SIGNAL_END_OF_BOOT"
	case FuncProtectMemory:
		return "PROTECT_MEMORY"
	case FuncLoadKData:
		return "LOAD_KDATA"
	case FuncValidateModule:
		return "VALIDATE_MODULE"
	case FuncProtectPages:
		return "COCOON_PROTECT_PAGES"
	case FuncPinRegister:
		return "COCOON_PIN_REGISTER"
	case FuncLogInfo:
		return "COCOON_LOG_INFO"
	}
	if id >= AppFirst && id <= AppLast {
		return fmt.Sprintf("APP_%#x", id-AppFirst)
	}
	return fmt.Sprintf("function %#x", id)
}

// Status is a call's result in A3: 0 on success, a negative Linux errno
// on failure (mshv_vsm_handle_entry stores its int status in _a3; VTL0
// reads it back as (int)a3).
func Status(errno int) uint64 { return uint64(-int64(errno)) }

// StatusOf reads a result back: VTL0's side.
func StatusOf(a3 uint64) int { return int(int32(uint32(a3))) }

// BootArgs are the boot call's arguments (hv_vsm_boot.c hv_vsm_boot_vtl1):
// the first VTL call into a newly enabled VTL1 starts the secure kernel at
// its initial context with a0 = num_possible_cpus(), a1 = the start of the
// securekernel= reservation, a2 = its end (exclusive), a3 = max_pfn <<
// PAGE_SHIFT, the end of VTL0's RAM. The secure kernel answers in a3 like
// any call.
type BootArgs struct {
	CPUs       uint64
	Start, End uint64
	MaxPhys    uint64
}

// Boot reads the boot call's arguments.
func Boot(a Args) BootArgs { return BootArgs{CPUs: a.A0, Start: a.A1, End: a.A2, MaxPhys: a.A3} }

// Args is the inverse of Boot: VTL0's side.
func (b BootArgs) Args() Args { return Args{A0: b.CPUs, A1: b.Start, A2: b.End, A3: b.MaxPhys} }

// Limits on the boot arguments Cocoon accepts.
const (
	MaxCPUs = 64 // lvbs-linux boots secondary VPs only for CPU IDs <= 63
	// MinSecureSize is the smallest reservation the loader's layout fits
	// in: it writes page tables at page 4084 onwards and maps the first
	// 16 MiB (hv_vsm_boot.h SK_INITIAL_MAP_SIZE).
	MinSecureSize = 16 << 20
	// MaxPhysLimit bounds MaxPhys: 52-bit physical addresses (AMD APM
	// vol. 2, 5.3.1; Intel SDM vol. 3, 4.1.4).
	MaxPhysLimit = 1 << 52
)

// Validate checks boot arguments VTL0 passed: at least one CPU, no more
// than MaxCPUs, a page-aligned reservation of at least MinSecureSize that
// lies within RAM, and a RAM size below 2^52.
func (b BootArgs) Validate() error {
	switch {
	case b.CPUs == 0 || b.CPUs > MaxCPUs:
		return fmt.Errorf("vtlcall: boot call reports %d CPUs, want 1-%d", b.CPUs, MaxCPUs)
	case b.Start%4096 != 0 || b.End%4096 != 0:
		return fmt.Errorf("vtlcall: secure kernel range %#x-%#x is not page-aligned", b.Start, b.End)
	case b.End <= b.Start || b.End-b.Start < MinSecureSize:
		return fmt.Errorf("vtlcall: secure kernel range %#x-%#x is smaller than %d MiB", b.Start, b.End, MinSecureSize>>20)
	case b.MaxPhys > MaxPhysLimit || b.MaxPhys%4096 != 0:
		return fmt.Errorf("vtlcall: end of RAM %#x is unaligned or beyond 2^52", b.MaxPhys)
	case b.End > b.MaxPhys:
		return fmt.Errorf("vtlcall: secure kernel range %#x-%#x ends beyond RAM (%#x)", b.Start, b.End, b.MaxPhys)
	}
	return nil
}

// Linux errno values a status carries (include/uapi/asm-generic/errno-base.h
// and errno.h): the VTL0 kernel reads them as Linux errors.
const (
	EPERM      = 1
	EIO        = 5
	E2BIG      = 7
	EFAULT     = 14
	ENODEV     = 19
	EINVAL     = 22
	ENOSPC     = 28
	EOPNOTSUPP = 95
	ETIMEDOUT  = 110
)
