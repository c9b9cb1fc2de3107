package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	"github.com/google/go-sev-guest/verify"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/snp/report"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

func init() {
	commands["verify"] = command{
		summary: "verify an SEV-SNP attestation report: signature, certificate chain and claims",
		run:     runVerify,
	}
}

// Exit codes of verify and attest, besides 0 (verified), 1 (other
// failures) and 2 (usage).
const (
	exitInput     = 3 // the report or certificates cannot be read or parsed
	exitSignature = 4 // the signature or certificate chain does not verify
	exitClaims    = 5 // signed correctly, but the claims are not the expected ones
)

// verdicts, as --json reports them.
const (
	verdictVerified  = "verified"
	verdictInput     = "unusable-input"
	verdictSignature = "bad-signature"
	verdictClaims    = "claims-mismatch"
)

// verifyError is a verification that failed, with its exit code.
type verifyError struct {
	code int
	err  error
}

func (e *verifyError) Error() string { return e.err.Error() }
func (e *verifyError) ExitCode() int { return e.code }

// expectations are what a report is checked against.
type expectations struct {
	// testRoot trusts go-sev-guest's test-only ARK and ASK (the
	// simulated PSP's) instead of AMD's real roots.
	testRoot bool
	// fetch lets go-sev-guest fetch missing certificates from AMD's KDS.
	fetch bool

	// The expected REPORT_DATA (64 bytes), MEASUREMENT (48 bytes) and
	// HOST_DATA (32 bytes), nil if unchecked, and where each comes from
	// (or, if nil, how to give it).
	reportData, measurement, hostData             []byte
	reportDataFrom, measurementFrom, hostDataFrom string
	vmpl                                          int // -1: unchecked
	policy                                        abi.SnpPolicy
	minTCB                                        kds.TCBParts

	// measurementNote, if set, is a warning for the verdict about where
	// the expected MEASUREMENT came from.
	measurementNote string
}

// check is one line of the verdict.
type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// summary is the result of a verification; --json prints it.
type summary struct {
	Verdict  string         `json:"verdict"`
	Error    string         `json:"error,omitempty"`
	TestRoot bool           `json:"test_root"`
	Report   *reportSummary `json:"report,omitempty"`
	Checks   []check        `json:"checks"`
	Warnings []string       `json:"warnings,omitempty"`
	code     int
}

type reportSummary struct {
	Version     uint32 `json:"version"`
	VMPL        uint32 `json:"vmpl"`
	Policy      string `json:"policy"`
	SigningKey  string `json:"signing_key"`
	ReportData  string `json:"report_data"`
	Measurement string `json:"measurement"`
	HostData    string `json:"host_data"`
	ReportedTCB string `json:"reported_tcb"`
	ChipID      string `json:"chip_id"`
}

func summarize(r *spb.Report) *reportSummary {
	s := &reportSummary{
		Version:     r.GetVersion(),
		VMPL:        r.GetVmpl(),
		Policy:      fmt.Sprintf("%#x", r.GetPolicy()),
		ReportData:  hex.EncodeToString(r.GetReportData()),
		Measurement: hex.EncodeToString(r.GetMeasurement()),
		HostData:    hex.EncodeToString(r.GetHostData()),
		ReportedTCB: fmt.Sprintf("%#016x", r.GetReportedTcb()),
		ChipID:      hex.EncodeToString(r.GetChipId()),
	}
	if info, err := abi.ParseSignerInfo(r.GetSignerInfo()); err == nil {
		s.SigningKey = info.SigningKey.String()
	}
	return s
}

// fail ends s with a verdict and exit code.
func (s *summary) fail(verdict string, code int, err error) *summary {
	s.Verdict, s.code, s.Error = verdict, code, err.Error()
	return s
}

