package hv

import (
	"encoding/binary"
	"fmt"
)

// Hypercall input and output blocks. Offsets are those of each hypercall's
// "Input Parameters", "Input List Element" and "Output List Element"
// tables (TLFS hypercalls/*.md). Rep lists start right after the 16-byte
// fixed header, 8-byte aligned (TLFS Hypercall Interface, "Variable Sized
// Hypercall Input Headers": the first rep element is 8-byte aligned).

// PartitionSelf and VPSelf name the calling partition and virtual
// processor (HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF: lvbs-linux
// include/asm-generic/hyperv-tlfs.h).
const (
	PartitionSelf = ^uint64(0)
	VPSelf        = ^uint32(0) - 1
)

const headerSize = 16

// Per-call element limits: how many list elements fit in one input page
// (and, for HvCallGetVpRegisters, one output page).
const (
	MaxProtectPages = (PageSize - headerSize) / 8  // 510 GPA page numbers
	MaxGetRegisters = PageSize / 16                // 256 values (the output page bounds it)
	MaxSetRegisters = (PageSize - headerSize) / 32 // 127 associations
)

var le = binary.LittleEndian

func putHeader(in []byte, partition uint64, vpOrFlags uint32, vtl uint8) {
	clear(in[:headerSize])
	le.PutUint64(in[0:], partition)
	le.PutUint32(in[8:], vpOrFlags)
	in[12] = vtl
}

// ProtectionHeader is HvCallModifyVtlProtectionMask's fixed input:
// TargetPartitionId at 0 (8 bytes), MapFlags at 8 (4), TargetVtl at 12
// (1), RsvdZ 13-15.
type ProtectionHeader struct {
	Partition uint64
	Flags     MapFlags
	VTL       InputVTL
}

// EncodeProtection writes the input block for pfns into in.
func EncodeProtection(in []byte, h ProtectionHeader, pfns []uint64) error {
	if len(pfns) == 0 || len(pfns) > MaxProtectPages || len(in) < headerSize+8*len(pfns) {
		return fmt.Errorf("hv: %d pages do not fit one HvCallModifyVtlProtectionMask input page", len(pfns))
	}
	putHeader(in, h.Partition, uint32(h.Flags), uint8(h.VTL))
	for i, p := range pfns {
		le.PutUint64(in[headerSize+8*i:], p)
	}
	return nil
}

// DecodeProtection reads an HvCallModifyVtlProtectionMask input block of
// count elements: the hypervisor's side.
func DecodeProtection(in []byte, count int) (ProtectionHeader, []uint64, error) {
	if count < 0 || headerSize+8*count > len(in) {
		return ProtectionHeader{}, nil, fmt.Errorf("hv: %d GPA pages overflow the input page", count)
	}
	h := ProtectionHeader{Partition: le.Uint64(in[0:]), Flags: MapFlags(le.Uint32(in[8:])), VTL: InputVTL(in[12])}
	if in[13]|in[14]|in[15] != 0 {
		return h, nil, fmt.Errorf("hv: RsvdZ bytes 13-15 of HvCallModifyVtlProtectionMask input are set")
	}
	pfns := make([]uint64, count)
	for i := range pfns {
		pfns[i] = le.Uint64(in[headerSize+8*i:])
	}
	return h, pfns, nil
}

// RegistersHeader is the fixed input of HvCallGetVpRegisters and
// HvCallSetVpRegisters: PartitionId at 0 (8 bytes), VpIndex at 8 (4),
// TargetVtl at 12 (1), RsvdZ 13-15.
type RegistersHeader struct {
	Partition uint64
	VP        uint32
	VTL       InputVTL
}

// EncodeGetRegisters writes HvCallGetVpRegisters' input: the header, then
// one 4-byte RegisterName per element (TLFS "Input List Element": offset
// 0, size 4).
func EncodeGetRegisters(in []byte, h RegistersHeader, names []RegisterName) error {
	if len(names) == 0 || len(names) > MaxGetRegisters || len(in) < headerSize+4*len(names) {
		return fmt.Errorf("hv: %d registers do not fit one HvCallGetVpRegisters call", len(names))
	}
	putHeader(in, h.Partition, h.VP, uint8(h.VTL))
	for i, n := range names {
		le.PutUint32(in[headerSize+4*i:], uint32(n))
	}
	return nil
}

// DecodeGetRegisters is the hypervisor's side of EncodeGetRegisters.
func DecodeGetRegisters(in []byte, count int) (RegistersHeader, []RegisterName, error) {
	if count < 0 || headerSize+4*count > len(in) {
		return RegistersHeader{}, nil, fmt.Errorf("hv: %d register names overflow the input page", count)
	}
	h := RegistersHeader{Partition: le.Uint64(in[0:]), VP: le.Uint32(in[8:]), VTL: InputVTL(in[12])}
	if in[13]|in[14]|in[15] != 0 {
		return h, nil, fmt.Errorf("hv: RsvdZ bytes 13-15 of HvCallGetVpRegisters input are set")
	}
	names := make([]RegisterName, count)
	for i := range names {
		names[i] = RegisterName(le.Uint32(in[headerSize+4*i:]))
	}
	return h, names, nil
}

