package report

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"google.golang.org/protobuf/proto"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/snptest"
)

func sample() *spb.Report {
	fill := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	return &spb.Report{
		Version:         abi.ReportVersion3,
		GuestSvn:        7,
		Policy:          1<<17 | 1<<16,
		FamilyId:        fill(abi.FamilyIDSize, 0x01),
		ImageId:         fill(abi.ImageIDSize, 0x02),
		Vmpl:            1,
		SignatureAlgo:   abi.SignEcdsaP384Sha384,
		CurrentTcb:      0x1400000000000003,
		PlatformInfo:    1,
		ReportData:      fill(abi.ReportDataSize, 0x03),
		Measurement:     fill(abi.MeasurementSize, 0x04),
		HostData:        fill(abi.HostDataSize, 0x05),
		IdKeyDigest:     fill(abi.IDKeyDigestSize, 0x06),
		AuthorKeyDigest: fill(abi.AuthorKeyDigestSize, 0x07),
		ReportId:        fill(abi.ReportIDSize, 0x08),
		ReportIdMa:      fill(abi.ReportIDMASize, 0x09),
		ReportedTcb:     0x1400000000000003,
		Cpuid1EaxFms:    abi.FmsToCpuid1Eax(0x19, 0x11, 1),
		ChipId:          fill(abi.ChipIDSize, 0x0A),
		CommittedTcb:    0x1400000000000003,
		CurrentBuild:    3,
		CurrentMinor:    55,
		CurrentMajor:    1,
		CommittedBuild:  3,
		CommittedMinor:  55,
		CommittedMajor:  1,
		LaunchTcb:       0x1400000000000003,
		Signature:       append(fill(abi.EcdsaP384Sha384SignatureSize, 0x0B), make([]byte, abi.SignatureSize-abi.EcdsaP384Sha384SignatureSize)...),
	}
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	raw, err := abi.ReportToAbiBytes(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != Size || Size != guestmsg.ReportSize {
		t.Fatalf("report is %d bytes; Size %d, guestmsg.ReportSize %d", len(raw), Size, guestmsg.ReportSize)
	}
	got, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("Parse(ReportToAbiBytes(r)) =\n%v\nwant\n%v", got, want)
	}
	again, err := Marshal(got)
	if err != nil || !bytes.Equal(again, raw) {
		t.Errorf("Marshal(Parse(raw)) differs: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	raw, err := abi.ReportToAbiBytes(sample())
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"short":            func(b []byte) []byte { return b[:Size-1] },
		"long":             func(b []byte) []byte { return append(b, 0) },
		"version 1":        func(b []byte) []byte { binary.LittleEndian.PutUint32(b, 1); return b },
		"policy bit 17":    func(b []byte) []byte { binary.LittleEndian.PutUint64(b[8:], 0); return b },
		"reserved at 0x4C": func(b []byte) []byte { b[0x4C] = 1; return b },
		// Found by FuzzParse: go-sev-guest keeps 4 bits of CPUID_STEP,
		// so this report would not marshal back to its signed bytes.
		"CPUID_STEP 0xF9": func(b []byte) []byte { b[0x18A] = 0xF9; return b },
	} {
		if _, err := Parse(mutate(bytes.Clone(raw))); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}

func TestCheck(t *testing.T) {
	r := sample()
	req := &guestmsg.ReportRequest{VMPL: 1}
	copy(req.ReportData[:], r.ReportData)
	if err := Check(r, req); err != nil {
		t.Errorf("Check: %v", err)
	}
	req.VMPL = 0
	if err := Check(r, req); err == nil {
		t.Error("Check accepted a VMPL mismatch")
	}
	req.VMPL, req.ReportData[5] = 1, 0
	if err := Check(r, req); err == nil {
		t.Error("Check accepted a REPORT_DATA mismatch")
	}
}

// TestThroughChannel fetches a report from the fake PSP, which builds it
// with abi, through the guest message channel, and parses it.
func TestThroughChannel(t *testing.T) {
	psp, err := snptest.NewPSP(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	psp.Report = func(req *guestmsg.ReportRequest) []byte {
		r := sample()
		r.ReportData, r.Vmpl = req.ReportData[:], req.VMPL
		raw, err := abi.ReportToAbiBytes(r)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	ch, err := guestmsg.NewChannel(pspTransport{psp}, bytes.Repeat([]byte{7}, 32), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	req := &guestmsg.ReportRequest{VMPL: 0}
	copy(req.ReportData[:], "nonce")
	raw, err := ch.Report(req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(r, req); err != nil {
		t.Error(err)
	}
}

// pspTransport hands messages straight to a PSP, as a serial link to a
// simulated PSP would.
type pspTransport struct{ psp *snptest.PSP }

func (p pspTransport) MaxCertPages() int { return 0 }

func (p pspTransport) Send(req, resp, certs []byte) (guestmsg.Result, error) {
	out, fw := p.psp.Handle(req)
	copy(resp, out)
	return guestmsg.Result{Firmware: fw}, nil
}

// FuzzParse checks that every report Parse accepts marshals back to the
// same bytes.
//
// An input is a patch, not a whole report: its first two bytes are a
// little-endian word w, the rest data. With w's top bit clear, data is
// written over the sample report at offset w mod Size (a patch at 0 of
// Size bytes is any report at all); with it set, data itself is the
// report, of any length. Inputs therefore stay small. That is what makes
// this target fast: Go's fuzzer minimises every input that finds new
// coverage, in time quadratic in its length, up to -fuzzminimizetime
// (60 s) each, and with whole 1184-byte reports as inputs it spent nearly
// all its time there (under 10 execs/s overall, measured). Patches also
// start from a report that parses, so mutations reach the checks past the
// size test.
func FuzzParse(f *testing.F) {
	raw, _ := abi.ReportToAbiBytes(sample())
	patch := func(off uint16, data ...byte) []byte {
		return append(binary.LittleEndian.AppendUint16(nil, off), data...)
	}
	f.Add(patch(0))                      // the sample itself
	f.Add(patch(0x00, 5))                // VERSION 5
	f.Add(patch(0x08, 0, 0, 1))          // POLICY without the reserved bit 17
	f.Add(patch(0x34, 2))                // SIGNATURE_ALGO
	f.Add(patch(0x1E0, 0xff))            // a reserved field
	f.Add(patch(0x8000, raw[:100]...))   // a short report
	f.Add(append(patch(0x8000), raw...)) // the sample as a whole report
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 {
			return
		}
		w, data := binary.LittleEndian.Uint16(in), in[2:]
		rep := data
		if w&0x8000 == 0 {
			rep = bytes.Clone(raw)
			copy(rep[int(w)%Size:], data)
		}
		r, err := Parse(rep)
		if err != nil {
			return
		}
		back, err := Marshal(r)
		if err != nil {
			t.Fatalf("Marshal of a parsed report: %v", err)
		}
		if !bytes.Equal(back, rep) {
			t.Fatalf("Marshal(Parse(report)) differs from the report")
		}
	})
}