// checkReport verifies the signature and certificate chain of att, then
// its claims against want.
func checkReport(att *spb.Attestation, want *expectations) *summary {
	s := &summary{TestRoot: want.testRoot, Report: summarize(att.GetReport())}
	r := att.GetReport()
	chain := att.GetCertificateChain()

	opts := &verify.Options{DisableCertFetching: !want.fetch, Now: time.Now()}
	roots := "AMD's roots (built into go-sev-guest)"
	if want.testRoot {
		chip, err := simpsp.DefaultChip()
		if err != nil {
			return s.fail(verdictInput, 1, err)
		}
		opts.TrustedRoots = chip.TestRoots()
		roots = "go-sev-guest's TEST-ONLY roots (the simulated PSP's): NOT AMD"
	}
	if err := verify.SnpAttestation(att, opts); err != nil {
		s.Checks = append(s.Checks, check{"signature", false, err.Error()})
		if len(chain.GetVcekCert()) == 0 && !want.fetch {
			err = fmt.Errorf("%v (the report came without a VCEK certificate; --kds fetches it from AMD)", err)
		}
		return s.fail(verdictSignature, exitSignature, fmt.Errorf("signature or certificate chain: %v", err))
	}
	s.Checks = append(s.Checks, check{"signature", true, "report signed by the VCEK; VCEK ← ASK ← ARK, trusting " + roots})

	claim := func(name string, got, exp []byte, from string) {
		if exp == nil {
			s.Warnings = append(s.Warnings, name+" not checked: "+from)
			return
		}
		c := check{Name: name, OK: bytes.Equal(got, exp), Detail: "matches " + from}
		if !c.OK {
			c.Detail = fmt.Sprintf("report has %x, %s is %x", got, from, exp)
		}
		s.Checks = append(s.Checks, c)
	}
	claim("REPORT_DATA", r.GetReportData(), want.reportData, want.reportDataFrom)
	claim("MEASUREMENT", r.GetMeasurement(), want.measurement, want.measurementFrom)
	if want.measurementNote != "" {
		s.Warnings = append(s.Warnings, want.measurementNote)
	}
	claim("HOST_DATA", r.GetHostData(), want.hostData, want.hostDataFrom)

	vopts := &validate.Options{
		GuestPolicy: want.policy,
		ReportData:  want.reportData,
		Measurement: want.measurement,
		HostData:    want.hostData,
		MinimumTCB:  want.minTCB,
	}
	if want.vmpl >= 0 {
		vopts.VMPL = &want.vmpl
	}
	if err := validate.SnpAttestation(att, vopts); err != nil {
		s.Checks = append(s.Checks, check{"policy, TCB, VMPL", false, err.Error()})
		return s.fail(verdictClaims, exitClaims, fmt.Errorf("claims do not match: %v", err))
	}
	s.Checks = append(s.Checks, check{"policy, TCB, VMPL", true, policyDetail(want)})
	s.Verdict = verdictVerified
	return s
}

func policyDetail(want *expectations) string {
	var allowed []string
	if want.policy.Debug {
		allowed = append(allowed, "debug")
	}
	if want.policy.SMT {
		allowed = append(allowed, "SMT")
	}
	if want.policy.MigrateMA {
		allowed = append(allowed, "migration agent")
	}
	vmpl := "any VMPL"
	if want.vmpl >= 0 {
		vmpl = "VMPL " + strconv.Itoa(want.vmpl)
	}
	tcb := ""
	if want.minTCB != (kds.TCBParts{}) {
		tcb = fmt.Sprintf("; reported TCB at least %+v", want.minTCB)
	}
	return fmt.Sprintf("policy allows at most [%s]; %s%s", strings.Join(allowed, ", "), vmpl, tcb)
}

// print writes the human summary of s.
func (s *summary) print(w io.Writer) {
	if r := s.Report; r != nil {
		fmt.Fprintf(w, "Attestation report: version %d, VMPL %d, policy %s, signed by %s\n", r.Version, r.VMPL, r.Policy, r.SigningKey)
		fmt.Fprintf(w, "  REPORT_DATA   %s\n", r.ReportData)
		fmt.Fprintf(w, "  MEASUREMENT   %s\n", r.Measurement)
		fmt.Fprintf(w, "  HOST_DATA     %s\n", r.HostData)
		fmt.Fprintf(w, "  REPORTED_TCB  %s\n", r.ReportedTCB)
		fmt.Fprintf(w, "  CHIP_ID       %.32s...\n", r.ChipID)
	}
	for _, c := range s.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-18s %s\n", mark, c.Name, c.Detail)
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	switch {
	case s.Verdict == verdictVerified && s.TestRoot:
		fmt.Fprintln(w, "VERDICT: VERIFIED against the TEST-ONLY roots of the simulated PSP.")
		fmt.Fprintln(w, "         This proves the guest talked to Cocoon's simulator, not to AMD hardware.")
	case s.Verdict == verdictVerified:
		fmt.Fprintln(w, "VERDICT: VERIFIED: a genuine AMD SEV-SNP report with the expected claims.")
	default:
		fmt.Fprintf(w, "VERDICT: NOT VERIFIED (%s): %s\n", s.Verdict, s.Error)
	}
}

