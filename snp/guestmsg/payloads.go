package guestmsg

import (
	"encoding/binary"
	"fmt"
)

// MsgVersion1 is the message version of every payload here.
const MsgVersion1 = 1

// MSG_REPORT_REQ (SNP Firmware ABI, table "MSG_REPORT_REQ Message
// Structure").
const (
	ReportRequestSize = 0x60
	ReportDataSize    = 64

	offReportData = 0x00 // 64 bytes REPORT_DATA
	offReportVMPL = 0x40 // uint32 VMPL
	offReportKey  = 0x44 // bits 1:0 KEY_SEL; rest reserved
	// 0x48..0x5F reserved
)

// KeySelect chooses the key that signs a report (KEY_SEL) or the root of
// a derived key (KEY_SEL in MSG_KEY_REQ).
type KeySelect uint8

// Key selections.
const (
	KeyDefault KeySelect = 0 // VLEK if installed, else VCEK
	KeyVCEK    KeySelect = 1
	KeyVLEK    KeySelect = 2
)

// ReportRequest is MSG_REPORT_REQ.
type ReportRequest struct {
	ReportData [ReportDataSize]byte
	VMPL       uint32
	KeySel     KeySelect
}

// Marshal encodes r.
func (r *ReportRequest) Marshal() ([]byte, error) {
	if r.KeySel > KeyVLEK {
		return nil, fmt.Errorf("MSG_REPORT_REQ: KEY_SEL %d", r.KeySel)
	}
	b := make([]byte, ReportRequestSize)
	copy(b[offReportData:], r.ReportData[:])
	binary.LittleEndian.PutUint32(b[offReportVMPL:], r.VMPL)
	binary.LittleEndian.PutUint32(b[offReportKey:], uint32(r.KeySel))
	return b, nil
}

// UnmarshalReportRequest decodes MSG_REPORT_REQ (as the PSP would).
func UnmarshalReportRequest(b []byte) (*ReportRequest, error) {
	if len(b) != ReportRequestSize {
		return nil, fmt.Errorf("MSG_REPORT_REQ: %d bytes, want %d", len(b), ReportRequestSize)
	}
	r := &ReportRequest{VMPL: binary.LittleEndian.Uint32(b[offReportVMPL:])}
	copy(r.ReportData[:], b[offReportData:])
	ks := binary.LittleEndian.Uint32(b[offReportKey:])
	if ks > uint32(KeyVLEK) {
		return nil, fmt.Errorf("MSG_REPORT_REQ: KEY_SEL field %#x", ks)
	}
	r.KeySel = KeySelect(ks)
	return r, nil
}

// MSG_REPORT_RSP (SNP Firmware ABI, table "MSG_REPORT_RSP Message
// Structure") and the report it carries (table "ATTESTATION_REPORT
// Structure").
const (
	ReportSize         = 0x4A0
	reportRspHeader    = 0x20
	ReportResponseSize = reportRspHeader + ReportSize // 0x4C0

	offRspStatus     = 0x00 // uint32 STATUS
	offRspReportSize = 0x04 // uint32 REPORT_SIZE
	offRspReport     = 0x20 // REPORT
)

// ReportResponse is MSG_REPORT_RSP.
type ReportResponse struct {
	Status FirmwareStatus
	Report []byte // ReportSize bytes when Status is StatusSuccess
}

// Marshal encodes r (as the PSP would).
func (r *ReportResponse) Marshal() []byte {
	b := make([]byte, reportRspHeader+len(r.Report))
	binary.LittleEndian.PutUint32(b[offRspStatus:], uint32(r.Status))
	binary.LittleEndian.PutUint32(b[offRspReportSize:], uint32(len(r.Report)))
	copy(b[offRspReport:], r.Report)
	return b
}

// UnmarshalReportResponse decodes MSG_REPORT_RSP. A successful response
// must carry exactly one ReportSize-byte report.
func UnmarshalReportResponse(b []byte) (*ReportResponse, error) {
	if len(b) < reportRspHeader {
		return nil, fmt.Errorf("MSG_REPORT_RSP: %d bytes, shorter than its %#x-byte header", len(b), reportRspHeader)
	}
	r := &ReportResponse{Status: FirmwareStatus(binary.LittleEndian.Uint32(b[offRspStatus:]))}
	if r.Status != StatusSuccess {
		return r, nil
	}
	size := binary.LittleEndian.Uint32(b[offRspReportSize:])
	if size != ReportSize || len(b) != ReportResponseSize {
		return nil, fmt.Errorf("MSG_REPORT_RSP: REPORT_SIZE %#x in a %#x-byte payload, want %#x in %#x",
			size, len(b), ReportSize, ReportResponseSize)
	}
	r.Report = append([]byte(nil), b[offRspReport:offRspReport+ReportSize]...)
	return r, nil
}

