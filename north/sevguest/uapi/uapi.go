// Package uapi is Linux's /dev/sev-guest interface as an application sees
// it: the ioctl numbers and the structures of include/uapi/linux/sev-guest.h
// (Linux 6.x), with explicit layouts. The driver (north/sevguest) and the
// application-side client (north/attest) share it.
package uapi

import "encoding/binary"

// Ioctl numbers: _IOWR('S', nr, struct snp_guest_request_ioctl).
const (
	iocWrite    = 1
	iocRead     = 2
	iocType     = 'S'
	iocDirShift = 30
	iocSzShift  = 16
	iocTyShift  = 8

	requestBase = (iocWrite|iocRead)<<iocDirShift | RequestSize<<iocSzShift | iocType<<iocTyShift

	SNPGetReport     = requestBase       // SNP_GET_REPORT, nr 0x0
	SNPGetDerivedKey = requestBase | 0x1 // SNP_GET_DERIVED_KEY
	SNPGetExtReport  = requestBase | 0x2 // SNP_GET_EXT_REPORT
)

// Structure sizes.
const (
	RequestSize        = 32   // struct snp_guest_request_ioctl
	ReportReqSize      = 96   // struct snp_report_req
	ReportRespSize     = 4000 // struct snp_report_resp
	DerivedKeyReqSize  = 32   // struct snp_derived_key_req
	DerivedKeyRespSize = 64   // struct snp_derived_key_resp
	ExtReportReqSize   = 112  // struct snp_ext_report_req, with its tail padding

	// MaxCertsLen is the largest certificate buffer SNP_GET_EXT_REPORT
	// takes (SEV_FW_BLOB_MAX_SIZE); its length must be whole pages.
	MaxCertsLen = 0x4000
)

// Field offsets.
const (
	offMsgVersion = 0  // snp_guest_request_ioctl: __u8 msg_version
	offReqData    = 8  // __u64 req_data
	offRespData   = 16 // __u64 resp_data
	offExitInfo2  = 24 // __u64 exitinfo2 (fw_error in the low half, vmm_error in the high)

	offExtCertsAddress = 96  // snp_ext_report_req: __u64 certs_address
	offExtCertsLen     = 104 // __u32 certs_len
)

// SW_EXITINFO2 as exitinfo2 reports it.
const (
	VMMErrShift      = 32 // SNP_GUEST_VMM_ERR_SHIFT
	VMMErrInvalidLen = 1  // SNP_GUEST_VMM_ERR_INVALID_LEN: certificate buffer too small
	VMMErrBusy       = 2  // SNP_GUEST_VMM_ERR_BUSY
	// NoFirmwareCall is the exitinfo2 of a request that failed before
	// reaching the host (SEV_RET_NO_FW_CALL).
	NoFirmwareCall = 0xff
)

// Request is struct snp_guest_request_ioctl.
type Request struct {
	MsgVersion uint8
	ReqData    uint64 // address of the request structure
	RespData   uint64 // address of the response structure
	// ExitInfo2 is the host's SW_EXITINFO2: firmware error in bits 31:0,
	// VMM error in bits 63:32. The driver sets it to NoFirmwareCall
	// before anything reaches the firmware.
	ExitInfo2 uint64
}

// Marshal encodes r.
func (r *Request) Marshal() []byte {
	b := make([]byte, RequestSize)
	b[offMsgVersion] = r.MsgVersion
	binary.LittleEndian.PutUint64(b[offReqData:], r.ReqData)
	binary.LittleEndian.PutUint64(b[offRespData:], r.RespData)
	binary.LittleEndian.PutUint64(b[offExitInfo2:], r.ExitInfo2)
	return b
}

// UnmarshalRequest decodes a RequestSize-byte struct snp_guest_request_ioctl.
func UnmarshalRequest(b []byte) Request {
	return Request{
		MsgVersion: b[offMsgVersion],
		ReqData:    binary.LittleEndian.Uint64(b[offReqData:]),
		RespData:   binary.LittleEndian.Uint64(b[offRespData:]),
		ExitInfo2:  binary.LittleEndian.Uint64(b[offExitInfo2:]),
	}
}

// ExtReportReq is struct snp_ext_report_req.
type ExtReportReq struct {
	Data         [ReportReqSize]byte // struct snp_report_req
	CertsAddress uint64
	CertsLen     uint32
}

// Marshal encodes r.
func (r *ExtReportReq) Marshal() []byte {
	b := make([]byte, ExtReportReqSize)
	copy(b, r.Data[:])
	binary.LittleEndian.PutUint64(b[offExtCertsAddress:], r.CertsAddress)
	binary.LittleEndian.PutUint32(b[offExtCertsLen:], r.CertsLen)
	return b
}

// UnmarshalExtReportReq decodes an ExtReportReqSize-byte struct
// snp_ext_report_req.
func UnmarshalExtReportReq(b []byte) ExtReportReq {
	var r ExtReportReq
	copy(r.Data[:], b)
	r.CertsAddress = binary.LittleEndian.Uint64(b[offExtCertsAddress:])
	r.CertsLen = binary.LittleEndian.Uint32(b[offExtCertsLen:])
	return r
}
