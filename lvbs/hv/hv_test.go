package hv

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// The values below are typed in from the TLFS tables the comments name,
// not computed with this package's encoders.

func TestControlLayout(t *testing.T) {
	// TLFS Hypercall Interface, "Hypercall Inputs": call code 15:0, fast
	// 16, rep count 43:32, rep start 59:48.
	c, err := Rep(CallModifyVtlProtectionMask, 510, 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := Control(0x000C | 510<<32 | 20<<48); c != want {
		t.Errorf("Rep(0x000C, 510, 20) = %#x, want %#x", uint64(c), uint64(want))
	}
	if got := uint64(Fast(CallEnablePartitionVtl)); got != 0x1000D {
		t.Errorf("Fast(0x000D) = %#x, want 0x1000d", got)
	}
	if c.Code() != 0x000C || c.RepCount() != 510 || c.RepStart() != 20 || c.IsFast() {
		t.Errorf("decoded %v count %d start %d fast %v", c.Code(), c.RepCount(), c.RepStart(), c.IsFast())
	}
	for _, bad := range []struct{ count, start int }{{0, 0}, {4096, 0}, {5, 5}, {5, -1}} {
		if _, err := Rep(CallGetVpRegisters, bad.count, bad.start); err == nil {
			t.Errorf("Rep(count %d, start %d) accepted", bad.count, bad.start)
		}
	}
	// RsvdZ: 31:27, 47:44, 63:60.
	if r := Control(1<<27 | 1<<44 | 1<<63).ReservedBits(); r != 1<<27|1<<44|1<<63 {
		t.Errorf("ReservedBits = %#x", r)
	}
	if Control(0x3FF<<17).ReservedBits() != 0 || Control(0x3FF<<17).VarHeaderQwords() != 0x3FF {
		t.Error("variable header size (26:17) misread")
	}
}

func TestResultLayout(t *testing.T) {
	// TLFS "Hypercall Outputs": result 15:0, reps completed 43:32.
	r := Result(0xDEAD_0ABC_FFFF_0005)
	if r.Status() != StatusInvalidParameter || r.RepsCompleted() != 0xABC {
		t.Errorf("status %v reps %#x", r.Status(), r.RepsCompleted())
	}
	if got := uint64(MakeResult(StatusAccessDenied, 7)); got != 0x7_0000_0006 {
		t.Errorf("MakeResult = %#x", got)
	}
	if !strings.Contains(Status(0x1234).String(), "0x1234") || StatusInvalidAlignment.String() != "HV_STATUS_INVALID_ALIGNMENT" {
		t.Error("status names")
	}
}

func TestCallCodes(t *testing.T) {
	// Each from its hypercalls/*.md "Call Code" line.
	for _, c := range []struct {
		got  CallCode
		want uint16
	}{
		{CallModifyVtlProtectionMask, 0x000C}, {CallEnablePartitionVtl, 0x000D},
		{CallEnableVpVtl, 0x000F}, {CallGetVpRegisters, 0x0050}, {CallSetVpRegisters, 0x0051},
	} {
		if uint16(c.got) != c.want {
			t.Errorf("%v = %#x, want %#x", c.got, uint16(c.got), c.want)
		}
	}
}

func TestProtectionInput(t *testing.T) {
	in := make([]byte, PageSize)
	pfns := []uint64{0x1234, 0x1235}
	if err := EncodeProtection(in, ProtectionHeader{Partition: PartitionSelf, Flags: MapRead | MapUserExec, VTL: TargetVTL(0)}, pfns); err != nil {
		t.Fatal(err)
	}
	// HvCallModifyVtlProtectionMask.md: TargetPartitionId 0/8,
	// MapFlags 8/4, TargetVtl 12/1, RsvdZ 13/3, GpaPageList from 16.
	want := []byte{
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0x09, 0, 0, 0,
		0x10, 0, 0, 0,
		0x34, 0x12, 0, 0, 0, 0, 0, 0,
		0x35, 0x12, 0, 0, 0, 0, 0, 0,
	}
	if !bytes.Equal(in[:len(want)], want) {
		t.Errorf("input % x\nwant  % x", in[:len(want)], want)
	}
	if err := EncodeProtection(in, ProtectionHeader{}, make([]uint64, 511)); err == nil {
		t.Error("511 pages accepted in one page (max (4096-16)/8 = 510)")
	}
	in[13] = 1
	if _, _, err := DecodeProtection(in, 2); err == nil {
		t.Error("RsvdZ byte 13 accepted")
	}
}

func TestRegistersInput(t *testing.T) {
	in := make([]byte, PageSize)
	if err := EncodeGetRegisters(in, RegistersHeader{Partition: PartitionSelf, VP: VPSelf, VTL: TargetVTL(0)}, []RegisterName{RegVsmCodePageOffsets, RegCR4}); err != nil {
		t.Fatal(err)
	}
	// HvCallGetVpRegisters.md: PartitionId 0/8, VpIndex 8/4, TargetVtl
	// 12/1, RsvdZ 13/3, RegisterName list of 4-byte elements from 16.
	// HV_VP_INDEX_SELF is 0xFFFFFFFE; HvRegisterVsmCodePageOffsets is
	// 0x000D0002, HvX64RegisterCr4 0x00040003 (hv_register_name.md).
	want := []byte{
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFE, 0xFF, 0xFF, 0xFF,
		0x10, 0, 0, 0,
		0x02, 0x00, 0x0D, 0x00,
		0x03, 0x00, 0x04, 0x00,
	}
	if !bytes.Equal(in[:len(want)], want) {
		t.Errorf("get input % x\nwant      % x", in[:len(want)], want)
	}
	if err := EncodeSetRegisters(in, RegistersHeader{Partition: PartitionSelf, VP: VPSelf}, []Assoc{{Name: RegPendingEvent0, Value: RegisterValue{Low: 0x1122, High: 0x3344}}}); err != nil {
		t.Fatal(err)
	}
	// HvCallSetVpRegisters.md element: RegisterName 0/4, RsvdZ 4/12,
	// RegisterValue 16/16. HvRegisterPendingEvent0 is 0x00010004.
	elem := in[16:48]
	wantElem := make([]byte, 32)
	copy(wantElem, []byte{0x04, 0x00, 0x01, 0x00})
	wantElem[16], wantElem[17] = 0x22, 0x11
	wantElem[24], wantElem[25] = 0x44, 0x33
	if !bytes.Equal(elem, wantElem) || in[12] != 0 {
		t.Errorf("set element % x\nwant        % x (TargetVtl byte %#x)", elem, wantElem, in[12])
	}
	out := make([]byte, PageSize)
	binary.LittleEndian.PutUint64(out[16:], 0xAB)
	binary.LittleEndian.PutUint64(out[24:], 0xCD)
	if v := RegisterValueAt(out, 1); v.Low != 0xAB || v.High != 0xCD {
		t.Errorf("output element 1 (16 bytes at 16) = %+v", v)
	}
	if EncodeSetRegisters(in, RegistersHeader{}, make([]Assoc, 128)) == nil || EncodeGetRegisters(in, RegistersHeader{}, make([]RegisterName, 257)) == nil {
		t.Error("oversized register lists accepted")
	}
}

func TestEnableInputs(t *testing.T) {
	in := make([]byte, PageSize)
	for i := range in {
		in[i] = 0xEE
	}
	EncodeEnablePartitionVtl(in, PartitionSelf, 1, true)
	// HvCallEnablePartitionVtl.md: TargetPartitionId 0/8, TargetVtl 8/1,
	// Flags 9/1 (bit 0 EnableMbec), RsvdZ 10/6.
	if want := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0, 0, 0, 0, 0, 0}; !bytes.Equal(in[:16], want) {
		t.Errorf("EnablePartitionVtl input % x", in[:16])
	}
	ctx := InitialVPContext{Rip: 0x1000_0000, Rsp: 0x10FF_FFFF, Rflags: 2,
		Cs:   SegmentRegister{Selector: 8, Attributes: 0x209B},
		Gdtr: TableRegister{Limit: 0x27, Base: 0x10FF_1000},
		Efer: 0xD01, Cr0: 0x8001_0033, Cr3: 0x10FF_4000, Cr4: 0xB0, MsrCrPat: 0x0007_0406_0007_0406}
	EncodeEnableVpVtl(in, PartitionSelf, VPSelf, 1, &ctx)
	// HvCallEnableVpVtl.md: VpVtlContext at 16, 224 bytes;
	// hv_initial_vp_context.md: Rip, Rsp, Rflags, 8 segment registers
	// (Base 8, Limit 4, Selector 2, Attributes 2), Idtr, Gdtr (6 pad,
	// Limit 2, Base 8), Efer, Cr0, Cr3, Cr4, MsrCrPat.
	c := in[16:]
	checks := []struct {
		off  int
		want uint64
		size int
	}{
		{0, 0x1000_0000, 8}, {8, 0x10FF_FFFF, 8}, {16, 2, 8},
		{24 + 12, 8, 2}, {24 + 14, 0x209B, 2}, // Cs
		{168 + 6, 0x27, 2}, {168 + 8, 0x10FF_1000, 8}, // Gdtr
		{184, 0xD01, 8}, {192, 0x8001_0033, 8}, {200, 0x10FF_4000, 8}, {208, 0xB0, 8}, {216, 0x0007_0406_0007_0406, 8},
	}
	for _, k := range checks {
		var got uint64
		for i := k.size - 1; i >= 0; i-- {
			got = got<<8 | uint64(c[k.off+i])
		}
		if got != k.want {
			t.Errorf("context offset %d = %#x, want %#x", k.off, got, k.want)
		}
	}
	if in[16+224] != 0xEE {
		t.Error("context encoding ran past 224 bytes")
	}
	if _, _, _, back, err := DecodeEnableVpVtl(in); err != nil || back != ctx {
		t.Errorf("round trip: %v, %+v", err, back)
	}
}

