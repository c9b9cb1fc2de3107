package guestmsg

import "fmt"

// MsgType is a guest message type (SNP Firmware ABI, "Guest Messages",
// message type table). A response's type is its request's plus one.
type MsgType uint8

// Message types.
const (
	MsgInvalid        MsgType = 0
	MsgCPUIDReq       MsgType = 1
	MsgCPUIDRsp       MsgType = 2
	MsgKeyReq         MsgType = 3
	MsgKeyRsp         MsgType = 4
	MsgReportReq      MsgType = 5
	MsgReportRsp      MsgType = 6
	MsgExportReq      MsgType = 7
	MsgExportRsp      MsgType = 8
	MsgImportReq      MsgType = 9
	MsgImportRsp      MsgType = 10
	MsgAbsorbReq      MsgType = 11
	MsgAbsorbRsp      MsgType = 12
	MsgVMRKReq        MsgType = 13
	MsgVMRKRsp        MsgType = 14
	MsgAbsorbNoMAReq  MsgType = 15
	MsgAbsorbNoMARsp  MsgType = 16
	MsgTSCInfoReq     MsgType = 17
	MsgTSCInfoRsp     MsgType = 18
	lastKnownMsgType          = MsgTSCInfoRsp
	responseTypeDelta         = 1
)

var msgTypeNames = [...]string{
	"MSG_INVALID", "MSG_CPUID_REQ", "MSG_CPUID_RSP", "MSG_KEY_REQ", "MSG_KEY_RSP",
	"MSG_REPORT_REQ", "MSG_REPORT_RSP", "MSG_EXPORT_REQ", "MSG_EXPORT_RSP",
	"MSG_IMPORT_REQ", "MSG_IMPORT_RSP", "MSG_ABSORB_REQ", "MSG_ABSORB_RSP",
	"MSG_VMRK_REQ", "MSG_VMRK_RSP", "MSG_ABSORB_NOMA_REQ", "MSG_ABSORB_NOMA_RSP",
	"MSG_TSC_INFO_REQ", "MSG_TSC_INFO_RSP",
}

func (t MsgType) String() string {
	if t <= lastKnownMsgType {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// IsRequest reports whether t is a known request type.
func (t MsgType) IsRequest() bool { return t != MsgInvalid && t <= lastKnownMsgType && t%2 == 1 }

// Response returns the response type that answers request type t.
func (t MsgType) Response() MsgType { return t + responseTypeDelta }

// FirmwareStatus is a PSP status code: the STATUS field of a response
// payload, or SW_EXITINFO2[31:0] after a guest request exit (SNP Firmware
// ABI, status code table).
type FirmwareStatus uint32

// Status codes that guest messages return.
const (
	StatusSuccess            FirmwareStatus = 0x00
	StatusInvalidPlatform    FirmwareStatus = 0x01
	StatusInvalidGuestState  FirmwareStatus = 0x02
	StatusInvalidConfig      FirmwareStatus = 0x03
	StatusInvalidLength      FirmwareStatus = 0x04
	StatusInvalidAddress     FirmwareStatus = 0x09
	StatusInvalidGuest       FirmwareStatus = 0x10
	StatusUnsupported        FirmwareStatus = 0x15
	StatusInvalidParam       FirmwareStatus = 0x16
	StatusResourceLimit      FirmwareStatus = 0x17
	StatusInvalidPageState   FirmwareStatus = 0x1A
	StatusAEADOverflow       FirmwareStatus = 0x1D
	StatusInvalidKeySelected FirmwareStatus = 0x27
)

var statusNames = [...]string{
	StatusSuccess:            "SUCCESS",
	StatusInvalidPlatform:    "INVALID_PLATFORM_STATE",
	StatusInvalidGuestState:  "INVALID_GUEST_STATE",
	StatusInvalidConfig:      "INVALID_CONFIG",
	StatusInvalidLength:      "INVALID_LENGTH",
	StatusInvalidAddress:     "INVALID_ADDRESS",
	StatusInvalidGuest:       "INVALID_GUEST",
	StatusUnsupported:        "UNSUPPORTED",
	StatusInvalidParam:       "INVALID_PARAM",
	StatusResourceLimit:      "RESOURCE_LIMIT",
	StatusInvalidPageState:   "INVALID_PAGE_STATE",
	StatusAEADOverflow:       "AEAD_OFLOW",
	StatusInvalidKeySelected: "INVALID_KEY",
}

func (s FirmwareStatus) String() string {
	if uint64(s) < uint64(len(statusNames)) && statusNames[s] != "" {
		return fmt.Sprintf("%s (%#x)", statusNames[s], uint32(s))
	}
	return fmt.Sprintf("firmware status %#x", uint32(s))
}

// VMMError is the hypervisor's part of a guest request result:
// SW_EXITINFO2[63:32] (GHCB spec sections 4.1.7 and 4.1.8).
type VMMError uint32

// VMM error codes.
const (
	VMMOK VMMError = 0
	// VMMInvalidLength: the certificate buffer of an extended request is
	// too small; RBX holds the number of pages needed. The request was not
	// passed to the PSP.
	VMMInvalidLength VMMError = 1
	// VMMBusy: the hypervisor could not pass the request to the PSP now;
	// try again.
	VMMBusy VMMError = 2
)

func (e VMMError) String() string {
	switch e {
	case VMMOK:
		return "no VMM error"
	case VMMInvalidLength:
		return "certificate buffer too small"
	case VMMBusy:
		return "busy"
	}
	return fmt.Sprintf("VMM error %#x", uint32(e))
}
