// Package ghcb is the Guest-Hypervisor Communication Block: the 4 KiB page
// an SEV-ES/SNP guest shares with the hypervisor to describe a
// non-automatic exit (NAE) event and receive its result.
//
// Layouts follow "SEV-ES Guest-Hypervisor Communication Block
// Standardization" (AMD publication 56421), section 2.3 "GHCB" and its table
// "GHCB Layout"; exit codes and results follow section 4 "Non-Automatic
// Exit Events".
//
// The guest writes its inputs straight into the shared page and reads
// each output once (raw.go; the one exit path is snp's Platform.issue).
// The GHCB struct, a whole page decoded, is the hypervisor's view: the
// fake hypervisor of snp/snptest and the tests use it.
//
// Goroutine context: this file and exit.go (they format and allocate);
// raw.go is the trap-context part.
package ghcb

import (
	"encoding/binary"
	"fmt"
)

// PageSize is the size of the GHCB page (GHCB spec section 2.3).
const PageSize = 4096

// Page is the raw shared GHCB page.
type Page [PageSize]byte

// Field is a 64-bit save-area field, named by its byte offset in the GHCB
// (GHCB spec section 2.3, table "GHCB Layout"). Its valid-bitmap bit is
// offset/8.
type Field uint16

// Save-area fields Cocoon uses (GHCB spec section 2.3, table "GHCB Layout").
const (
	FieldRAX         Field = 0x1F8
	FieldRCX         Field = 0x308
	FieldRDX         Field = 0x310
	FieldRBX         Field = 0x318
	FieldSwExitCode  Field = 0x390
	FieldSwExitInfo1 Field = 0x398
	FieldSwExitInfo2 Field = 0x3A0
	FieldSwScratch   Field = 0x3A8
	FieldXCR0        Field = 0x3E8
)

// Other regions of the page (GHCB spec section 2.3, table "GHCB Layout").
const (
	ValidBitmapOffset     = 0x3F0 // 16 bytes: one bit per save-area qword
	ValidBitmapSize       = 16
	SharedBufferOffset    = 0x800
	SharedBufferSize      = 0x7F0 // 2032 bytes, up to 0xFF0
	ProtocolVersionOffset = 0xFFA // uint16
	UsageOffset           = 0xFFC // uint32
)

// Usage is the GHCB usage field (GHCB spec section 2.3, table "GHCB
// Layout", offset 0xFFC).
type Usage uint32

// UsageStandard is the only usage this package speaks: the GHCB holds an
// NAE event in the standard format.
const UsageStandard Usage = 0

var fieldNames = map[Field]string{
	FieldRAX:         "RAX",
	FieldRCX:         "RCX",
	FieldRDX:         "RDX",
	FieldRBX:         "RBX",
	FieldSwExitCode:  "SW_EXITCODE",
	FieldSwExitInfo1: "SW_EXITINFO1",
	FieldSwExitInfo2: "SW_EXITINFO2",
	FieldSwScratch:   "SW_SCRATCH",
	FieldXCR0:        "XCR0",
}

func (f Field) String() string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	return fmt.Sprintf("GHCB field %#x", uint16(f))
}

// bit is f's index in the valid bitmap (GHCB spec section 2.3: "bit n of
// the valid bitmap covers the qword at offset 8*n").
func (f Field) bit() uint { return uint(f) / 8 }

// ValidBitmap records which save-area fields hold meaningful values (GHCB
// spec section 2.3, offset 0x3F0). Bit n covers the qword at offset 8*n.
type ValidBitmap [2]uint64

// Set marks f valid.
func (b *ValidBitmap) Set(f Field) { b[f.bit()/64] |= 1 << (f.bit() % 64) }

// IsSet reports whether f is marked valid.
func (b *ValidBitmap) IsSet(f Field) bool { return b[f.bit()/64]&(1<<(f.bit()%64)) != 0 }

// GHCB is the guest-private image of a GHCB page: the save-area fields
// Cocoon uses, the valid bitmap, the shared buffer, and the trailer.
type GHCB struct {
	RAX, RBX, RCX, RDX uint64
	SwExitCode         uint64
	SwExitInfo1        uint64
	SwExitInfo2        uint64
	SwScratch          uint64
	XCR0               uint64

	Valid           ValidBitmap
	SharedBuffer    [SharedBufferSize]byte
	ProtocolVersion uint16
	Usage           Usage
}

func (g *GHCB) field(f Field) *uint64 {
	switch f {
	case FieldRAX:
		return &g.RAX
	case FieldRBX:
		return &g.RBX
	case FieldRCX:
		return &g.RCX
	case FieldRDX:
		return &g.RDX
	case FieldSwExitCode:
		return &g.SwExitCode
	case FieldSwExitInfo1:
		return &g.SwExitInfo1
	case FieldSwExitInfo2:
		return &g.SwExitInfo2
	case FieldSwScratch:
		return &g.SwScratch
	case FieldXCR0:
		return &g.XCR0
	}
	panic(fmt.Sprintf("ghcb: %v is not a field this package encodes", f))
}

// Fields lists every save-area field GHCB encodes, in offset order.
var Fields = []Field{
	FieldRAX, FieldRCX, FieldRDX, FieldRBX,
	FieldSwExitCode, FieldSwExitInfo1, FieldSwExitInfo2, FieldSwScratch,
	FieldXCR0,
}

// Set stores v in f and marks f valid.
func (g *GHCB) Set(f Field, v uint64) {
	*g.field(f) = v
	g.Valid.Set(f)
}

// MissingFieldError reports an output field the hypervisor did not mark
// valid.
type MissingFieldError struct {
	Exit  ExitCode
	Field Field
}

func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("GHCB %v exit: hypervisor did not mark %v valid", e.Exit, e.Field)
}

// Get returns f if the valid bitmap marks it valid.
func (g *GHCB) Get(f Field) (uint64, error) {
	if !g.Valid.IsSet(f) {
		return 0, &MissingFieldError{Exit: ExitCode(g.SwExitCode), Field: f}
	}
	return *g.field(f), nil
}

// Marshal writes the full page image of g into p; bytes of fields this
// package does not encode are zeroed.
func (g *GHCB) Marshal(p *Page) {
	*p = Page{}
	for _, f := range Fields {
		binary.LittleEndian.PutUint64(p[f:], *g.field(f))
	}
	binary.LittleEndian.PutUint64(p[ValidBitmapOffset:], g.Valid[0])
	binary.LittleEndian.PutUint64(p[ValidBitmapOffset+8:], g.Valid[1])
	copy(p[SharedBufferOffset:SharedBufferOffset+SharedBufferSize], g.SharedBuffer[:])
	binary.LittleEndian.PutUint16(p[ProtocolVersionOffset:], g.ProtocolVersion)
	binary.LittleEndian.PutUint32(p[UsageOffset:], uint32(g.Usage))
}

// Unmarshal reads g from p, reading each byte of p at most once.
func (g *GHCB) Unmarshal(p *Page) {
	for _, f := range Fields {
		*g.field(f) = binary.LittleEndian.Uint64(p[f:])
	}
	g.Valid[0] = binary.LittleEndian.Uint64(p[ValidBitmapOffset:])
	g.Valid[1] = binary.LittleEndian.Uint64(p[ValidBitmapOffset+8:])
	copy(g.SharedBuffer[:], p[SharedBufferOffset:SharedBufferOffset+SharedBufferSize])
	g.ProtocolVersion = binary.LittleEndian.Uint16(p[ProtocolVersionOffset:])
	g.Usage = Usage(binary.LittleEndian.Uint32(p[UsageOffset:]))
}