// MSG_KEY_REQ (SNP Firmware ABI, table "MSG_KEY_REQ Message Structure"),
// message version 1.
const (
	KeyRequestSize = 0x20

	offKeySelect     = 0x00 // bit 0 ROOT_KEY_SELECT, bits 2:1 KEY_SEL
	offKeyFieldSel   = 0x08 // uint64 GUEST_FIELD_SELECT
	offKeyVMPL       = 0x10 // uint32 VMPL
	offKeyGuestSVN   = 0x14 // uint32 GUEST_SVN
	offKeyTCBVersion = 0x18 // uint64 TCB_VERSION

	rootKeyVMRK  = 1 << 0
	keySelShift  = 1
	keySelectMax = 1<<3 - 1
)

// GuestFieldSelect chooses which guest fields are mixed into a derived key
// (SNP Firmware ABI, MSG_KEY_REQ GUEST_FIELD_SELECT).
type GuestFieldSelect uint64

// Guest field selection bits.
const (
	FieldGuestPolicy GuestFieldSelect = 1 << 0
	FieldImageID     GuestFieldSelect = 1 << 1
	FieldFamilyID    GuestFieldSelect = 1 << 2
	FieldMeasurement GuestFieldSelect = 1 << 3
	FieldGuestSVN    GuestFieldSelect = 1 << 4
	FieldTCBVersion  GuestFieldSelect = 1 << 5
)

// KeyRequest is MSG_KEY_REQ.
type KeyRequest struct {
	RootKeyVMRK      bool      // ROOT_KEY_SELECT: VMRK instead of VCEK/VLEK
	KeySel           KeySelect // KEY_SEL
	GuestFieldSelect GuestFieldSelect
	VMPL             uint32
	GuestSVN         uint32
	TCBVersion       uint64
}

// Marshal encodes r.
func (r *KeyRequest) Marshal() ([]byte, error) {
	if r.KeySel > KeyVLEK {
		return nil, fmt.Errorf("MSG_KEY_REQ: KEY_SEL %d", r.KeySel)
	}
	b := make([]byte, KeyRequestSize)
	sel := uint32(r.KeySel) << keySelShift
	if r.RootKeyVMRK {
		sel |= rootKeyVMRK
	}
	binary.LittleEndian.PutUint32(b[offKeySelect:], sel)
	binary.LittleEndian.PutUint64(b[offKeyFieldSel:], uint64(r.GuestFieldSelect))
	binary.LittleEndian.PutUint32(b[offKeyVMPL:], r.VMPL)
	binary.LittleEndian.PutUint32(b[offKeyGuestSVN:], r.GuestSVN)
	binary.LittleEndian.PutUint64(b[offKeyTCBVersion:], r.TCBVersion)
	return b, nil
}

// UnmarshalKeyRequest decodes MSG_KEY_REQ (as the PSP would).
func UnmarshalKeyRequest(b []byte) (*KeyRequest, error) {
	if len(b) != KeyRequestSize {
		return nil, fmt.Errorf("MSG_KEY_REQ: %d bytes, want %d", len(b), KeyRequestSize)
	}
	sel := binary.LittleEndian.Uint32(b[offKeySelect:])
	if sel > keySelectMax || KeySelect(sel>>keySelShift) > KeyVLEK {
		return nil, fmt.Errorf("MSG_KEY_REQ: key selection field %#x", sel)
	}
	return &KeyRequest{
		RootKeyVMRK:      sel&rootKeyVMRK != 0,
		KeySel:           KeySelect(sel >> keySelShift),
		GuestFieldSelect: GuestFieldSelect(binary.LittleEndian.Uint64(b[offKeyFieldSel:])),
		VMPL:             binary.LittleEndian.Uint32(b[offKeyVMPL:]),
		GuestSVN:         binary.LittleEndian.Uint32(b[offKeyGuestSVN:]),
		TCBVersion:       binary.LittleEndian.Uint64(b[offKeyTCBVersion:]),
	}, nil
}

// MSG_KEY_RSP (SNP Firmware ABI, table "MSG_KEY_RSP Message Structure").
const (
	KeyResponseSize = 0x40
	DerivedKeySize  = 32

	offKeyRspStatus = 0x00 // uint32 STATUS
	offDerivedKey   = 0x20 // 32 bytes DERIVED_KEY
)

