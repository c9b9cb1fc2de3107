package hv

import "fmt"

// CallCode is a hypercall's call code, bits 15:0 of the hypercall input
// value (TLFS Hypercall Interface, "Hypercall Inputs"). Each code is from
// the hypercall's page under tlfs/hypercalls/.
type CallCode uint16

// Call codes Cocoon uses or answers.
const (
	CallModifyVtlProtectionMask CallCode = 0x000C // rep; HvCallModifyVtlProtectionMask.md
	CallEnablePartitionVtl      CallCode = 0x000D // simple; HvCallEnablePartitionVtl.md
	CallEnableVpVtl             CallCode = 0x000F // simple; HvCallEnableVpVtl.md
	CallVtlCall                 CallCode = 0x0011 // reached through the hypercall page (vsm.md "VTL Call")
	CallVtlReturn               CallCode = 0x0012 // reached through the hypercall page (vsm.md "VTL Return")
	CallGetVpRegisters          CallCode = 0x0050 // rep; HvCallGetVpRegisters.md
	CallSetVpRegisters          CallCode = 0x0051 // rep; HvCallSetVpRegisters.md
)

func (c CallCode) String() string {
	switch c {
	case CallModifyVtlProtectionMask:
		return "HvCallModifyVtlProtectionMask"
	case CallEnablePartitionVtl:
		return "HvCallEnablePartitionVtl"
	case CallEnableVpVtl:
		return "HvCallEnableVpVtl"
	case CallVtlCall:
		return "HvCallVtlCall"
	case CallVtlReturn:
		return "HvCallVtlReturn"
	case CallGetVpRegisters:
		return "HvCallGetVpRegisters"
	case CallSetVpRegisters:
		return "HvCallSetVpRegisters"
	}
	return fmt.Sprintf("hypercall %#04x", uint16(c))
}

// Control is the 64-bit hypercall input value passed in RCX (TLFS
// Hypercall Interface, "Hypercall Inputs"):
//
//	15:0  call code
//	16    fast (register-based calling convention)
//	26:17 variable header size, in qwords
//	31:27 RsvdZ
//	43:32 rep count
//	47:44 RsvdZ
//	59:48 rep start index
//	63:60 RsvdZ
type Control uint64

const (
	ctlFast       = 1 << 16
	ctlVarShift   = 17
	ctlVarMask    = 0x3FF
	ctlCountShift = 32
	ctlStartShift = 48
	// MaxReps is the largest rep count the 12-bit field holds.
	MaxReps     = 0xFFF
	ctlReserved = 0x1F<<27 | 0xF<<44 | 0xF<<60
)

// Simple returns the input value of a simple, memory-based hypercall.
func Simple(code CallCode) Control { return Control(code) }

// Fast returns the input value of a simple hypercall whose input is in
// RDX and R8 (TLFS "Register mapping for hypercall inputs when the Fast
// flag is one").
func Fast(code CallCode) Control { return Control(code) | ctlFast }

// Rep returns the input value of a rep hypercall over count elements
// starting at start. TLFS: the rep count must be greater than the start
// index, and both fit in 12 bits.
func Rep(code CallCode, count, start int) (Control, error) {
	if count <= 0 || count > MaxReps || start < 0 || start >= count {
		return 0, fmt.Errorf("hv: %v: rep count %d, start %d: want 0 <= start < count <= %d", code, count, start, MaxReps)
	}
	return Control(code) | Control(count)<<ctlCountShift | Control(start)<<ctlStartShift, nil
}

// Code is bits 15:0.
func (c Control) Code() CallCode { return CallCode(c) }

// IsFast is bit 16.
func (c Control) IsFast() bool { return c&ctlFast != 0 }

// VarHeaderQwords is bits 26:17.
func (c Control) VarHeaderQwords() int { return int(c>>ctlVarShift) & ctlVarMask }

// RepCount is bits 43:32.
func (c Control) RepCount() int { return int(c>>ctlCountShift) & MaxReps }

