// Package psc builds and checks SNP Page State Change requests: the buffer
// a guest places in the GHCB shared buffer to ask the hypervisor to change
// RMP page assignments, and the loop that drives it to completion against
// a hypervisor that may process only part of it, or lie.
//
// Layouts follow "SEV-ES Guest-Hypervisor Communication Block
// Standardization" (AMD publication 56421), section 4.1.6 "SNP Page State
// Change" and its tables of the Page State Change header and entry.
package psc

import (
	"encoding/binary"
	"fmt"

	"github.com/cocoon-vm/cocoon/snp/ghcb"
)

// Buffer layout (GHCB spec section 4.1.6, "Page State Change Header" and
// "Page State Change Entry").
const (
	HeaderSize = 8 // cur_entry uint16, end_entry uint16, reserved uint32
	EntrySize  = 8 // one packed uint64 per entry
	// MaxEntries is how many entries fit in the GHCB shared buffer.
	MaxEntries = (ghcb.SharedBufferSize - HeaderSize) / EntrySize // 253

	headerCurEntry = 0
	headerEndEntry = 2
)

// Entry bit fields (GHCB spec section 4.1.6, "Page State Change Entry").
const (
	entryCurPageMask = 1<<12 - 1 // bits 11:0  current 4 KiB page within the entry
	entryGFNShift    = 12        // bits 51:12 guest frame number
	entryGFNBits     = 40
	entryOpShift     = 52 // bits 55:52 operation
	entrySizeShift   = 56 // bit 56     page size
	entryReserved    = uint64(1<<7-1) << 57
)

// Operation is the page state an entry asks for (GHCB spec section 4.1.6).
type Operation uint8

// Operations.
const (
	OpPrivate Operation = 1 // page assignment, private
	OpShared  Operation = 2 // page assignment, shared
	OpPSMASH  Operation = 3 // split a 2 MiB RMP entry into 4 KiB entries
	OpUNSMASH Operation = 4 // merge 4 KiB RMP entries into a 2 MiB entry
)

func (op Operation) String() string {
	switch op {
	case OpPrivate:
		return "private"
	case OpShared:
		return "shared"
	case OpPSMASH:
		return "PSMASH"
	case OpUNSMASH:
		return "UNSMASH"
	}
	return fmt.Sprintf("Operation(%d)", uint8(op))
}

// PageSize is the size of the page an entry covers (GHCB spec section
// 4.1.6, entry bit 56).
type PageSize uint8

// Page sizes.
const (
	Size4K PageSize = 0
	Size2M PageSize = 1
)

// Pages returns how many 4 KiB pages a page of size s spans.
func (s PageSize) Pages() uint16 {
	if s == Size2M {
		return 512
	}
	return 1
}

// Header is the Page State Change header.
type Header struct {
	CurEntry uint16 // first entry not yet processed
	EndEntry uint16 // index of the last entry
}

// Entry is one Page State Change entry.
type Entry struct {
	CurPage uint16 // 4 KiB pages of a 2 MiB entry already processed
	GFN     uint64
	Op      Operation
	Size    PageSize
}

func (e Entry) encode() (uint64, error) {
	switch {
	case e.CurPage > entryCurPageMask:
		return 0, fmt.Errorf("page state entry: cur_page %d does not fit 12 bits", e.CurPage)
	case e.GFN >= 1<<entryGFNBits:
		return 0, fmt.Errorf("page state entry: GFN %#x does not fit 40 bits", e.GFN)
	case e.Op < OpPrivate || e.Op > OpUNSMASH:
		return 0, fmt.Errorf("page state entry: invalid operation %d", e.Op)
	case e.Size > Size2M:
		return 0, fmt.Errorf("page state entry: invalid page size %d", e.Size)
	}
	return uint64(e.CurPage) | e.GFN<<entryGFNShift | uint64(e.Op)<<entryOpShift | uint64(e.Size)<<entrySizeShift, nil
}

func decodeEntry(v uint64) (Entry, error) {
	if v&entryReserved != 0 {
		return Entry{}, fmt.Errorf("page state entry %#016x: reserved bits 63:57 set", v)
	}
	return Entry{
		CurPage: uint16(v & entryCurPageMask),
		GFN:     v >> entryGFNShift & (1<<entryGFNBits - 1),
		Op:      Operation(v >> entryOpShift & 0xF),
		Size:    PageSize(v >> entrySizeShift & 1),
	}, nil
}

// Buffer is a whole Page State Change request.
type Buffer struct {
	Header  Header
	Entries []Entry // Entries[0:Header.EndEntry+1]
}

// NewBuffer returns a buffer asking for entries, starting at the first.
func NewBuffer(entries []Entry) (*Buffer, error) {
	if len(entries) == 0 || len(entries) > MaxEntries {
		return nil, fmt.Errorf("page state change: %d entries, want 1 to %d", len(entries), MaxEntries)
	}
	return &Buffer{
		Header:  Header{CurEntry: 0, EndEntry: uint16(len(entries) - 1)},
		Entries: append([]Entry(nil), entries...),
	}, nil
}