// KeyResponse is MSG_KEY_RSP.
type KeyResponse struct {
	Status FirmwareStatus
	Key    [DerivedKeySize]byte
}

// Marshal encodes r (as the PSP would).
func (r *KeyResponse) Marshal() []byte {
	b := make([]byte, KeyResponseSize)
	binary.LittleEndian.PutUint32(b[offKeyRspStatus:], uint32(r.Status))
	copy(b[offDerivedKey:], r.Key[:])
	return b
}

// UnmarshalKeyResponse decodes MSG_KEY_RSP.
func UnmarshalKeyResponse(b []byte) (*KeyResponse, error) {
	if len(b) != KeyResponseSize {
		return nil, fmt.Errorf("MSG_KEY_RSP: %d bytes, want %d", len(b), KeyResponseSize)
	}
	r := &KeyResponse{Status: FirmwareStatus(binary.LittleEndian.Uint32(b[offKeyRspStatus:]))}
	if r.Status == StatusSuccess {
		copy(r.Key[:], b[offDerivedKey:])
	}
	return r, nil
}

// MSG_TSC_INFO_REQ and MSG_TSC_INFO_RSP (SNP Firmware ABI, section
// "MSG_TSC_INFO", tables "MSG_TSC_INFO_REQ Message Structure" and
// "MSG_TSC_INFO_RSP Message Structure"): the PSP reports the Secure TSC
// parameters it programmed for the guest at launch. The request is 128
// reserved (zero) bytes; the response is 128 bytes.
const (
	TSCInfoRequestSize  = 0x80
	TSCInfoResponseSize = 0x80

	offTSCStatus = 0x00 // uint32 STATUS
	// 0x04..0x07 reserved
	offTSCScale  = 0x08 // uint64 GUEST_TSC_SCALE: guest TSC ticks per host tick, 8.32 fixed point
	offTSCOffset = 0x10 // uint64 GUEST_TSC_OFFSET: added to the scaled host TSC
	offTSCFactor = 0x18 // uint32 TSC_FACTOR: mean TSC frequency below nominal, in 0.001% units
	// 0x1C..0x7F reserved
)

// TSCInfoRequest returns the MSG_TSC_INFO_REQ payload.
func TSCInfoRequest() []byte { return make([]byte, TSCInfoRequestSize) }

// TSCInfoResponse is MSG_TSC_INFO_RSP.
type TSCInfoResponse struct {
	Status FirmwareStatus
	Scale  uint64
	Offset uint64
	Factor uint32
}

// Marshal encodes r (as the PSP would).
func (r *TSCInfoResponse) Marshal() []byte {
	b := make([]byte, TSCInfoResponseSize)
	binary.LittleEndian.PutUint32(b[offTSCStatus:], uint32(r.Status))
	binary.LittleEndian.PutUint64(b[offTSCScale:], r.Scale)
	binary.LittleEndian.PutUint64(b[offTSCOffset:], r.Offset)
	binary.LittleEndian.PutUint32(b[offTSCFactor:], r.Factor)
	return b
}

// UnmarshalTSCInfoRequest checks a MSG_TSC_INFO_REQ payload (as the PSP
// would): exactly TSCInfoRequestSize bytes, all reserved, all zero.
func UnmarshalTSCInfoRequest(b []byte) error {
	if len(b) != TSCInfoRequestSize {
		return fmt.Errorf("MSG_TSC_INFO_REQ: %d bytes, want %d", len(b), TSCInfoRequestSize)
	}
	for i, v := range b {
		if v != 0 {
			return fmt.Errorf("MSG_TSC_INFO_REQ: reserved byte %#x is %#x", i, v)
		}
	}
	return nil
}

// UnmarshalTSCInfoResponse decodes MSG_TSC_INFO_RSP. The payload must be
// exactly TSCInfoResponseSize bytes whatever its STATUS: a PSP answers
// this message with one fixed structure, so any other size is not its
// answer.
func UnmarshalTSCInfoResponse(b []byte) (*TSCInfoResponse, error) {
	if len(b) != TSCInfoResponseSize {
		return nil, fmt.Errorf("MSG_TSC_INFO_RSP: %d bytes, want %d", len(b), TSCInfoResponseSize)
	}
	r := &TSCInfoResponse{Status: FirmwareStatus(binary.LittleEndian.Uint32(b[offTSCStatus:]))}
	if r.Status == StatusSuccess {
		r.Scale = binary.LittleEndian.Uint64(b[offTSCScale:])
		r.Offset = binary.LittleEndian.Uint64(b[offTSCOffset:])
		r.Factor = binary.LittleEndian.Uint32(b[offTSCFactor:])
	}
	return r, nil
}
