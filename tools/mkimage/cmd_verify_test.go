package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
	"github.com/cocoon-vm/cocoon/snp/simpsp/wire"
)

// simulatedReport has the simulated PSP answer an extended report
// request with nonce as REPORT_DATA, for a launch of measurement m.
func simulatedReport(t testing.TB, nonce []byte, m [48]byte) (rep, certs []byte) {
	t.Helper()
	l, err := simpsp.NewLaunch(m, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := simpsp.DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	p, err := simpsp.New(c, l)
	if err != nil {
		t.Fatal(err)
	}
	guest, host := net.Pipe()
	go p.Serve(host)
	defer guest.Close()
	ch, err := guestmsg.NewChannel(&wire.Transport{RW: guest}, l.Secrets.VMPCK[0][:], 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	req := &guestmsg.ReportRequest{}
	copy(req.ReportData[:], nonce)
	rep, certs, err = ch.ExtendedReport(req)
	if err != nil {
		t.Fatal(err)
	}
	return rep, certs
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mkimage runs the mkimage command line and returns its exit code.
func mkimage(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var (
	testNonce       = []byte("a nonce of thirty-two bytes.....")
	testMeasurement = [48]byte{0xde, 0xad, 0xbe, 0xef}
)

func TestVerifyExitCodes(t *testing.T) {
	rep, certs := simulatedReport(t, testNonce, testMeasurement)
	good := writeFile(t, "report.bin", append(bytes.Clone(rep), certs...))
	flipped := bytes.Clone(rep)
	flipped[0x90] ^= 1 // MEASUREMENT, under the signature
	nonce, meas := hex.EncodeToString(testNonce), hex.EncodeToString(testMeasurement[:])
	otherNonce := hex.EncodeToString([]byte("another nonce"))
	otherMeas := hex.EncodeToString(make([]byte, 48))

	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"verified", []string{"--test-root", "--nonce", nonce, "--measurement", meas, good}, 0, "VERDICT: VERIFIED against the TEST-ONLY roots"},
		{"--trust-sim", []string{"--trust-sim", "--nonce", nonce, "--measurement", meas, good}, 0, "TEST-ONLY"},
		{"unchecked claims warn", []string{"--test-root", good}, 0, "warning: REPORT_DATA not checked"},
		{"flipped byte", []string{"--test-root", "--nonce", nonce, writeFile(t, "f.bin", append(flipped, certs...))}, exitSignature, "bad-signature"},
		{"AMD roots", []string{"--nonce", nonce, "--measurement", meas, good}, exitSignature, "could not be verified by any trusted roots"},
		{"no certificates", []string{"--test-root", writeFile(t, "r.bin", rep)}, exitSignature, "--kds"},
		{"other nonce", []string{"--test-root", "--nonce", otherNonce, "--measurement", meas, good}, exitClaims, "FAIL  REPORT_DATA"},
		{"other measurement", []string{"--test-root", "--nonce", nonce, "--measurement", otherMeas, good}, exitClaims, "FAIL  MEASUREMENT"},
		{"VMPL", []string{"--test-root", "--vmpl", "1", good}, exitClaims, "VMPL 0 is not 1"},
		{"SMT refused", []string{"--test-root", "--no-smt", good}, exitClaims, "SMT"},
		{"TCB", []string{"--test-root", "--min-tcb", "0x7f", good}, exitClaims, "TCB"},
		{"garbage", []string{"--test-root", writeFile(t, "g.txt", []byte("not a report"))}, exitInput, "unusable-input"},
		{"short", []string{"--test-root", writeFile(t, "s.bin", rep[:100])}, exitInput, "unusable-input"},
		{"bad table", []string{"--test-root", writeFile(t, "t.bin", append(bytes.Clone(rep), 1, 2, 3))}, exitInput, "certificate table"},
		{"missing file", []string{"--test-root", filepath.Join(t.TempDir(), "none")}, exitInput, "no such file"},
		{"bad nonce flag", []string{"--nonce", "xyz", good}, 2, ""},
		{"no report", []string{"--test-root"}, 2, ""},
	} {
		code, stdout, stderr := mkimage(append([]string{"verify"}, c.args...)...)
		if code != c.code || !strings.Contains(stdout+stderr, c.out) {
			t.Errorf("%s: exit %d, want %d with %q in\n%s%s", c.name, code, c.code, c.out, stdout, stderr)
		}
	}
}

func TestVerifyForms(t *testing.T) {
	rep, certs := simulatedReport(t, testNonce, testMeasurement)
	var ev bytes.Buffer
	ev.WriteString("cocoon: boot\n")
	(&attest.Evidence{Nonce: testNonce, Report: rep, Certs: certs}).Write(&ev)
	ev.WriteString("cocoon: exit status 0\n")

	att, err := attestationOf(rep, certs)
	if err != nil {
		t.Fatal(err)
	}
	text, err := prototext.Marshal(att)
	if err != nil {
		t.Fatal(err)
	}
	text = append(append([]byte("cocoon: boot\r\n"), text...), "cocoon: exit status 0\r\n"...)

	for name, path := range map[string]string{
		"evidence lines": writeFile(t, "console.txt", ev.Bytes()),
		"textproto":      writeFile(t, "att.textproto", text),
	} {
		code, stdout, stderr := mkimage("verify", "--test-root", "--nonce", hex.EncodeToString(testNonce), path)
		if code != 0 {
			t.Errorf("%s: exit %d\n%s%s", name, code, stdout, stderr)
		}
	}
	code, stdout, stderr := mkimage("verify", "--test-root", "--certs", writeFile(t, "certs", certs), writeFile(t, "r", rep))
	if code != 0 {
		t.Errorf("--certs: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestVerifyJSON(t *testing.T) {
	rep, certs := simulatedReport(t, testNonce, testMeasurement)
	path := writeFile(t, "report.bin", append(rep, certs...))
	code, stdout, _ := mkimage("verify", "--json", "--test-root", "--nonce", "00", path)
	if code != exitClaims {
		t.Errorf("exit %d, want %d", code, exitClaims)
	}
	var s struct {
		Verdict  string
		TestRoot bool `json:"test_root"`
		Report   struct{ Measurement string }
		Checks   []check
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if s.Verdict != verdictClaims || !s.TestRoot || s.Report.Measurement != hex.EncodeToString(testMeasurement[:]) || len(s.Checks) == 0 {
		t.Errorf("--json = %+v", s)
	}
}

func TestVerifyImageMeasurement(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "app")
	os.WriteFile(img+".elf", []byte("kernel"), 0o644)
	os.WriteFile(img+".cpio", []byte("initrd"), 0o644)
	rep, certs := simulatedReport(t, testNonce, simpsp.LaunchDigest([]byte("kernel"), []byte("initrd")))
	path := writeFile(t, "report.bin", append(rep, certs...))

	if code, stdout, stderr := mkimage("verify", "--test-root", "--image", img, path); code != 0 || !strings.Contains(stdout, "simulated launch digest") {
		t.Errorf("--image with the simulated digest: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := mkimage("verify", "--image", img, path); code != 2 || !strings.Contains(stderr, "no expected measurement") {
		t.Errorf("--image without an expected measurement or --test-root: exit %d, %s", code, stderr)
	}
	// An expected measurement beside the image wins: here it is another.
	exp := &measure.Result{Measurement: measure.Digest{1}}
	if _, err := measure.WriteExpected(img+".elf", exp); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := mkimage("verify", "--test-root", "--image", img, path); code != exitClaims || !strings.Contains(stdout, "measurement.json") {
		t.Errorf("--image with another expected measurement: exit %d\n%s", code, stdout)
	}
}

func TestTextAttestationNeedsReport(t *testing.T) {
	b, _ := prototext.Marshal(&spb.Attestation{})
	if _, err := parseTextAttestation(b); err == nil {
		t.Error("an Attestation without a report was accepted")
	}
}

// BenchmarkVerify is the host's side: signature, certificate chain and
// claims of one report from the simulated PSP.
func BenchmarkVerify(b *testing.B) {
	rep, certs := simulatedReport(b, testNonce, testMeasurement)
	att, err := attestationOf(rep, certs)
	if err != nil {
		b.Fatal(err)
	}
	want := &expectations{testRoot: true, reportData: make([]byte, 64), measurement: testMeasurement[:], policy: abi.SnpPolicy{SMT: true}}
	copy(want.reportData, testNonce)
	b.ResetTimer()
	for range b.N {
		if s := checkReport(att, want); s.Verdict != verdictVerified {
			b.Fatalf("%s: %s", s.Verdict, s.Error)
		}
	}
}
