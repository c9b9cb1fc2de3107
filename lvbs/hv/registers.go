package hv

import "fmt"

// RegisterName is HV_REGISTER_NAME (TLFS datatypes/hv_register_name.md).
type RegisterName uint32

// Register names Cocoon reads or writes. Values from the TLFS table, except
// the intercept-control registers, which the public TLFS names (TLFS VSM,
// "Secure Register Intercepts", "Mask Registers") but does not number:
// those follow lvbs-linux include/uapi/hyperv/hvgdk_mini.h
// (HV_X64_REGISTER_CR_INTERCEPT_*).
const (
	RegPendingEvent0 RegisterName = 0x0001_0004
	RegRip           RegisterName = 0x0002_0010
	RegRflags        RegisterName = 0x0002_0011
	RegCR0           RegisterName = 0x0004_0000
	RegCR3           RegisterName = 0x0004_0002
	RegCR4           RegisterName = 0x0004_0003
	RegLdtr          RegisterName = 0x0006_0006
	RegTr            RegisterName = 0x0006_0007
	RegIdtr          RegisterName = 0x0007_0000
	RegGdtr          RegisterName = 0x0007_0001
	RegEfer          RegisterName = 0x0008_0001
	RegApicBase      RegisterName = 0x0008_0003
	RegPat           RegisterName = 0x0008_0004
	RegSysenterCs    RegisterName = 0x0008_0005
	RegSysenterRip   RegisterName = 0x0008_0006
	RegSysenterRsp   RegisterName = 0x0008_0007
	RegStar          RegisterName = 0x0008_0008
	RegLstar         RegisterName = 0x0008_0009
	RegCstar         RegisterName = 0x0008_000A
	RegSfmask        RegisterName = 0x0008_000B

	RegVsmCodePageOffsets    RegisterName = 0x000D_0002
	RegVsmVpStatus           RegisterName = 0x000D_0003
	RegVsmPartitionStatus    RegisterName = 0x000D_0004
	RegVsmCapabilities       RegisterName = 0x000D_0006
	RegVsmPartitionConfig    RegisterName = 0x000D_0007
	RegVsmVpSecureConfigVtl0 RegisterName = 0x000D_0010

	RegCrInterceptControl RegisterName = 0x000E_0000
	RegCrInterceptCr0Mask RegisterName = 0x000E_0001
	RegCrInterceptCr4Mask RegisterName = 0x000E_0002
)

// registerNames is searched in order: a table, not a map, so that no
// package initialiser builds it at every boot.
var registerNames = [...]struct {
	r    RegisterName
	name string
}{
	{RegPendingEvent0, "PendingEvent0"},
	{RegRip, "Rip"},
	{RegRflags, "Rflags"},
	{RegCR0, "Cr0"},
	{RegCR3, "Cr3"},
	{RegCR4, "Cr4"},
	{RegLdtr, "Ldtr"},
	{RegTr, "Tr"},
	{RegIdtr, "Idtr"},
	{RegGdtr, "Gdtr"},
	{RegEfer, "Efer"},
	{RegApicBase, "ApicBase"},
	{RegPat, "Pat"},
	{RegSysenterCs, "SysenterCs"},
	{RegSysenterRip, "SysenterRip"},
	{RegSysenterRsp, "SysenterRsp"},
	{RegStar, "Star"},
	{RegLstar, "Lstar"},
	{RegCstar, "Cstar"},
	{RegSfmask, "Sfmask"},
	{RegVsmCodePageOffsets, "VsmCodePageOffsets"},
	{RegVsmVpStatus, "VsmVpStatus"},
	{RegVsmPartitionStatus, "VsmPartitionStatus"},
	{RegVsmCapabilities, "VsmCapabilities"},
	{RegVsmPartitionConfig, "VsmPartitionConfig"},
	{RegVsmVpSecureConfigVtl0, "VsmVpSecureConfigVtl0"},
	{RegCrInterceptControl, "CrInterceptControl"},
	{RegCrInterceptCr0Mask, "CrInterceptCr0Mask"},
	{RegCrInterceptCr4Mask, "CrInterceptCr4Mask"},
}

func (r RegisterName) String() string {
	for _, e := range registerNames {
		if e.r == r {
			return e.name
		}
	}
	return fmt.Sprintf("register %#08x", uint32(r))
}

// RegisterValue is HV_REGISTER_VALUE: 128 bits, low quadword first (TLFS
// datatypes/hv_register_value.md).
type RegisterValue struct{ Low, High uint64 }

// Assoc is one register of HvCallSetVpRegisters' input list.
type Assoc struct {
	Name  RegisterName
	Value RegisterValue
}

// Architectural MSR numbers whose writes the intercept-control register
// can trap (Intel SDM vol. 4 / AMD APM vol. 2 MSR tables), with the
// register name HvCallSetVpRegisters uses for each.
const (
	MSRApicBase    = 0x0000_001B
	MSRSysenterCs  = 0x0000_0174
	MSRSysenterEsp = 0x0000_0175
	MSRSysenterEip = 0x0000_0176
	MSREfer        = 0xC000_0080
	MSRStar        = 0xC000_0081
	MSRLstar       = 0xC000_0082
	MSRCstar       = 0xC000_0083
	MSRSfmask      = 0xC000_0084
)

