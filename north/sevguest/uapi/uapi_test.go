package uapi

import (
	"testing"
	"unsafe"

	labi "github.com/google/go-sev-guest/client/linuxabi"
)

// The layouts are checked against go-sev-guest's, which are the
// structures its Linux client passes to the real driver.
func TestAgainstGoSevGuest(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"SNP_GET_REPORT", SNPGetReport, labi.IocSnpGetReport},
		{"SNP_GET_DERIVED_KEY", SNPGetDerivedKey, labi.IocSnpGetDerivedKey},
		{"SNP_GET_EXT_REPORT", SNPGetExtReport, labi.IocSnpGetExtendedReport},
		{"snp_guest_request_ioctl", RequestSize, unsafe.Sizeof(labi.SnpUserGuestRequestABI{})},
		{"snp_report_req", ReportReqSize, unsafe.Sizeof(labi.SnpReportReqABI{})},
		{"snp_report_resp", ReportRespSize, unsafe.Sizeof(labi.SnpReportRespABI{})},
		{"snp_derived_key_req", DerivedKeyReqSize, unsafe.Sizeof(labi.SnpDerivedKeyReqABI{})},
		{"snp_derived_key_resp", DerivedKeyRespSize, unsafe.Sizeof(labi.SnpDerivedKeyRespABI{})},
		{"snp_ext_report_req", ExtReportReqSize, unsafe.Sizeof(labi.SnpExtendedReportReqABI{})},
		{"req_data", offReqData, unsafe.Offsetof(labi.SnpUserGuestRequestABI{}.ReqData)},
		{"resp_data", offRespData, unsafe.Offsetof(labi.SnpUserGuestRequestABI{}.RespData)},
		{"exitinfo2", offExitInfo2, unsafe.Offsetof(labi.SnpUserGuestRequestABI{}.FwErr)},
		{"certs_address", offExtCertsAddress, unsafe.Offsetof(labi.SnpExtendedReportReqABI{}.CertsAddress)},
		{"certs_len", offExtCertsLen, unsafe.Offsetof(labi.SnpExtendedReportReqABI{}.CertsLength)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, go-sev-guest has %#x", c.name, c.got, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := Request{MsgVersion: 1, ReqData: 0x1000, RespData: 0x2000, ExitInfo2: 1 << 32}
	if got := UnmarshalRequest(r.Marshal()); got != r {
		t.Errorf("UnmarshalRequest(Marshal(%+v)) = %+v", r, got)
	}
	e := ExtReportReq{CertsAddress: 0x3000, CertsLen: 0x4000}
	e.Data[0], e.Data[95] = 1, 2
	if got := UnmarshalExtReportReq(e.Marshal()); got != e {
		t.Errorf("UnmarshalExtReportReq(Marshal(%+v)) = %+v", e, got)
	}
}
