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