func TestMSRValues(t *testing.T) {
	// TLFS "Guest OS Identity MSR for Open Source Operating Systems":
	// bit 63 open source, 62:56 OS type (Linux 1), 55:48 OS ID, 47:16
	// version, 15:0 build.
	if got := (GuestOSID{Build: 0x1234, Version: 0x0005_0600, OSID: 0x43, OSType: OSTypeLinux}).Word(); got != 0x8143_0005_0600_1234 {
		t.Errorf("guest OS ID = %#x", got)
	}
	// Hypercall MSR: enable bit 0, Locked bit 1, RsvdP 11:2 preserved.
	v, err := EnablePage(PageMSR(0x0000_0000_0000_0FFC), 0x7_F000)
	if err != nil || uint64(v) != 0x7_FFFD {
		t.Errorf("EnablePage = %#x, %v; want 0x7fffd (RsvdP kept, enable set)", uint64(v), err)
	}
	if _, err := EnablePage(0, 0x7_F800); err == nil {
		t.Error("unaligned page accepted")
	}
	if !PageMSR(3).Locked() || PageMSR(1).Locked() {
		t.Error("Locked is bit 1")
	}
	// SINTx: vector 7:0, masked 16, auto-EOI 17.
	if s := SINT(1<<16 | 1<<17 | 1<<18 | 0x20).Unmasked(0xF3); uint64(s) != 1<<18|0xF3 {
		t.Errorf("SINT = %#x", uint64(s))
	}
	if MSRGuestOSID != 0x40000000 || MSRHypercall != 0x40000001 || MSRVPIndex != 0x40000002 || MSRVPAssistPage != 0x40000073 || MSRSIMP != 0x40000083 || MSREOM != 0x40000084 || MSRSINT0 != 0x40000090 || MSRSControl != 0x40000080 {
		t.Error("synthetic MSR numbers differ from the TLFS")
	}
}

