package guestmsg

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestMsgTypes(t *testing.T) {
	for _, tc := range []struct {
		req, rsp MsgType
		name     string
	}{
		{MsgCPUIDReq, MsgCPUIDRsp, "MSG_CPUID_REQ"},
		{MsgKeyReq, MsgKeyRsp, "MSG_KEY_REQ"},
		{MsgReportReq, MsgReportRsp, "MSG_REPORT_REQ"},
		{MsgExportReq, MsgExportRsp, "MSG_EXPORT_REQ"},
		{MsgImportReq, MsgImportRsp, "MSG_IMPORT_REQ"},
		{MsgAbsorbReq, MsgAbsorbRsp, "MSG_ABSORB_REQ"},
		{MsgVMRKReq, MsgVMRKRsp, "MSG_VMRK_REQ"},
		{MsgAbsorbNoMAReq, MsgAbsorbNoMARsp, "MSG_ABSORB_NOMA_REQ"},
		{MsgTSCInfoReq, MsgTSCInfoRsp, "MSG_TSC_INFO_REQ"},
	} {
		if !tc.req.IsRequest() || tc.rsp.IsRequest() || tc.req.Response() != tc.rsp || tc.req.String() != tc.name {
			t.Errorf("%v/%v: IsRequest %v/%v, Response %v", tc.req, tc.rsp, tc.req.IsRequest(), tc.rsp.IsRequest(), tc.req.Response())
		}
	}
	if MsgKeyReq != 3 || MsgReportReq != 5 || MsgTSCInfoRsp != 18 {
		t.Error("message type numbering differs from the SNP Firmware ABI table")
	}
	if MsgInvalid.IsRequest() || MsgType(19).IsRequest() {
		t.Error("invalid or unknown type counted as a request")
	}
}

func TestReportRequestLayout(t *testing.T) {
	r := ReportRequest{VMPL: 2, KeySel: KeyVLEK}
	r.ReportData[0], r.ReportData[63] = 0xAA, 0xBB
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0x60 || b[0] != 0xAA || b[0x3F] != 0xBB ||
		binary.LittleEndian.Uint32(b[0x40:]) != 2 || binary.LittleEndian.Uint32(b[0x44:]) != 2 {
		t.Errorf("MSG_REPORT_REQ = %x", b)
	}
	back, err := UnmarshalReportRequest(b)
	if err != nil || *back != r {
		t.Errorf("UnmarshalReportRequest = %+v, %v", back, err)
	}
	if _, err := (&ReportRequest{KeySel: 3}).Marshal(); err == nil {
		t.Error("KEY_SEL 3 accepted")
	}
	b[0x44] = 3
	if _, err := UnmarshalReportRequest(b); err == nil {
		t.Error("UnmarshalReportRequest accepted KEY_SEL 3")
	}
}

func TestReportResponse(t *testing.T) {
	report := bytes.Repeat([]byte{0x5C}, ReportSize)
	b := (&ReportResponse{Status: StatusSuccess, Report: report}).Marshal()
	if len(b) != 0x4C0 || binary.LittleEndian.Uint32(b[4:]) != 0x4A0 || b[0x20] != 0x5C {
		t.Fatalf("MSG_REPORT_RSP layout: %d bytes, size field %#x", len(b), binary.LittleEndian.Uint32(b[4:]))
	}
	r, err := UnmarshalReportResponse(b)
	if err != nil || r.Status != StatusSuccess || !bytes.Equal(r.Report, report) {
		t.Errorf("UnmarshalReportResponse = %v", err)
	}
	bad := (&ReportResponse{Status: StatusInvalidParam}).Marshal()
	if r, err := UnmarshalReportResponse(bad); err != nil || r.Status != StatusInvalidParam || r.Report != nil {
		t.Errorf("error response = %+v, %v", r, err)
	}
	for name, b := range map[string][]byte{
		"short":        make([]byte, 0x10),
		"small report": (&ReportResponse{Report: make([]byte, 0x100)}).Marshal(),
		"size lies": func() []byte {
			b := (&ReportResponse{Report: report}).Marshal()
			binary.LittleEndian.PutUint32(b[4:], 0x4A1)
			return b
		}(),
	} {
		if _, err := UnmarshalReportResponse(b); err == nil {
			t.Errorf("%s: UnmarshalReportResponse succeeded", name)
		}
	}
}

func TestKeyRequestLayout(t *testing.T) {
	r := KeyRequest{RootKeyVMRK: true, KeySel: KeyVCEK, GuestFieldSelect: FieldMeasurement | FieldTCBVersion,
		VMPL: 1, GuestSVN: 0x11223344, TCBVersion: 0x0102030405060708}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0x20 || binary.LittleEndian.Uint32(b[0:]) != 0b011 || binary.LittleEndian.Uint64(b[8:]) != 0x28 ||
		binary.LittleEndian.Uint32(b[0x10:]) != 1 || binary.LittleEndian.Uint32(b[0x14:]) != 0x11223344 ||
		binary.LittleEndian.Uint64(b[0x18:]) != 0x0102030405060708 {
		t.Errorf("MSG_KEY_REQ = %x", b)
	}
	back, err := UnmarshalKeyRequest(b)
	if err != nil || *back != r {
		t.Errorf("UnmarshalKeyRequest = %+v, %v", back, err)
	}
	b[0] = 0b110 // KEY_SEL 3
	if _, err := UnmarshalKeyRequest(b); err == nil {
		t.Error("UnmarshalKeyRequest accepted KEY_SEL 3")
	}
}