// hexFlag parses a hex flag of at most max bytes; exact requires max.
func hexFlag(name, v string, max int, exact bool) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(v, "0x"))
	if err != nil || len(b) > max || exact && len(b) != max {
		n := fmt.Sprintf("at most %d", max)
		if exact {
			n = fmt.Sprintf("exactly %d", max)
		}
		return nil, fmt.Errorf("--%s %q: want %s bytes in hex", name, v, n)
	}
	return b, nil
}

// claimFlags are the flags that set expectations, shared by verify and
// attest.
type claimFlags struct {
	testRoot    bool
	fetch       bool
	nonce       string
	measurement string
	image       string
	hostData    string
	vmpl        int
	allowDebug  bool
	noSMT       bool
	minTCB      string
}

func (c *claimFlags) register(fs *flag.FlagSet, withNonce bool) {
	fs.BoolVar(&c.testRoot, "test-root", false, "trust go-sev-guest's TEST-ONLY roots, which sign the simulated PSP's reports, instead of AMD's")
	fs.BoolVar(&c.testRoot, "trust-sim", false, "same as --test-root")
	fs.BoolVar(&c.fetch, "kds", false, "fetch certificates the report came without from AMD's Key Distribution Service (network)")
	if withNonce {
		fs.StringVar(&c.nonce, "nonce", "", "expected REPORT_DATA: the nonce the guest was given, `HEX` (at most 64 bytes, zero-padded)")
	}
	fs.StringVar(&c.measurement, "measurement", "", "expected MEASUREMENT, `HEX` (48 bytes)")
	fs.StringVar(&c.image, "image", "", "the image `NAME` the report should come from: expect the SEV-SNP launch digest recorded beside it "+
		"(NAME.efi.measurement.json, which 'mkimage build --measure' writes) or, with --test-root, the simulated launch digest of NAME.elf and NAME.cpio")
	fs.StringVar(&c.hostData, "host-data", "", "expected HOST_DATA, `HEX` (32 bytes)")
	fs.IntVar(&c.vmpl, "vmpl", 0, "expected VMPL, or -1 for any")
	fs.BoolVar(&c.allowDebug, "allow-debug", false, "accept a guest policy that allows debugging")
	fs.BoolVar(&c.noSMT, "no-smt", false, "refuse a guest policy that allows SMT")
	fs.StringVar(&c.minTCB, "min-tcb", "0", "minimum reported TCB_VERSION, a 64-bit `NUMBER` compared component by component")
}

// expectations turns the flags into expectations.
func (c *claimFlags) expectations() (*expectations, error) {
	want := &expectations{
		testRoot:       c.testRoot,
		fetch:          c.fetch,
		vmpl:           c.vmpl,
		policy:         abi.SnpPolicy{Debug: c.allowDebug, SMT: !c.noSMT},
		reportDataFrom: "give --nonce",
		hostDataFrom:   "give --host-data",
	}
	if c.vmpl < -1 || c.vmpl > 3 {
		return nil, fmt.Errorf("--vmpl %d: want 0 to 3, or -1", c.vmpl)
	}
	tcb, err := strconv.ParseUint(c.minTCB, 0, 64)
	if err != nil {
		return nil, fmt.Errorf("--min-tcb %q: want a 64-bit number", c.minTCB)
	}
	want.minTCB = kds.DecomposeTCBVersion(kds.TCBVersion(tcb))
	if c.nonce != "" {
		n, err := hexFlag("nonce", c.nonce, abi.ReportDataSize, false)
		if err != nil {
			return nil, err
		}
		want.reportData, want.reportDataFrom = make([]byte, abi.ReportDataSize), "the nonce"
		copy(want.reportData, n)
	}
	if c.hostData != "" {
		if want.hostData, err = hexFlag("host-data", c.hostData, abi.HostDataSize, true); err != nil {
			return nil, err
		}
		want.hostDataFrom = "--host-data"
	}
	switch {
	case c.measurement != "":
		if want.measurement, err = hexFlag("measurement", c.measurement, abi.MeasurementSize, true); err != nil {
			return nil, err
		}
		want.measurementFrom = "--measurement"
	case c.image != "":
		if want.measurement, want.measurementFrom, want.measurementNote, err = imageMeasurement(c.image, c.testRoot); err != nil {
			return nil, err
		}
	default:
		want.measurementFrom = "give --measurement or --image"
	}
	return want, nil
}