func TestRegisterValues(t *testing.T) {
	// HV_REGISTER_VSM_CODE_PAGE_OFFSETS: 11:0 call, 23:12 return.
	o := CodePageOffsets(0x0004_0020)
	if o.VtlCall() != 0x20 || o.VtlReturn() != 0x40 || o.Validate() != nil {
		t.Errorf("offsets %#x %#x %v", o.VtlCall(), o.VtlReturn(), o.Validate())
	}
	if CodePageOffsets(1<<24|0x40020).Validate() == nil || CodePageOffsets(0x20020).Validate() == nil {
		t.Error("bad offsets accepted")
	}
	// HV_REGISTER_VSM_PARTITION_CONFIG: bit 0 EnableVtlProtection, 4:1
	// default mask, 5 zero on reset, 6 deny lower startup, 9 intercept
	// startup.
	if got := MakePartitionConfig(true, MapAll, true, true, true); got != 0x27F {
		t.Errorf("partition config = %#x, want 0x27f", uint64(got))
	}
	// HvX64RegisterCrInterceptControl order: Cr0Write 0, Cr4Write 1, ...
	// MsrEferWrite 14, GdtrWrite 15, MsrSfmaskWrite 22.
	if InterceptCr4Write != 2 || InterceptEferWrite != 1<<14 || InterceptGdtrWrite != 1<<15 || InterceptSfmaskWrite != 1<<22 {
		t.Error("intercept control bits differ from the TLFS structure order")
	}
	// Pending exception: #GP with error code 0.
	if v := PendingException(VectorGP, 0, true, 0); v.Low != 0x000D_0101 || v.High != 0 {
		t.Errorf("pending #GP = %#x", v.Low)
	}
	if TargetVTL(0) != 0x10 || TargetVTL(1) != 0x11 {
		t.Error("HV_INPUT_VTL: TargetVtl 3:0, UseTargetVtl 4")
	}
	if VpStatus(0x0003_0011).ActiveVtl() != 1 || !VpStatus(0x0003_0011).ActiveMbec() || VpStatus(0x0003_0011).EnabledVtlSet() != 3 {
		t.Error("HV_REGISTER_VSM_VP_STATUS fields")
	}
	if PartitionStatus(0x0_0020_1_0003).MaximumVtl() != 1 || PartitionStatus(0x0201_0003).MbecEnabledVtlSet() != 0x20 {
		t.Error("HV_REGISTER_VSM_PARTITION_STATUS fields")
	}
}