// PutRegisterValue writes element i of HvCallGetVpRegisters' output list
// (TLFS "Output List Element": 16 bytes at 16*i).
func PutRegisterValue(out []byte, i int, v RegisterValue) {
	le.PutUint64(out[16*i:], v.Low)
	le.PutUint64(out[16*i+8:], v.High)
}

// RegisterValueAt reads element i of HvCallGetVpRegisters' output list.
func RegisterValueAt(out []byte, i int) RegisterValue {
	return RegisterValue{Low: le.Uint64(out[16*i:]), High: le.Uint64(out[16*i+8:])}
}

// EncodeSetRegisters writes HvCallSetVpRegisters' input: the header, then
// 32-byte elements (TLFS "Input List Element": RegisterName at 0, RsvdZ
// 4-15, RegisterValue at 16, 16 bytes).
func EncodeSetRegisters(in []byte, h RegistersHeader, regs []Assoc) error {
	if len(regs) == 0 || len(regs) > MaxSetRegisters || len(in) < headerSize+32*len(regs) {
		return fmt.Errorf("hv: %d registers do not fit one HvCallSetVpRegisters input page", len(regs))
	}
	putHeader(in, h.Partition, h.VP, uint8(h.VTL))
	for i, r := range regs {
		e := in[headerSize+32*i : headerSize+32*i+32]
		clear(e)
		le.PutUint32(e[0:], uint32(r.Name))
		le.PutUint64(e[16:], r.Value.Low)
		le.PutUint64(e[24:], r.Value.High)
	}
	return nil
}

// DecodeSetRegisters is the hypervisor's side of EncodeSetRegisters.
func DecodeSetRegisters(in []byte, count int) (RegistersHeader, []Assoc, error) {
	if count < 0 || headerSize+32*count > len(in) {
		return RegistersHeader{}, nil, fmt.Errorf("hv: %d register associations overflow the input page", count)
	}
	h := RegistersHeader{Partition: le.Uint64(in[0:]), VP: le.Uint32(in[8:]), VTL: InputVTL(in[12])}
	if in[13]|in[14]|in[15] != 0 {
		return h, nil, fmt.Errorf("hv: RsvdZ bytes 13-15 of HvCallSetVpRegisters input are set")
	}
	regs := make([]Assoc, count)
	for i := range regs {
		e := in[headerSize+32*i:]
		if le.Uint32(e[4:]) != 0 || le.Uint64(e[8:]) != 0 {
			return h, nil, fmt.Errorf("hv: RsvdZ bytes 4-15 of HvCallSetVpRegisters element %d are set", i)
		}
		regs[i] = Assoc{Name: RegisterName(le.Uint32(e[0:])), Value: RegisterValue{Low: le.Uint64(e[16:]), High: le.Uint64(e[24:])}}
	}
	return h, regs, nil
}

// EncodeEnablePartitionVtl writes HvCallEnablePartitionVtl's input
// (TLFS hypercalls/HvCallEnablePartitionVtl.md: TargetPartitionId at 0,
// TargetVtl at 8 (1 byte), Flags at 9 (bit 0 EnableMbec), RsvdZ 10-15).
func EncodeEnablePartitionVtl(in []byte, partition uint64, vtl uint8, mbec bool) {
	clear(in[:headerSize])
	le.PutUint64(in[0:], partition)
	in[8] = vtl
	if mbec {
		in[9] = 1
	}
}

// DecodeEnablePartitionVtl is the hypervisor's side.
func DecodeEnablePartitionVtl(in []byte) (partition uint64, vtl uint8, mbec bool, err error) {
	partition, vtl, flags := le.Uint64(in[0:]), in[8], in[9]
	for _, b := range in[10:headerSize] {
		if b != 0 {
			return partition, vtl, false, fmt.Errorf("hv: RsvdZ bytes 10-15 of HvCallEnablePartitionVtl input are set")
		}
	}
	if flags&^1 != 0 {
		return partition, vtl, false, fmt.Errorf("hv: HvCallEnablePartitionVtl flags %#x: reserved bits set", flags)
	}
	return partition, vtl, flags&1 != 0, nil
}

// SegmentRegister is HV_X64_SEGMENT_REGISTER (TLFS
// datatypes/hv_x64_segment_register.md): Base (8), Limit (4), Selector
// (2), Attributes (2): bits 3:0 type, 4 S (non-system), 6:5 DPL, 7 P,
// 12 AVL, 13 L, 14 D/B, 15 G.
type SegmentRegister struct {
	Base       uint64
	Limit      uint32
	Selector   uint16
	Attributes uint16
}