// imageMeasurement returns the measurement expected of the image name,
// where it comes from, and a note for the verdict.
//
// Which one depends on who signed the report. One that verifies against
// AMD's roots comes from AMD hardware, whose MEASUREMENT is the SEV-SNP
// launch digest 'mkimage build --measure' records beside the image. One
// that verifies only against the simulated PSP's test roots (testRoot)
// carries what qemu.RunWithPSP gave the simulator: the simulated launch
// digest of NAME.elf and NAME.cpio (simpsp.LaunchDigest), never an SNP
// launch digest, so that is expected then even where one is recorded.
func imageMeasurement(name string, testRoot bool) (m []byte, from, note string, err error) {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".elf"), ".efi")
	path, exp, err := readImageExpected(base)
	if err != nil {
		return nil, "", "", err
	}
	if !testRoot {
		if exp == nil {
			return nil, "", "", fmt.Errorf("--image %s: no expected measurement %s: build the image with "+
				"'mkimage build --measure --ovmf FILE', or give --measurement (or --test-root for a simulated launch)", name, path)
		}
		return exp.Measurement[:], fmt.Sprintf("the SEV-SNP launch digest in %s (%v, %d vCPUs, signature %#x, guest features %#x)",
			path, exp.VMM, exp.VCPUs, exp.VCPUSignature, exp.GuestFeatures), "", nil
	}
	if exp != nil {
		note = fmt.Sprintf("MEASUREMENT checked against the simulated launch digest, not the SEV-SNP launch digest in %s: "+
			"a simulated PSP reports the former, AMD hardware the latter", path)
	}
	initrd := base + ".cpio"
	if _, err := os.Stat(initrd); err != nil {
		initrd = ""
	}
	d, err := simpsp.LaunchDigestFiles(base+".elf", initrd)
	if err != nil {
		return nil, "", "", err
	}
	return d[:], "the simulated launch digest of " + base + ".elf", note, nil
}

// readImageExpected reads the expected measurement recorded beside the
// image base: BASE.efi.measurement.json, as 'mkimage build --measure'
// writes it, or BASE.elf.measurement.json. It returns a nil Result, and
// the first of the two paths, when there is none.
func readImageExpected(base string) (string, *measure.Result, error) {
	for _, image := range []string{base + ".efi", base + ".elf"} {
		path := measure.ExpectedPath(image)
		r, err := measure.ReadExpected(path)
		switch {
		case err == nil:
			return path, r, nil
		case !errors.Is(err, os.ErrNotExist):
			return "", nil, err
		}
	}
	return measure.ExpectedPath(base + ".efi"), nil, nil
}

// readEvidence reads a report and its certificates from path ("-" for
// standard input) and certsPath (optional): console output with
// attest.Evidence lines; raw bytes, a report followed by an optional
// certificate table (as go-sev-guest's attest tool writes with
// -extended); or an Attestation in protobuf text format (its -outform
// textproto), among console lines starting "cocoon:".
func readEvidence(path, certsPath string) (*spb.Attestation, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	var rep, certs []byte
	var att *spb.Attestation
	switch {
	case bytes.Contains(b, []byte(attest.EvidencePrefix+"report ")):
		e, err := attest.ParseEvidence(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		rep, certs = e.Report, e.Certs
	case len(b) >= abi.ReportSize && b[0] >= abi.ReportVersion2 && b[0] <= abi.ReportVersion5 && bytes.Equal(b[1:4], []byte{0, 0, 0}):
		rep, certs = b[:abi.ReportSize], b[abi.ReportSize:]
	default:
		if att, err = parseTextAttestation(b); err != nil {
			return nil, fmt.Errorf("%s: neither a raw report (%d bytes and more), nor '%sreport' lines, nor an Attestation in protobuf text format: %v",
				path, abi.ReportSize, attest.EvidencePrefix, err)
		}
		// Check the report's format as for the other forms.
		if rep, err = abi.ReportToAbiBytes(att.GetReport()); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	if certsPath != "" {
		if certs, err = os.ReadFile(certsPath); err != nil {
			return nil, err
		}
		att = nil
	}
	if att != nil {
		att.Report, err = report.Parse(rep)
		return att, err
	}
	return attestationOf(rep, certs)
}

// attestationOf parses a raw report and a certificate table (possibly
// empty).
func attestationOf(rep, certs []byte) (*spb.Attestation, error) {
	r, err := report.Parse(rep)
	if err != nil {
		return nil, err
	}
	chain := &spb.CertificateChain{}
	if len(certs) > 0 {
		table := new(abi.CertTable)
		if err := table.Unmarshal(certs); err != nil {
			return nil, fmt.Errorf("certificate table: %v", err)
		}
		chain = table.Proto()
	}
	return &spb.Attestation{Report: r, CertificateChain: chain}, nil
}

// kernelExit is the kernel's last console message, which follows the
// application's output on the same line when that does not end in a
// newline.
var kernelExit = regexp.MustCompile(`cocoon: exit status -?[0-9]+\s*$`)

// parseTextAttestation parses an Attestation in protobuf text format,
// skipping the kernel's "cocoon:" console lines around it.
func parseTextAttestation(b []byte) (*spb.Attestation, error) {
	var text strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "cocoon:") {
			text.WriteString(kernelExit.ReplaceAllString(strings.TrimRight(line, "\r"), "") + "\n")
		}
	}
	att := &spb.Attestation{}
	if err := prototext.Unmarshal([]byte(text.String()), att); err != nil {
		return nil, err
	}
	if att.GetReport() == nil {
		return nil, errors.New("no report in the Attestation")
	}
	return att, nil
}