// Size returns the encoded size of b in bytes.
func (b *Buffer) Size() int { return HeaderSize + EntrySize*len(b.Entries) }

// Marshal encodes b into dst, which must hold b.Size() bytes.
func (b *Buffer) Marshal(dst []byte) error {
	if len(b.Entries) == 0 || len(b.Entries) > MaxEntries || int(b.Header.EndEntry) != len(b.Entries)-1 {
		return fmt.Errorf("page state change: end_entry %d with %d entries", b.Header.EndEntry, len(b.Entries))
	}
	if len(dst) < b.Size() {
		return fmt.Errorf("page state change: %d-byte buffer for %d bytes", len(dst), b.Size())
	}
	binary.LittleEndian.PutUint16(dst[headerCurEntry:], b.Header.CurEntry)
	binary.LittleEndian.PutUint16(dst[headerEndEntry:], b.Header.EndEntry)
	binary.LittleEndian.PutUint32(dst[4:], 0)
	for i, e := range b.Entries {
		v, err := e.encode()
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		binary.LittleEndian.PutUint64(dst[HeaderSize+EntrySize*i:], v)
	}
	return nil
}

// Unmarshal decodes a buffer from src, reading each byte once. It checks
// the header's bounds and the entries' reserved bits, not that the entries
// are those the guest sent (see Check).
func Unmarshal(src []byte) (*Buffer, error) {
	if len(src) < HeaderSize {
		return nil, fmt.Errorf("page state change: %d bytes, shorter than the header", len(src))
	}
	h := Header{
		CurEntry: binary.LittleEndian.Uint16(src[headerCurEntry:]),
		EndEntry: binary.LittleEndian.Uint16(src[headerEndEntry:]),
	}
	n := int(h.EndEntry) + 1
	if n > MaxEntries {
		return nil, fmt.Errorf("page state change: end_entry %d beyond the last slot %d", h.EndEntry, MaxEntries-1)
	}
	if int(h.CurEntry) > n {
		return nil, fmt.Errorf("page state change: cur_entry %d beyond end_entry %d + 1", h.CurEntry, h.EndEntry)
	}
	if len(src) < HeaderSize+EntrySize*n {
		return nil, fmt.Errorf("page state change: %d bytes for %d entries", len(src), n)
	}
	b := &Buffer{Header: h, Entries: make([]Entry, n)}
	for i := range b.Entries {
		e, err := decodeEntry(binary.LittleEndian.Uint64(src[HeaderSize+EntrySize*i:]))
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		b.Entries[i] = e
	}
	return b, nil
}

// Done reports whether every entry has been processed.
func (b *Buffer) Done() bool { return b.Header.CurEntry > b.Header.EndEntry }

// Check validates got, the buffer the hypervisor handed back, against
// sent, the buffer the guest submitted: end_entry and every entry's GFN,
// operation and size are unchanged; cur_entry only moves forward and stays
// within end_entry + 1 (all done); cur_page of the entry in progress only
// moves forward within its page; entries not yet reached are untouched.
// It reports whether the hypervisor made progress.
func Check(sent, got *Buffer) (progress bool, err error) {
	if got.Header.EndEntry != sent.Header.EndEntry || len(got.Entries) != len(sent.Entries) {
		return false, fmt.Errorf("end_entry changed from %d to %d", sent.Header.EndEntry, got.Header.EndEntry)
	}
	if got.Header.CurEntry < sent.Header.CurEntry {
		return false, fmt.Errorf("cur_entry moved back from %d to %d", sent.Header.CurEntry, got.Header.CurEntry)
	}
	if got.Header.CurEntry > sent.Header.EndEntry+1 {
		return false, fmt.Errorf("cur_entry %d beyond end_entry %d + 1", got.Header.CurEntry, sent.Header.EndEntry)
	}
	for i, s := range sent.Entries {
		g := got.Entries[i]
		if g.GFN != s.GFN || g.Op != s.Op || g.Size != s.Size {
			return false, fmt.Errorf("entry %d changed from %+v to %+v", i, s, g)
		}
		switch cur := int(got.Header.CurEntry); {
		case i < cur: // done; cur_page no longer matters
		case i == cur:
			if g.CurPage < s.CurPage || g.CurPage > s.Size.Pages() {
				return false, fmt.Errorf("entry %d: cur_page moved from %d to %d", i, s.CurPage, g.CurPage)
			}
			progress = progress || g.CurPage > s.CurPage
		default:
			if g.CurPage != s.CurPage {
				return false, fmt.Errorf("entry %d not yet reached but cur_page changed from %d to %d", i, s.CurPage, g.CurPage)
			}
		}
	}
	return progress || got.Header.CurEntry > sent.Header.CurEntry, nil
}