// TableRegister is HV_X64_TABLE_REGISTER (TLFS
// datatypes/hv_x64_table_register.md): 6 bytes of padding, Limit (2),
// Base (8).
type TableRegister struct {
	Limit uint16
	Base  uint64
}

// InitialVPContext is HV_INITIAL_VP_CONTEXT (TLFS
// datatypes/hv_initial_vp_context.md): the state a VP starts with on its
// first entry into a newly enabled VTL. 224 bytes.
type InitialVPContext struct {
	Rip, Rsp, Rflags                 uint64
	Cs, Ds, Es, Fs, Gs, Ss, Tr, Ldtr SegmentRegister
	Idtr, Gdtr                       TableRegister
	Efer, Cr0, Cr3, Cr4, MsrCrPat    uint64
}

// InitialVPContextSize is sizeof(HV_INITIAL_VP_CONTEXT).
const InitialVPContextSize = 224

func putSeg(b []byte, s SegmentRegister) {
	le.PutUint64(b[0:], s.Base)
	le.PutUint32(b[8:], s.Limit)
	le.PutUint16(b[12:], s.Selector)
	le.PutUint16(b[14:], s.Attributes)
}

func getSeg(b []byte) SegmentRegister {
	return SegmentRegister{Base: le.Uint64(b[0:]), Limit: le.Uint32(b[8:]), Selector: le.Uint16(b[12:]), Attributes: le.Uint16(b[14:])}
}

func putTable(b []byte, t TableRegister) {
	clear(b[0:6])
	le.PutUint16(b[6:], t.Limit)
	le.PutUint64(b[8:], t.Base)
}

func getTable(b []byte) TableRegister {
	return TableRegister{Limit: le.Uint16(b[6:]), Base: le.Uint64(b[8:])}
}

// Encode writes c into b (at least InitialVPContextSize bytes): Rip at 0,
// Rsp 8, Rflags 16, the eight segment registers from 24 (16 bytes each, in
// the order Cs Ds Es Fs Gs Ss Tr Ldtr), Idtr at 152, Gdtr at 168, then
// Efer 184, Cr0 192, Cr3 200, Cr4 208, MsrCrPat 216.
func (c *InitialVPContext) Encode(b []byte) {
	le.PutUint64(b[0:], c.Rip)
	le.PutUint64(b[8:], c.Rsp)
	le.PutUint64(b[16:], c.Rflags)
	for i, s := range [...]SegmentRegister{c.Cs, c.Ds, c.Es, c.Fs, c.Gs, c.Ss, c.Tr, c.Ldtr} {
		putSeg(b[24+16*i:], s)
	}
	putTable(b[152:], c.Idtr)
	putTable(b[168:], c.Gdtr)
	for i, v := range [...]uint64{c.Efer, c.Cr0, c.Cr3, c.Cr4, c.MsrCrPat} {
		le.PutUint64(b[184+8*i:], v)
	}
}

// DecodeInitialVPContext is the inverse of Encode.
func DecodeInitialVPContext(b []byte) InitialVPContext {
	var c InitialVPContext
	c.Rip, c.Rsp, c.Rflags = le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	segs := [...]*SegmentRegister{&c.Cs, &c.Ds, &c.Es, &c.Fs, &c.Gs, &c.Ss, &c.Tr, &c.Ldtr}
	for i, s := range segs {
		*s = getSeg(b[24+16*i:])
	}
	c.Idtr, c.Gdtr = getTable(b[152:]), getTable(b[168:])
	regs := [...]*uint64{&c.Efer, &c.Cr0, &c.Cr3, &c.Cr4, &c.MsrCrPat}
	for i, r := range regs {
		*r = le.Uint64(b[184+8*i:])
	}
	return c
}

// EncodeEnableVpVtl writes HvCallEnableVpVtl's input (TLFS
// hypercalls/HvCallEnableVpVtl.md: TargetPartitionId at 0, VpIndex at 8
// (4), TargetVtl at 12 (1), RsvdZ 13-15, VpVtlContext at 16 (224)).
func EncodeEnableVpVtl(in []byte, partition uint64, vp uint32, vtl uint8, ctx *InitialVPContext) {
	putHeader(in, partition, vp, vtl)
	ctx.Encode(in[headerSize : headerSize+InitialVPContextSize])
}

// DecodeEnableVpVtl is the hypervisor's side.
func DecodeEnableVpVtl(in []byte) (partition uint64, vp uint32, vtl uint8, ctx InitialVPContext, err error) {
	partition, vp, vtl = le.Uint64(in[0:]), le.Uint32(in[8:]), in[12]
	if in[13]|in[14]|in[15] != 0 {
		return partition, vp, vtl, ctx, fmt.Errorf("hv: RsvdZ bytes 13-15 of HvCallEnableVpVtl input are set")
	}
	return partition, vp, vtl, DecodeInitialVPContext(in[headerSize:]), nil
}