func TestKeyResponse(t *testing.T) {
	var k [32]byte
	k[0], k[31] = 1, 2
	b := (&KeyResponse{Key: k}).Marshal()
	if len(b) != 0x40 || b[0x20] != 1 || b[0x3F] != 2 {
		t.Errorf("MSG_KEY_RSP = %x", b)
	}
	r, err := UnmarshalKeyResponse(b)
	if err != nil || r.Key != k {
		t.Errorf("UnmarshalKeyResponse = %+v, %v", r, err)
	}
	b = (&KeyResponse{Status: StatusInvalidKeySelected, Key: k}).Marshal()
	if r, err := UnmarshalKeyResponse(b); err != nil || r.Status != StatusInvalidKeySelected || r.Key != ([32]byte{}) {
		t.Errorf("error response = %+v, %v", r, err)
	}
	if _, err := UnmarshalKeyResponse(b[:0x3F]); err == nil {
		t.Error("UnmarshalKeyResponse accepted 63 bytes")
	}
}

func FuzzUnmarshalReportResponse(f *testing.F) {
	f.Add((&ReportResponse{Report: make([]byte, ReportSize)}).Marshal())
	f.Add((&ReportResponse{Status: StatusInvalidParam}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalReportResponse(b)
		if err != nil {
			return
		}
		if r.Status == StatusSuccess && len(r.Report) != ReportSize || r.Status != StatusSuccess && r.Report != nil {
			t.Fatalf("status %v with %d-byte report", r.Status, len(r.Report))
		}
	})
}

func FuzzUnmarshalKeyResponse(f *testing.F) {
	f.Add((&KeyResponse{}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalKeyResponse(b)
		if err == nil && r.Status != StatusSuccess && r.Key != ([32]byte{}) {
			t.Fatal("failed response carries a key")
		}
	})
}

func FuzzUnmarshalRequests(f *testing.F) {
	rr, _ := (&ReportRequest{VMPL: 1}).Marshal()
	kr, _ := (&KeyRequest{KeySel: KeyVCEK}).Marshal()
	f.Add(rr)
	f.Add(kr)
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := UnmarshalReportRequest(b); err == nil {
			again, err := r.Marshal()
			if err != nil || len(again) != len(b) {
				t.Fatalf("report request re-marshal: %v", err)
			}
		}
		if r, err := UnmarshalKeyRequest(b); err == nil {
			if _, err := r.Marshal(); err != nil {
				t.Fatalf("key request re-marshal: %v", err)
			}
		}
	})
}

// TestTSCInfoLayout checks MSG_TSC_INFO_RSP against bytes laid out by
// hand from the SNP Firmware ABI table: STATUS at 0x00, GUEST_TSC_SCALE
// at 0x08, GUEST_TSC_OFFSET at 0x10, TSC_FACTOR at 0x18, 128 bytes.
func TestTSCInfoLayout(t *testing.T) {
	b := make([]byte, 0x80)
	b[0x08], b[0x0C] = 0x01, 0x02 // scale 0x0000_0002_0000_0001
	b[0x10], b[0x17] = 0x33, 0x80 // offset 0x8000_0000_0000_0033
	b[0x18], b[0x19] = 0xC8, 0x00 // factor 200
	b[0x7F] = 0xEE                // reserved: ignored
	r, err := UnmarshalTSCInfoResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := TSCInfoResponse{Status: StatusSuccess, Scale: 0x2_0000_0001, Offset: 0x8000_0000_0000_0033, Factor: 200}
	if *r != want {
		t.Errorf("UnmarshalTSCInfoResponse = %+v, want %+v", *r, want)
	}
	b[0x7F] = 0
	if m := want.Marshal(); !bytes.Equal(m, b) {
		t.Errorf("Marshal = %x, want %x", m, b)
	}

	for _, n := range []int{0, 0x7F, 0x81, 0x100} {
		if _, err := UnmarshalTSCInfoResponse(make([]byte, n)); err == nil {
			t.Errorf("%d-byte MSG_TSC_INFO_RSP accepted", n)
		}
	}
	// A failure status carries no parameters.
	b[0] = byte(StatusInvalidParam)
	if r, err := UnmarshalTSCInfoResponse(b); err != nil || r.Status != StatusInvalidParam || r.Scale != 0 || r.Factor != 0 {
		t.Errorf("failed MSG_TSC_INFO_RSP = %+v, %v", r, err)
	}

	req := TSCInfoRequest()
	if len(req) != 0x80 || UnmarshalTSCInfoRequest(req) != nil {
		t.Errorf("MSG_TSC_INFO_REQ = %d bytes, check %v", len(req), UnmarshalTSCInfoRequest(req))
	}
	req[5] = 1
	if UnmarshalTSCInfoRequest(req) == nil || UnmarshalTSCInfoRequest(req[:0x40]) == nil {
		t.Error("MSG_TSC_INFO_REQ with a reserved byte set, or short, accepted")
	}
}