func TestVtlControl(t *testing.T) {
	page := make([]byte, PageSize)
	// hv_vp_vtl_control.md inside hv_vp_assist_page.md: EntryReason at
	// 8 (4 bytes), VinaStatus 12, VtlReturnX64Rax 16, Rcx 24.
	page[8], page[12] = 1, 1
	c, err := DecodeVtlControl(page)
	if err != nil || c.Reason != EntryVtlCall || !c.VinaAsserted {
		t.Errorf("%+v %v", c, err)
	}
	SetVtlReturnRegs(page, 0x1111, 0x2222)
	if binary.LittleEndian.Uint64(page[16:]) != 0x1111 || binary.LittleEndian.Uint64(page[24:]) != 0x2222 {
		t.Error("VtlReturnX64Rax/Rcx offsets")
	}
	for _, garbage := range [][2]int{{8, 0}, {8, 3}, {8, 0x77}, {12, 2}, {13, 1}, {15, 1}} {
		p := make([]byte, PageSize)
		p[8] = 2
		p[garbage[0]] = byte(garbage[1])
		if _, err := DecodeVtlControl(p); err == nil {
			t.Errorf("byte %d = %#x accepted", garbage[0], garbage[1])
		}
	}
}

func TestSynICMessages(t *testing.T) {
	simp := make([]byte, PageSize)
	slot := Slot(simp, 0)
	// hv_message.md: MessageType 0/4, Reserved 4/2, Flags 6/1,
	// PayloadSize 7/1, OriginationId 8/8, Payload 16.
	binary.LittleEndian.PutUint32(slot[0:], 0x80010006) // HvMessageTypeRegisterIntercept
	slot[6], slot[7] = 1, 64
	p := slot[16:]
	// Register intercept payload (lvbs-linux mshv_vsm_vtl1.c).
	binary.LittleEndian.PutUint32(p[0:], 3) // VpIndex
	p[4], p[5] = 0x33, 1                    // length 3 (cr8 3), write
	binary.LittleEndian.PutUint64(p[24:], 0xFFFF_FFFF_8100_0040)
	binary.LittleEndian.PutUint32(p[44:], 0x00040003)
	binary.LittleEndian.PutUint64(p[48:], 0x3006F0)
	m, err := DecodeMessage(slot)
	if err != nil || m.Type != MsgRegisterIntercept || !m.Pending || len(m.Payload) != 64 {
		t.Fatalf("%+v %v", m, err)
	}
	r, err := DecodeRegisterIntercept(m.Payload)
	if err != nil || r.VP != 3 || r.InstructionLength != 3 || r.Access != AccessWrite || r.Rip != 0xFFFF_FFFF_8100_0040 || r.Name != RegCR4 || r.Value.Low != 0x3006F0 {
		t.Errorf("%+v %v", r, err)
	}
	slot[7] = 241
	if _, err := DecodeMessage(slot); err == nil {
		t.Error("payload size 241 accepted")
	}
	if _, err := DecodeRegisterIntercept(p[:63]); err == nil {
		t.Error("short register intercept accepted")
	}
	p[5] = 3
	if _, err := DecodeRegisterIntercept(p[:64]); err == nil {
		t.Error("access type 3 accepted")
	}
	// GPA intercept: Gpa at 56, Gva at 48, byte count at 44.
	g := make([]byte, 80)
	binary.LittleEndian.PutUint64(g[56:], 0x12_3000)
	g[44] = 17
	if _, err := DecodeGpaIntercept(g); err == nil {
		t.Error("17 instruction bytes accepted")
	}
	g[44] = 3
	if d, err := DecodeGpaIntercept(g); err != nil || d.Gpa != 0x12_3000 || len(d.InstructionBytes) != 3 {
		t.Errorf("%+v %v", d, err)
	}
	// MSR intercept: MsrNumber 40, Rdx 48, Rax 56; value EDX:EAX.
	mi := make([]byte, 64)
	binary.LittleEndian.PutUint32(mi[40:], 0xC0000082)
	binary.LittleEndian.PutUint64(mi[48:], 0xFFFF_FFFF)
	binary.LittleEndian.PutUint64(mi[56:], 0xDEAD_BEEF_8100_0000)
	if d, err := DecodeMsrIntercept(mi); err != nil || d.MSR != MSRLstar || d.Value() != 0xFFFF_FFFF_8100_0000 {
		t.Errorf("%+v value %#x %v", d, d.Value(), err)
	}
	ClearMessage(slot)
	if binary.LittleEndian.Uint32(slot) != 0 {
		t.Error("ClearMessage left the type")
	}
}

// TestRegisterNames: named registers by name, others by number.
func TestRegisterNames(t *testing.T) {
	for r, want := range map[RegisterName]string{
		RegRip: "Rip", RegVsmVpSecureConfigVtl0: "VsmVpSecureConfigVtl0",
		RegCrInterceptCr4Mask: "CrInterceptCr4Mask", 0x7777: "register 0x00007777",
	} {
		if got := r.String(); got != want {
			t.Errorf("RegisterName(%#x).String() = %q, want %q", uint32(r), got, want)
		}
	}
	if got := StatusVtlAlreadyEnabled.String(); got != "HV_STATUS_VTL_ALREADY_ENABLED" {
		t.Errorf("StatusVtlAlreadyEnabled = %q", got)
	}
}
