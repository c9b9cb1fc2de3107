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

	"github.com/cocoon-vm/cocoon/hal/pc/guestwire"
	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
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
	ch, err := guestmsg.NewChannel(&guestwire.Transport{RW: guest}, l.Secrets.VMPCK[0][:], 0, 0)
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
	code = run(args, nil, &out, &errOut)
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

// imageWithReport writes an image (NAME.elf and NAME.cpio) and a report
// from the simulated PSP launched as qemu.RunWithPSP launches it, and
// returns NAME and the report's path.
func imageWithReport(t *testing.T) (img, report string) {
	t.Helper()
	img = filepath.Join(t.TempDir(), "app")
	os.WriteFile(img+".elf", []byte("kernel"), 0o644)
	os.WriteFile(img+".cpio", []byte("initrd"), 0o644)
	rep, certs := simulatedReport(t, testNonce, simpsp.LaunchDigest([]byte("kernel"), []byte("initrd")))
	return img, writeFile(t, "report.bin", append(rep, certs...))
}

// snpLaunch is an SNP launch digest recorded beside an image, as
// 'mkimage build --measure' records one.
var snpLaunch = &measure.Result{Measurement: measure.Digest{1, 2, 3}, VCPUs: 1, VCPUSignature: 0x800f12, GuestFeatures: 1}

func TestVerifyImageMeasurement(t *testing.T) {
	simulated := "simulated launch digest"
	ignored := "warning: MEASUREMENT checked against the simulated launch digest, not the SEV-SNP launch digest in"
	tests := []struct {
		name     string
		expected string // the image file the expected measurement is recorded beside, if any
		content  string // its content instead of snpLaunch's
		suffix   string // of the --image argument
		args     []string
		code     int
		want     []string // in the output
	}{
		{"simulated, nothing recorded", "", "", "", []string{"--test-root"}, 0, []string{simulated}},
		{"hardware, nothing recorded", "", "", "", nil, 2, []string{"no expected measurement", "--measure"}},
		// A simulated PSP never reports an SNP launch digest: the
		// recorded one is named, not compared.
		{"simulated, SNP digest recorded", ".efi", "", "", []string{"--test-root"}, 0, []string{simulated, ignored, ".efi.measurement.json"}},
		{"simulated, image named .efi", ".efi", "", ".efi", []string{"--test-root"}, 0, []string{simulated, ignored}},
		{"simulated, recorded beside .elf", ".elf", "", "", []string{"--test-root"}, 0, []string{simulated, ".elf.measurement.json"}},
		// Against AMD's roots the simulated report's signature fails
		// first; the expected measurement was accepted.
		{"hardware, SNP digest recorded", ".efi", "", "", nil, exitSignature, []string{"bad-signature"}},
		{"--measurement still compared", ".efi", "", "", []string{"--test-root", "--measurement", hex.EncodeToString(snpLaunch.Measurement[:])}, exitClaims, []string{"FAIL  MEASUREMENT"}},
		{"unlabelled file", ".efi", `{"measurement": "` + strings.Repeat("00", 48) + `"}`, "", []string{"--test-root"}, 2, []string{"not an expected measurement", "kind"}},
	}
	for _, tt := range tests {
		img, report := imageWithReport(t)
		if tt.expected != "" {
			path, err := measure.WriteExpected(img+tt.expected, snpLaunch)
			if err != nil {
				t.Fatal(err)
			}
			if tt.content != "" {
				os.WriteFile(path, []byte(tt.content), 0o644)
			}
		}
		args := append(append([]string{"verify", "--image", img + tt.suffix}, tt.args...), report)
		code, stdout, stderr := mkimage(args...)
		out := stdout + stderr
		ok := code == tt.code
		for _, w := range tt.want {
			ok = ok && strings.Contains(out, w)
		}
		if !ok {
			t.Errorf("%s: mkimage %q: exit %d, want %d with %q in\n%s", tt.name, args, code, tt.code, tt.want, out)
		}
	}
}

// TestImageMeasurementSource checks which measurement --image expects
// of a report, by who signed it: hardware (AMD's roots) the SEV-SNP launch
// digest recorded beside the image, the simulated PSP (--test-root) its
// simulated launch digest.
func TestImageMeasurementSource(t *testing.T) {
	img, _ := imageWithReport(t)
	path, err := measure.WriteExpected(img+".efi", snpLaunch)
	if err != nil {
		t.Fatal(err)
	}
	sim := simpsp.LaunchDigest([]byte("kernel"), []byte("initrd"))
	for _, tt := range []struct {
		testRoot bool
		want     []byte
		from     string
		note     bool
	}{
		{false, snpLaunch.Measurement[:], "the SEV-SNP launch digest in " + path + " (qemu, 1 vCPUs, signature 0x800f12", false},
		{true, sim[:], "the simulated launch digest of " + img + ".elf", true},
	} {
		c := claimFlags{image: img, testRoot: tt.testRoot, minTCB: "0"}
		want, err := c.expectations()
		if err != nil {
			t.Fatalf("expectations(test root %v): %v", tt.testRoot, err)
		}
		if !bytes.Equal(want.measurement, tt.want) || !strings.HasPrefix(want.measurementFrom, tt.from) || (want.measurementNote != "") != tt.note {
			t.Errorf("expectations(test root %v) = measurement %x from %q, note %q; want %x from %q..., note %v",
				tt.testRoot, want.measurement, want.measurementFrom, want.measurementNote, tt.want, tt.from, tt.note)
		}
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