// MSRRegister maps an architectural MSR to its HV register name and the
// intercept-control bit that traps writes to it; false for MSRs the
// intercept-control register cannot trap.
func MSRRegister(msr uint32) (RegisterName, CrInterceptControl, bool) {
	switch msr {
	case MSRApicBase:
		return RegApicBase, InterceptApicBaseWrite, true
	case MSRSysenterCs:
		return RegSysenterCs, InterceptSysenterCsWrite, true
	case MSRSysenterEsp:
		return RegSysenterRsp, InterceptSysenterEspWrite, true
	case MSRSysenterEip:
		return RegSysenterRip, InterceptSysenterEipWrite, true
	case MSREfer:
		return RegEfer, InterceptEferWrite, true
	case MSRStar:
		return RegStar, InterceptStarWrite, true
	case MSRLstar:
		return RegLstar, InterceptLstarWrite, true
	case MSRCstar:
		return RegCstar, InterceptCstarWrite, true
	case MSRSfmask:
		return RegSfmask, InterceptSfmaskWrite, true
	}
	return 0, 0, false
}

// CrInterceptControl is HV_REGISTER_CR_INTERCEPT_CONTROL (TLFS VSM,
// "Secure Register Intercepts"): one bit per trapped access, in the order
// of the TLFS structure.
type CrInterceptControl uint64

// Intercept-control bits.
const (
	InterceptCr0Write         CrInterceptControl = 1 << 0
	InterceptCr4Write         CrInterceptControl = 1 << 1
	InterceptXCr0Write        CrInterceptControl = 1 << 2
	InterceptMiscEnableRead   CrInterceptControl = 1 << 3
	InterceptMiscEnableWrite  CrInterceptControl = 1 << 4
	InterceptLstarRead        CrInterceptControl = 1 << 5
	InterceptLstarWrite       CrInterceptControl = 1 << 6
	InterceptStarRead         CrInterceptControl = 1 << 7
	InterceptStarWrite        CrInterceptControl = 1 << 8
	InterceptCstarRead        CrInterceptControl = 1 << 9
	InterceptCstarWrite       CrInterceptControl = 1 << 10
	InterceptApicBaseRead     CrInterceptControl = 1 << 11
	InterceptApicBaseWrite    CrInterceptControl = 1 << 12
	InterceptEferRead         CrInterceptControl = 1 << 13
	InterceptEferWrite        CrInterceptControl = 1 << 14
	InterceptGdtrWrite        CrInterceptControl = 1 << 15
	InterceptIdtrWrite        CrInterceptControl = 1 << 16
	InterceptLdtrWrite        CrInterceptControl = 1 << 17
	InterceptTrWrite          CrInterceptControl = 1 << 18
	InterceptSysenterCsWrite  CrInterceptControl = 1 << 19
	InterceptSysenterEipWrite CrInterceptControl = 1 << 20
	InterceptSysenterEspWrite CrInterceptControl = 1 << 21
	InterceptSfmaskWrite      CrInterceptControl = 1 << 22
	InterceptTscAuxWrite      CrInterceptControl = 1 << 23
	InterceptSgxLaunchWrite   CrInterceptControl = 1 << 24
)

// CodePageOffsets is HV_REGISTER_VSM_CODE_PAGE_OFFSETS (TLFS VSM,
// "Hypercall Page Assist"): where in the hypercall page the VTL call and
// VTL return sequences start. Bits 11:0 VtlCallOffset, 23:12
// VtlReturnOffset, 63:24 RsvdZ.
type CodePageOffsets uint64

// VtlCall is bits 11:0.
func (o CodePageOffsets) VtlCall() uint16 { return uint16(o & 0xFFF) }

// VtlReturn is bits 23:12.
func (o CodePageOffsets) VtlReturn() uint16 { return uint16(o>>12) & 0xFFF }

// Validate refuses a value Cocoon must not jump through: reserved bits set
// or both sequences at one offset. (Each offset, being 12 bits, lies in
// the page.)
func (o CodePageOffsets) Validate() error {
	if o>>24 != 0 {
		return fmt.Errorf("hv: VSM code page offsets %#x: reserved bits 63:24 set", uint64(o))
	}
	if o.VtlCall() == o.VtlReturn() {
		return fmt.Errorf("hv: VSM code page offsets %#x: VTL call and return at one offset", uint64(o))
	}
	return nil
}

// PartitionConfig is HV_REGISTER_VSM_PARTITION_CONFIG (TLFS VSM,
// "Partition Configuration"): bit 0 EnableVtlProtection, 4:1
// DefaultVtlProtectionMask, 5 ZeroMemoryOnReset, 6 DenyLowerVtlStartup,
// 9 InterceptVpStartup.
type PartitionConfig uint64

