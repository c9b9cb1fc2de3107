// Package guestmsg implements SEV-SNP guest messages: the AES-256-GCM
// sealed requests a guest sends to the PSP (attestation reports, derived
// keys) and the responses it gets back, and a Channel that owns one VMPCK
// and its message sequence numbers.
//
// Layouts follow "SEV Secure Nested Paging Firmware ABI Specification" (AMD
// publication 56860), chapter "Guest Messages": the message header table,
// the message type table, and the MSG_REPORT_REQ/RSP and MSG_KEY_REQ/RSP
// tables. The GHCB transport follows "SEV-ES Guest-Hypervisor Communication
// Block Standardization" (AMD publication 56421), sections 4.1.7 "SNP Guest
// Request" and 4.1.8 "SNP Extended Guest Request".
package guestmsg

import (
	"encoding/binary"
	"fmt"
)

// Message header layout (SNP Firmware ABI, "Guest Messages", message
// header table).
const (
	HeaderSize = 0x60

	offAuthTag    = 0x00 // 32 bytes; AES-256-GCM uses the first 16
	offSeqNo      = 0x20 // uint64 MSG_SEQNO
	offAlgo       = 0x30 // uint8 ALGO
	offHdrVersion = 0x31 // uint8 HDR_VERSION
	offHdrSize    = 0x32 // uint16 HDR_SIZE
	offMsgType    = 0x34 // uint8 MSG_TYPE
	offMsgVersion = 0x35 // uint8 MSG_VERSION
	offMsgSize    = 0x36 // uint16 MSG_SIZE
	offVMPCK      = 0x3C // uint8 MSG_VMPCK
	// 0x28..0x2F, 0x38..0x3B and 0x3D..0x5F are reserved.

	// AADOffset is where the additional authenticated data starts: header
	// bytes 0x30..0x5F (SNP Firmware ABI, "Guest Messages": the AAD is the
	// header from ALGO to its end).
	AADOffset = offAlgo

	AuthTagSize = 32
	TagSize     = 16 // AES-256-GCM tag length

	// MaxMessageSize is the largest sealed message: one 4 KiB page.
	MaxMessageSize = 4096
	// MaxPayloadSize is the largest payload that fits with the header.
	MaxPayloadSize = MaxMessageSize - HeaderSize
)

// Algo is the message encryption algorithm (SNP Firmware ABI, ALGO field).
type Algo uint8

// Algorithms.
const (
	AlgoInvalid   Algo = 0
	AlgoAES256GCM Algo = 1
)

// HeaderVersion is the only header version defined (HDR_VERSION).
const HeaderVersion = 1

// Header is a guest message header.
type Header struct {
	AuthTag    [AuthTagSize]byte
	SeqNo      uint64
	Algo       Algo
	HdrVersion uint8
	HdrSize    uint16
	Type       MsgType
	Version    uint8
	Size       uint16 // payload size in bytes
	VMPCK      uint8  // index of the VMPCK that seals the message
}

// Marshal encodes h into the first HeaderSize bytes of dst; reserved bytes
// are zeroed.
func (h *Header) Marshal(dst []byte) {
	clear(dst[:HeaderSize])
	copy(dst[offAuthTag:], h.AuthTag[:])
	binary.LittleEndian.PutUint64(dst[offSeqNo:], h.SeqNo)
	dst[offAlgo] = byte(h.Algo)
	dst[offHdrVersion] = h.HdrVersion
	binary.LittleEndian.PutUint16(dst[offHdrSize:], h.HdrSize)
	dst[offMsgType] = byte(h.Type)
	dst[offMsgVersion] = h.Version
	binary.LittleEndian.PutUint16(dst[offMsgSize:], h.Size)
	dst[offVMPCK] = h.VMPCK
}

// UnmarshalHeader decodes a header from src without checking it.
func UnmarshalHeader(src []byte) (Header, error) {
	if len(src) < HeaderSize {
		return Header{}, fmt.Errorf("guest message: %d bytes, shorter than the %#x-byte header", len(src), HeaderSize)
	}
	var h Header
	copy(h.AuthTag[:], src[offAuthTag:])
	h.SeqNo = binary.LittleEndian.Uint64(src[offSeqNo:])
	h.Algo = Algo(src[offAlgo])
	h.HdrVersion = src[offHdrVersion]
	h.HdrSize = binary.LittleEndian.Uint16(src[offHdrSize:])
	h.Type = MsgType(src[offMsgType])
	h.Version = src[offMsgVersion]
	h.Size = binary.LittleEndian.Uint16(src[offMsgSize:])
	h.VMPCK = src[offVMPCK]
	return h, nil
}

// check validates the fields every sealed message must carry.
func (h *Header) check() error {
	switch {
	case h.Algo != AlgoAES256GCM:
		return fmt.Errorf("guest message: algorithm %d, want %d (AES-256-GCM)", h.Algo, AlgoAES256GCM)
	case h.HdrVersion != HeaderVersion:
		return fmt.Errorf("guest message: header version %d, want %d", h.HdrVersion, HeaderVersion)
	case h.HdrSize != HeaderSize:
		return fmt.Errorf("guest message: header size %#x, want %#x", h.HdrSize, HeaderSize)
	case h.Size > MaxPayloadSize:
		return fmt.Errorf("guest message: payload size %d above %d", h.Size, MaxPayloadSize)
	}
	return nil
}