// RepStart is bits 59:48.
func (c Control) RepStart() int { return int(c>>ctlStartShift) & MaxReps }

// ReservedBits returns the RsvdZ bits that are set (TLFS: a nonzero one
// fails the call with HV_STATUS_INVALID_HYPERCALL_INPUT).
func (c Control) ReservedBits() uint64 { return uint64(c) & ctlReserved }

// Result is the 64-bit hypercall result value returned in RAX (TLFS
// Hypercall Interface, "Hypercall Outputs"): bits 15:0 the HV_STATUS,
// 43:32 the reps completed (the total, not relative to the start index).
type Result uint64

// Status is bits 15:0.
func (r Result) Status() Status { return Status(r) }

// RepsCompleted is bits 43:32.
func (r Result) RepsCompleted() int { return int(r>>32) & MaxReps }

// MakeResult builds a result value: the fake hypervisor's encoder.
func MakeResult(s Status, reps int) Result { return Result(s) | Result(reps&MaxReps)<<32 }

// Status is HV_STATUS (TLFS datatypes/hv_status.md; values as Linux's
// include/hyperv/hvgdk_mini.h and lvbs-linux asm-generic/hyperv-tlfs.h
// number them).
type Status uint16

// Status codes.
const (
	StatusSuccess               Status = 0x0
	StatusInvalidHypercallCode  Status = 0x2
	StatusInvalidHypercallInput Status = 0x3
	StatusInvalidAlignment      Status = 0x4
	StatusInvalidParameter      Status = 0x5
	StatusAccessDenied          Status = 0x6
	StatusInvalidPartitionState Status = 0x7
	StatusOperationDenied       Status = 0x8
	StatusInsufficientMemory    Status = 0xB
	StatusInvalidPartitionID    Status = 0xD
	StatusInvalidVPIndex        Status = 0xE
	StatusInvalidVPState        Status = 0x15
	StatusInvalidRegisterValue  Status = 0x50
	StatusInvalidVtlState       Status = 0x51
	StatusVtlAlreadyEnabled     Status = 0x86
)

var statusNames = [...]string{
	StatusSuccess:               "HV_STATUS_SUCCESS",
	StatusInvalidHypercallCode:  "HV_STATUS_INVALID_HYPERCALL_CODE",
	StatusInvalidHypercallInput: "HV_STATUS_INVALID_HYPERCALL_INPUT",
	StatusInvalidAlignment:      "HV_STATUS_INVALID_ALIGNMENT",
	StatusInvalidParameter:      "HV_STATUS_INVALID_PARAMETER",
	StatusAccessDenied:          "HV_STATUS_ACCESS_DENIED",
	StatusInvalidPartitionState: "HV_STATUS_INVALID_PARTITION_STATE",
	StatusOperationDenied:       "HV_STATUS_OPERATION_DENIED",
	StatusInsufficientMemory:    "HV_STATUS_INSUFFICIENT_MEMORY",
	StatusInvalidPartitionID:    "HV_STATUS_INVALID_PARTITION_ID",
	StatusInvalidVPIndex:        "HV_STATUS_INVALID_VP_INDEX",
	StatusInvalidVPState:        "HV_STATUS_INVALID_VP_STATE",
	StatusInvalidRegisterValue:  "HV_STATUS_INVALID_REGISTER_VALUE",
	StatusInvalidVtlState:       "HV_STATUS_INVALID_VTL_STATE",
	StatusVtlAlreadyEnabled:     "HV_STATUS_VTL_ALREADY_ENABLED",
}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("HV_STATUS %#x", uint16(s))
}

// Error is a failed hypercall.
type Error struct {
	Code   CallCode
	Status Status
	Reps   int // reps completed, for rep calls
}

func (e *Error) Error() string {
	return fmt.Sprintf("hv: %v failed: %v (after %d reps)", e.Code, e.Status, e.Reps)
}
