// Package secrets parses the SEV-SNP secrets page: the page the PSP fills at
// launch with the guest's VM platform communication keys (VMPCKs), which
// authenticate and encrypt guest messages to the PSP, and an area the guest
// OS uses for its own bookkeeping.
//
// Layouts follow "SEV Secure Nested Paging Firmware ABI Specification" (AMD
// publication 56860), section "PAGE_TYPE_SECRETS", table of the secrets
// page format (versions 2 and 3), and for the OS area "SEV-ES
// Guest-Hypervisor Communication Block Standardization" (AMD publication
// 56421), section 2.7 "SEV-SNP Secrets Page".
//
// The page and everything parsed from it are secret: keep them in private
// (encrypted) memory only.
package secrets

import (
	"encoding/binary"
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// Secrets page layout (SNP Firmware ABI, secrets page format).
const (
	PageSize = 4096
	KeySize  = 32 // one VMPCK
	NumKeys  = 4  // VMPCK0..VMPCK3, one per VMPL

	offVersion     = 0x000 // uint32
	offFlags       = 0x004 // bit 0 IMIEN; bits 31:1 reserved
	offFMS         = 0x008 // uint32 family/model/stepping
	offGOSVW       = 0x010 // 16 bytes guest OS visible workarounds
	offVMPCK0      = 0x020 // VMPCK0..3, 32 bytes each
	offOSArea      = 0x0A0 // 96 bytes for the guest OS
	offTweakBitmap = 0x100 // version 3: 64-byte VMSA register protection tweak bitmap
	offTSCFactor   = OffsetTSCFactor

	flagIMIEN = 1 << 0
)

// OffsetTSCFactor is where a version 3 page holds TSC_FACTOR (uint32):
// how far, in units of 0.001%, the mean TSC frequency of a Secure TSC
// guest lies below the nominal one GUEST_TSC_FREQ reports.
const OffsetTSCFactor = 0x160

// OS area layout (GHCB spec section 2.7, "SEV-SNP Secrets Page").
const (
	OSAreaSize = 96

	offSeqNoLo       = 0x00 // 4 x uint32: low halves of the VMPCK0..3 message sequence numbers
	offAPJumpTable   = 0x10 // uint64: AP jump table physical address
	offSeqNoHi       = 0x18 // 4 x uint32: high halves
	offOSAreaVersion = 0x3E // uint16: OS area version
	offGuestUsage    = 0x40 // 32 bytes for guest use
)

// Secrets page versions this package understands.
const (
	Version2 = 2
	Version3 = 3
)

// OSArea is the guest-OS-defined part of the secrets page.
type OSArea struct {
	// MsgSeqNo holds, per VMPCK, the sequence number of the last guest
	// message exchanged with that key, for handing over between boot stages.
	MsgSeqNo      [NumKeys]uint64
	APJumpTablePA uint64
	Version       uint16
	GuestUsage    [32]byte
}

// Page is a parsed secrets page.
type Page struct {
	Version    uint32
	IMIEnabled bool // launched with IMI (image migration); guest is an IMI target
	FMS        uint32
	GOSVW      [16]byte
	VMPCK      [NumKeys][KeySize]byte
	OSArea     OSArea
	// Version 3 only.
	VMSATweakBitmap [64]byte
	TSCFactor       uint32
}

// FormatError reports a secrets page this package cannot use.
type FormatError struct {
	Reason string
}

func (e *FormatError) Error() string { return "SNP secrets page: " + e.Reason }

// TerminationReason implements ghcbmsr.Terminal.
func (e *FormatError) TerminationReason() ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonSecretsPage}
}

// Parse decodes a secrets page of version 2 or 3.
func Parse(b []byte) (*Page, error) {
	if len(b) < PageSize {
		return nil, &FormatError{fmt.Sprintf("%d bytes, want %d", len(b), PageSize)}
	}
	p := &Page{
		Version:    binary.LittleEndian.Uint32(b[offVersion:]),
		IMIEnabled: binary.LittleEndian.Uint32(b[offFlags:])&flagIMIEN != 0,
		FMS:        binary.LittleEndian.Uint32(b[offFMS:]),
	}
	if p.Version != Version2 && p.Version != Version3 {
		return nil, &FormatError{fmt.Sprintf("version %d, want %d or %d", p.Version, Version2, Version3)}
	}
	copy(p.GOSVW[:], b[offGOSVW:])
	for i := range p.VMPCK {
		copy(p.VMPCK[i][:], b[offVMPCK0+KeySize*i:])
	}
	os := b[offOSArea : offOSArea+OSAreaSize]
	for i := range p.OSArea.MsgSeqNo {
		lo := binary.LittleEndian.Uint32(os[offSeqNoLo+4*i:])
		hi := binary.LittleEndian.Uint32(os[offSeqNoHi+4*i:])
		p.OSArea.MsgSeqNo[i] = uint64(hi)<<32 | uint64(lo)
	}
	p.OSArea.APJumpTablePA = binary.LittleEndian.Uint64(os[offAPJumpTable:])
	p.OSArea.Version = binary.LittleEndian.Uint16(os[offOSAreaVersion:])
	copy(p.OSArea.GuestUsage[:], os[offGuestUsage:])
	if p.Version >= Version3 {
		copy(p.VMSATweakBitmap[:], b[offTweakBitmap:])
		p.TSCFactor = binary.LittleEndian.Uint32(b[offTSCFactor:])
	}
	return p, nil
}

// Marshal encodes p as a secrets page (as the PSP, or a simulation of it,
// would lay it out).
func (p *Page) Marshal() []byte {
	b := make([]byte, PageSize)
	binary.LittleEndian.PutUint32(b[offVersion:], p.Version)
	if p.IMIEnabled {
		binary.LittleEndian.PutUint32(b[offFlags:], flagIMIEN)
	}
	binary.LittleEndian.PutUint32(b[offFMS:], p.FMS)
	copy(b[offGOSVW:], p.GOSVW[:])
	for i := range p.VMPCK {
		copy(b[offVMPCK0+KeySize*i:], p.VMPCK[i][:])
	}
	os := b[offOSArea : offOSArea+OSAreaSize]
	for i, n := range p.OSArea.MsgSeqNo {
		binary.LittleEndian.PutUint32(os[offSeqNoLo+4*i:], uint32(n))
		binary.LittleEndian.PutUint32(os[offSeqNoHi+4*i:], uint32(n>>32))
	}
	binary.LittleEndian.PutUint64(os[offAPJumpTable:], p.OSArea.APJumpTablePA)
	binary.LittleEndian.PutUint16(os[offOSAreaVersion:], p.OSArea.Version)
	copy(os[offGuestUsage:], p.OSArea.GuestUsage[:])
	if p.Version >= Version3 {
		copy(b[offTweakBitmap:], p.VMSATweakBitmap[:])
		binary.LittleEndian.PutUint32(b[offTSCFactor:], p.TSCFactor)
	}
	return b
}

// Key returns VMPCK index i. An all-zero key is how a key is absent or has
// been wiped, so it is an error.
func (p *Page) Key(i int) ([]byte, error) {
	if i < 0 || i >= NumKeys {
		return nil, fmt.Errorf("SNP secrets page: no VMPCK%d", i)
	}
	if p.VMPCK[i] == ([KeySize]byte{}) {
		return nil, fmt.Errorf("SNP secrets page: VMPCK%d is all zero (absent or wiped)", i)
	}
	return p.VMPCK[i][:], nil
}