// MakePartitionConfig encodes a partition configuration.
func MakePartitionConfig(enableProtection bool, defaultMask MapFlags, zeroOnReset, denyLowerStartup, interceptStartup bool) PartitionConfig {
	var c PartitionConfig
	if enableProtection {
		c |= 1 << 0
	}
	c |= PartitionConfig(defaultMask&0xF) << 1
	if zeroOnReset {
		c |= 1 << 5
	}
	if denyLowerStartup {
		c |= 1 << 6
	}
	if interceptStartup {
		c |= 1 << 9
	}
	return c
}

// SecureVtlConfig is HV_REGISTER_VSM_VP_SECURE_VTL_CONFIG (TLFS VSM,
// "Configuring Lower VTLs"): bit 0 MbecEnabled, bit 1 TlbLocked.
type SecureVtlConfig uint64

// Secure VTL configuration bits.
const (
	SecureMbecEnabled SecureVtlConfig = 1 << 0
	SecureTlbLocked   SecureVtlConfig = 1 << 1
)

// VpStatus is HV_REGISTER_VSM_VP_STATUS (TLFS VSM, "HvRegisterVsmVpStatus").
type VpStatus uint64

// ActiveVtl is bits 3:0.
func (s VpStatus) ActiveVtl() uint8 { return uint8(s & 0xF) }

// ActiveMbec is bit 4.
func (s VpStatus) ActiveMbec() bool { return s&(1<<4) != 0 }

// EnabledVtlSet is bits 31:16.
func (s VpStatus) EnabledVtlSet() uint16 { return uint16(s >> 16) }

// PartitionStatus is HV_REGISTER_VSM_PARTITION_STATUS (TLFS VSM,
// "HvRegisterVsmPartitionStatus").
type PartitionStatus uint64

// EnabledVtlSet is bits 15:0.
func (s PartitionStatus) EnabledVtlSet() uint16 { return uint16(s) }

// MaximumVtl is bits 19:16.
func (s PartitionStatus) MaximumVtl() uint8 { return uint8(s>>16) & 0xF }

// MbecEnabledVtlSet is bits 35:20.
func (s PartitionStatus) MbecEnabledVtlSet() uint16 { return uint16(s >> 20) }

// PendingException encodes HvRegisterPendingEvent0 holding an exception
// for the target VTL (lvbs-linux include/uapi/hyperv/hvgdk_mini.h, union
// hv_x64_pending_exception_event; the public TLFS lists the register but
// not its layout): bit 0 EventPending, 3:1 EventType (0: exception), 8
// DeliverErrorCode, 31:16 Vector, 63:32 ErrorCode; the high quadword is
// the exception parameter (CR2 for #PF).
func PendingException(vector uint8, errorCode uint32, hasErrorCode bool, param uint64) RegisterValue {
	low := uint64(1) | uint64(vector)<<16 | uint64(errorCode)<<32
	if hasErrorCode {
		low |= 1 << 8
	}
	return RegisterValue{Low: low, High: param}
}

// VectorGP is the #GP exception vector (Intel SDM vol. 3, table 6-1).
const VectorGP = 13

// InputVTL is HV_INPUT_VTL (TLFS datatypes/hv_input_vtl.md): bits 3:0
// TargetVtl, bit 4 UseTargetVtl, 7:5 RsvdZ.
type InputVTL uint8

// TargetVTL returns the InputVTL naming vtl explicitly.
func TargetVTL(vtl uint8) InputVTL { return InputVTL(vtl&0xF | 1<<4) }

// CurrentVTL is the InputVTL meaning the caller's own VTL.
const CurrentVTL InputVTL = 0

// Target returns the named VTL and whether it is named at all.
func (v InputVTL) Target() (uint8, bool) { return uint8(v & 0xF), v&(1<<4) != 0 }

// Reserved reports whether RsvdZ bits 7:5 are set.
func (v InputVTL) Reserved() bool { return v&0xE0 != 0 }

// MapFlags is HV_MAP_GPA_FLAGS as HvCallModifyVtlProtectionMask takes it
// (TLFS datatypes/hv_map_gpa_flags.md, "Permission Bits"): bit 0 readable,
// 1 writable, 2 kernel-mode executable, 3 user-mode executable. (The TLFS
// VSM chapter's "Default Protection Mask" table lists bits 2 and 3 the
// other way round; the data type page, Linux's hyperv-tlfs.h and LiteBox
// agree on this order, and with MBEC off bit 2 alone governs execution.)
type MapFlags uint32

// Map flags.
const (
	MapNone         MapFlags = 0
	MapRead         MapFlags = 1 << 0
	MapWrite        MapFlags = 1 << 1
	MapKernelExec   MapFlags = 1 << 2
	MapUserExec     MapFlags = 1 << 3
	MapAll                   = MapRead | MapWrite | MapKernelExec | MapUserExec
	mapPermsReserve          = ^MapAll
)

func (f MapFlags) String() string {
	b := []byte("----")
	if f&MapRead != 0 {
		b[0] = 'r'
	}
	if f&MapWrite != 0 {
		b[1] = 'w'
	}
	if f&MapKernelExec != 0 {
		b[2] = 'x'
	}
	if f&MapUserExec != 0 {
		b[3] = 'u'
	}
	if f&mapPermsReserve != 0 {
		return fmt.Sprintf("%s+%#x", b, uint32(f&mapPermsReserve))
	}
	return string(b)
}