func runVerify(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var claims claimFlags
	claims.register(fs, true)
	certsPath := fs.String("certs", "", "certificate table `FILE` (GHCB extended request format), instead of the one with the report")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	tlsAddr := fs.String("tls", "", "instead of a REPORT file, connect to the attested-TLS server at `HOST:PORT` and verify the report its certificate carries, bound to its key")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: mkimage verify [flags] REPORT
       mkimage verify --tls HOST:PORT [flags]

Verifies an SEV-SNP attestation report with go-sev-guest: the report's
signature and its VCEK ← ASK ← ARK certificate chain (AMD's real roots
unless --test-root), then its claims: REPORT_DATA (--nonce), MEASUREMENT
(--measurement or --image), HOST_DATA, guest policy, minimum TCB, VMPL.

With --image NAME the expected MEASUREMENT depends on who signed the
report. AMD hardware reports the SEV-SNP launch digest, which 'mkimage
build --measure' records in NAME.efi.measurement.json; without it,
verify refuses --image. The simulated PSP ('mkimage attest', make run)
reports a simulated launch digest of NAME.elf and NAME.cpio instead, so
with --test-root that is expected, and a recorded SEV-SNP launch digest
is named in a warning but not compared.

REPORT is a file ("-" for standard input) holding the raw report, possibly
followed by its certificate table, or console output with
'cocoon-attest' lines (images/attest prints them).

With --tls, verify connects to a server using north/attest/atls: the
report comes from its TLS certificate, and REPORT_DATA must bind the
certificate's key (docs/ATLS.md); --nonce does not apply.

Exit status: 0 verified, %d unusable input, %d bad signature or
certificate chain, %d claims do not match, 2 usage.

Flags:
`, exitInput, exitSignature, exitClaims)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if (*tlsAddr == "") != (fs.NArg() == 1) || fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	if *tlsAddr != "" && (claims.nonce != "" || *certsPath != "") {
		fmt.Fprintln(stderr, "mkimage verify: --tls takes neither --nonce nor --certs: the certificate carries both the binding and the chain")
		return errUsage
	}
	want, err := claims.expectations()
	if err != nil {
		fmt.Fprintf(stderr, "mkimage verify: %v\n", err)
		return errUsage
	}
	var att *spb.Attestation
	if *tlsAddr != "" {
		att, want.reportData, err = tlsEvidence(*tlsAddr, 30*time.Second)
		want.reportDataFrom = "the binding of the server's TLS key"
	} else {
		att, err = readEvidence(fs.Arg(0), *certsPath)
	}
	var s *summary
	var ve *verifyError
	switch {
	case errors.As(err, &ve):
		s = (&summary{TestRoot: want.testRoot}).fail(verdictOf(ve.code), ve.code, ve.err)
	case err != nil:
		s = (&summary{TestRoot: want.testRoot}).fail(verdictInput, exitInput, err)
	default:
		s = checkReport(att, want)
	}
	if err := s.output(stdout, *asJSON); err != nil {
		return err
	}
	return s.err()
}

// verdictOf is the verdict for an exit code.
func verdictOf(code int) string {
	switch code {
	case exitSignature:
		return verdictSignature
	case exitClaims:
		return verdictClaims
	}
	return verdictInput
}

// output prints s as text or JSON.
func (s *summary) output(w io.Writer, asJSON bool) error {
	if !asJSON {
		s.print(w)
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// err is the error for mkimage's exit status: nil if verified.
func (s *summary) err() error {
	if s.Verdict == verdictVerified {
		return nil
	}
	return &verifyError{code: s.code, err: errors.New(s.Error)}
}
