package ghcb

// In-place access to a shared GHCB page for trap context: the #VC handler
// cannot copy 4 KiB images or create errors, so it writes its inputs
// straight into the page and reads each output once. Every function here
// is //go:nosplit and allocates nothing.
//
// Reading an output once into a local is what keeps a hypervisor that
// rewrites the shared page during the check from changing a value after
// it was validated.

import "encoding/binary"

// Clear invalidates every save-area field (GHCB spec section 2.3: the
// hypervisor must only consume fields marked valid) before new inputs.
//
//go:nosplit
func (p *Page) Clear() {
	for i := 0; i < ValidBitmapSize; i++ {
		p[ValidBitmapOffset+i] = 0
	}
}

// Put stores v in field f and marks it valid.
//
//go:nosplit
func (p *Page) Put(f Field, v uint64) {
	binary.LittleEndian.PutUint64(p[f:], v)
	bit := uint(f) / 8
	p[ValidBitmapOffset+bit/8] |= 1 << (bit % 8)
}

// Take reads field f once, and whether the hypervisor marked it valid.
//
//go:nosplit
func (p *Page) Take(f Field) (uint64, bool) {
	bit := uint(f) / 8
	valid := p[ValidBitmapOffset+bit/8]&(1<<(bit%8)) != 0
	return binary.LittleEndian.Uint64(p[f:]), valid
}

// Stamp writes the trailer: protocol version and the standard usage.
//
//go:nosplit
func (p *Page) Stamp(version uint16) {
	binary.LittleEndian.PutUint16(p[ProtocolVersionOffset:], version)
	binary.LittleEndian.PutUint32(p[UsageOffset:], uint32(UsageStandard))
}

// Exchange issues the exit described by g: it stamps the protocol version
// and usage, copies g into the shared page, points the GHCB MSR at the
// page, executes VMGEXIT and copies the page back into g, reading each
// byte once. It allocates nothing and makes no error, whatever the
// hypervisor answers: Check judges the answer afterwards.
//
//go:nosplit
func (b *Block) Exchange(g *GHCB) {
	g.ProtocolVersion = b.version
	g.Usage = UsageStandard
	p := b.page
	*p = Page{}
	le := binary.LittleEndian
	le.PutUint64(p[FieldRAX:], g.RAX)
	le.PutUint64(p[FieldRBX:], g.RBX)
	le.PutUint64(p[FieldRCX:], g.RCX)
	le.PutUint64(p[FieldRDX:], g.RDX)
	le.PutUint64(p[FieldSwExitCode:], g.SwExitCode)
	le.PutUint64(p[FieldSwExitInfo1:], g.SwExitInfo1)
	le.PutUint64(p[FieldSwExitInfo2:], g.SwExitInfo2)
	le.PutUint64(p[FieldSwScratch:], g.SwScratch)
	le.PutUint64(p[FieldXCR0:], g.XCR0)
	le.PutUint64(p[ValidBitmapOffset:], g.Valid[0])
	le.PutUint64(p[ValidBitmapOffset+8:], g.Valid[1])
	copy(p[SharedBufferOffset:SharedBufferOffset+SharedBufferSize], g.SharedBuffer[:])
	le.PutUint16(p[ProtocolVersionOffset:], g.ProtocolVersion)
	le.PutUint32(p[UsageOffset:], uint32(g.Usage))

	b.cpu.WriteGHCBMSR(b.gpa)
	b.cpu.VMGEXIT()

	g.RAX = le.Uint64(p[FieldRAX:])
	g.RBX = le.Uint64(p[FieldRBX:])
	g.RCX = le.Uint64(p[FieldRCX:])
	g.RDX = le.Uint64(p[FieldRDX:])
	g.SwExitCode = le.Uint64(p[FieldSwExitCode:])
	g.SwExitInfo1 = le.Uint64(p[FieldSwExitInfo1:])
	g.SwExitInfo2 = le.Uint64(p[FieldSwExitInfo2:])
	g.SwScratch = le.Uint64(p[FieldSwScratch:])
	g.XCR0 = le.Uint64(p[FieldXCR0:])
	g.Valid[0] = le.Uint64(p[ValidBitmapOffset:])
	g.Valid[1] = le.Uint64(p[ValidBitmapOffset+8:])
	copy(g.SharedBuffer[:], p[SharedBufferOffset:SharedBufferOffset+SharedBufferSize])
	g.ProtocolVersion = le.Uint16(p[ProtocolVersionOffset:])
	g.Usage = Usage(le.Uint32(p[UsageOffset:]))
}
