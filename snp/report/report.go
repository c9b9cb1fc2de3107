// Package report parses SEV-SNP attestation reports (SNP Firmware ABI, AMD
// publication 56860, table "ATTESTATION_REPORT Structure") with
// go-sev-guest's abi package, and checks that a report answers the request
// that asked for it. Signature and certificate-chain verification belong
// to the verifier (go-sev-guest's verify and validate packages).
package report

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"

	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// Size is the size of an attestation report.
const Size = abi.ReportSize

// Report fields Parse checks itself (SNP Firmware ABI, table
// "ATTESTATION_REPORT Structure"): VERSION, and from version 3 on
// CPUID_STEP, the stepping of CPUID Fn0000_0001 EAX[3:0].
const (
	offVersion   = 0x000
	offCPUIDStep = 0x18A
	maxStepping  = 0xF
)

// Parse decodes a raw attestation report: exactly Size bytes, a report
// version go-sev-guest supports, a well-formed guest policy, zero
// reserved fields, and (version 3 and later) a CPUID_STEP that fits
// CPUID's 4-bit stepping: go-sev-guest's form of a report keeps only
// those bits, so a larger value (no processor has one) would not marshal
// back to the bytes that were signed.
func Parse(raw []byte) (*spb.Report, error) {
	if len(raw) != Size {
		return nil, fmt.Errorf("attestation report: %d bytes, want %d", len(raw), Size)
	}
	if err := abi.ValidateReportFormat(raw); err != nil {
		return nil, fmt.Errorf("attestation report: %w", err)
	}
	if binary.LittleEndian.Uint32(raw[offVersion:]) >= 3 && raw[offCPUIDStep] > maxStepping {
		return nil, fmt.Errorf("attestation report: CPUID_STEP %#x does not fit CPUID's 4-bit stepping", raw[offCPUIDStep])
	}
	r, err := abi.ReportToProto(raw)
	if err != nil {
		return nil, fmt.Errorf("attestation report: %w", err)
	}
	return r, nil
}

// Marshal encodes r in the ATTESTATION_REPORT layout.
func Marshal(r *spb.Report) ([]byte, error) {
	return abi.ReportToAbiBytes(r)
}

// Check confirms that r answers req: the same REPORT_DATA and VMPL.
func Check(r *spb.Report, req *guestmsg.ReportRequest) error {
	if !bytes.Equal(r.GetReportData(), req.ReportData[:]) {
		return fmt.Errorf("attestation report: REPORT_DATA %x, requested %x", r.GetReportData(), req.ReportData)
	}
	if r.GetVmpl() != req.VMPL {
		return fmt.Errorf("attestation report: VMPL %d, requested %d", r.GetVmpl(), req.VMPL)
	}
	return nil
}
