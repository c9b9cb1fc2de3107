package atls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"

	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

// measurement is the launch the simulated guests in these tests have.
var measurement = [abi.MeasurementSize]byte{0: 0xc0, 1: 0xc0, 47: 0x01}

// simGuest is a simulated-PSP guest of MEASUREMENT m.
func simGuest(t testing.TB, m [abi.MeasurementSize]byte) *simpsp.Guest {
	t.Helper()
	g, err := simpsp.NewGuest(m, [abi.HostDataSize]byte{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// policy trusts the simulator's test roots and expects m.
func policy(t testing.TB, m []byte) Policy {
	t.Helper()
	chip, err := simpsp.DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	return Policy{
		Measurement:    m,
		GuestPolicy:    abi.SnpPolicy{SMT: true},
		TestRoots:      chip.TestRoots(),
		AllowTestRoots: true,
		Warn:           io.Discard,
	}
}

func newServer(t testing.TB, attest AttestFunc) *Server {
	t.Helper()
	s, err := NewServer(ServerOptions{Attest: attest})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// handshake runs a TLS connection between server and client configs over
// a pipe; the client sends msg and the server echoes it.
func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	c1, c2 := net.Pipe()
	srvErr := make(chan error, 1)
	go func() {
		s := tls.Server(c2, server)
		defer s.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(s, buf); err != nil {
			srvErr <- err
			return
		}
		_, err := s.Write(buf)
		srvErr <- err
	}()
	c := tls.Client(c1, client)
	defer c.Close()
	if err := c.Handshake(); err != nil {
		c1.Close()
		<-srvErr
		return err
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		return err
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != "hello" {
		t.Fatalf("echo = %q, want hello", got)
	}
	return <-srvErr
}

func TestRoundTrip(t *testing.T) {
	g := simGuest(t, measurement)
	s := newServer(t, g.ExtendedReport)
	p := policy(t, measurement[:])
	var warned bytes.Buffer
	p.Warn = &warned
	cfg, err := ClientConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, s.Config(), cfg); err != nil {
		t.Fatalf("handshake with the right image: %v", err)
	}
	if !strings.Contains(warned.String(), "TEST-ONLY") {
		t.Errorf("verification against test roots said %q, want a TEST-ONLY warning", warned.String())
	}
	r, err := Verify(s.Certificate().Certificate, &p)
	if err != nil {
		t.Fatal(err)
	}
	if !r.TestRoot || !bytes.Equal(r.Attestation.GetReport().GetMeasurement(), measurement[:]) {
		t.Errorf("Verify = TestRoot %v, measurement %x", r.TestRoot, r.Attestation.GetReport().GetMeasurement())
	}
	want := Binding(r.Certificate.RawSubjectPublicKeyInfo)
	if !bytes.Equal(r.Attestation.GetReport().GetReportData(), want[:]) {
		t.Error("REPORT_DATA is not the certificate key's binding")
	}
}

// forged builds a certificate for a fresh key carrying evidence e.
func forged(t testing.TB, e *Evidence, now time.Time, validity time.Duration) tls.Certificate {
	t.Helper()
	ext, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return forgedExt(t, ext, now, validity)
}

func forgedExt(t testing.TB, ext []byte, now time.Time, validity time.Duration) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certificate(key, ext, now, validity, "forged")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRefusals(t *testing.T) {
	g := simGuest(t, measurement)
	good := newServer(t, g.ExtendedReport)
	p := policy(t, measurement[:])
	now := time.Now()

	otherM := measurement
	otherM[0] ^= 0xff
	other := newServer(t, simGuest(t, otherM).ExtendedReport)

	// A server whose report names a key it does not have: the report
	// is genuine, REPORT_DATA is some other key's binding.
	otherKey := newServer(t, func(d [64]byte) ([]byte, []byte, error) {
		d[0] ^= 1
		return g.ExtendedReport(d)
	})

	noExt, err := certificate(mustKey(t), nil, now, time.Hour, "plain")
	if err != nil {
		t.Fatal(err)
	}
	// certificate always adds the extension; strip it by building
	// one with garbage and one with the wrong version instead.
	badVersion, _ := asn1.Marshal(Evidence{Version: 2, Report: good.Evidence().Report})
	tampered := append([]byte(nil), good.Certificate().Certificate[0]...)
	tampered[len(tampered)-5] ^= 0x40 // inside the signature

	amdRoots := p
	amdRoots.TestRoots, amdRoots.AllowTestRoots = nil, false

	for _, tc := range []struct {
		name string
		cert []byte
		p    Policy
		want error
	}{
		{"report for another key (replayed)", forged(t, good.Evidence(), now, time.Hour).Certificate[0], p, ErrBinding},
		{"REPORT_DATA names another key", otherKey.Certificate().Certificate[0], p, ErrBinding},
		{"another measurement", other.Certificate().Certificate[0], p, ErrClaims},
		{"wrong root", good.Certificate().Certificate[0], amdRoots, ErrSignature},
		{"expired", forged(t, good.Evidence(), now.Add(-48*time.Hour), time.Hour).Certificate[0], p, ErrCertificate},
		{"not yet valid", forged(t, good.Evidence(), now.Add(time.Hour), time.Hour).Certificate[0], p, ErrCertificate},
		{"bad self-signature", tampered, p, ErrCertificate},
		{"garbage evidence", forgedExt(t, []byte{0x30, 0x03, 0x02, 0x01}, now, time.Hour).Certificate[0], p, ErrMalformed},
		{"evidence version 2", forgedExt(t, badVersion, now, time.Hour).Certificate[0], p, ErrMalformed},
		{"not a certificate", []byte("hello"), p, ErrMalformed},
		{"empty extension", noExt.Certificate[0], p, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify([][]byte{tc.cert}, &tc.p)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			for _, other := range []error{ErrNoEvidence, ErrMalformed, ErrCertificate, ErrBinding, ErrSignature, ErrClaims} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("Verify = %v: also %v", err, other)
				}
			}
		})
	}
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNoEvidence(t *testing.T) {
	key := mustKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := policy(t, measurement[:])
	if _, err := Verify([][]byte{der}, &p); !errors.Is(err, ErrNoEvidence) {
		t.Fatalf("Verify(plain certificate) = %v, want ErrNoEvidence", err)
	}
}

// TestStolenCertificate: a server that presents another guest's
// certificate, report and all, but does not hold its key fails the
// handshake itself.
func TestStolenCertificate(t *testing.T) {
	g := simGuest(t, measurement)
	good := newServer(t, g.ExtendedReport)
	stolen := good.Certificate()
	stolen.PrivateKey = mustKey(t)
	cfg, err := ClientConfig(policy(t, measurement[:]))
	if err != nil {
		t.Fatal(err)
	}
	err = handshake(t, &tls.Config{Certificates: []tls.Certificate{stolen}}, cfg)
	if err == nil {
		t.Fatal("handshake with a stolen certificate succeeded")
	}
}

func TestHandshakeRefusesOtherMeasurement(t *testing.T) {
	otherM := measurement
	otherM[5] ^= 1
	s := newServer(t, simGuest(t, otherM).ExtendedReport)
	cfg, err := ClientConfig(policy(t, measurement[:]))
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, s.Config(), cfg); !errors.Is(err, ErrClaims) {
		t.Fatalf("handshake = %v, want ErrClaims", err)
	}
}

func TestPolicyChecks(t *testing.T) {
	chip, err := simpsp.DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Policy{
		{},                              // no measurement
		{Measurement: make([]byte, 32)}, // wrong size
		{AnyMeasurement: true, HostData: []byte{1}},
		{AnyMeasurement: true, TestRoots: chip.TestRoots()}, // test roots not allowed explicitly
	} {
		if _, err := ClientConfig(p); err == nil {
			t.Errorf("ClientConfig(%+v) accepted", p)
		}
	}
}

func TestEvidenceRoundTrip(t *testing.T) {
	e := &Evidence{Version: Version, Report: bytes.Repeat([]byte{7}, reportSize), CertTable: []byte{1, 2, 3}}
	der, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEvidence(der)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Report, e.Report) || !bytes.Equal(got.CertTable, e.CertTable) {
		t.Error("evidence changed in a round trip")
	}
	if _, err := ParseEvidence(append(der, 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v, want ErrMalformed", err)
	}
	if _, err := (&Evidence{Version: Version, Report: []byte{1}}).Marshal(); err == nil {
		t.Error("Marshal took a short report")
	}
}

// TestBindingVector pins the binding docs/ATLS.md defines, with a value
// computed outside Go (Python's hashlib):
// sha512(b"cocoon-atls-v1\x00" + sha256(b"spki")).
func TestBindingVector(t *testing.T) {
	const want = "1ef50454f0117a0b496d0720842336ab6b3048df262dd7019c3db12cbc55bf3e" +
		"8dc144350a09afc4f8ea466484c3a648487e24979af9c66861cb6f7a247024ec"
	got := Binding([]byte("spki"))
	if hex.EncodeToString(got[:]) != want {
		t.Fatalf("Binding(spki) = %x, want %s", got, want)
	}
}

// The fuzz bases: a certificate of a simulated guest's server (NewServer,
// simpsp) and its evidence extension, saved once. Fixed files, so that a
// failing patch input reproduces; TestFuzzBases keeps them valid.
const (
	baseCertificate = "testdata/certificate.der"
	baseEvidence    = "testdata/evidence.der"
)

func readBase(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFuzzBases(t *testing.T) {
	cert, e, err := ParseCertificate(readBase(t, baseCertificate))
	if err != nil || cert == nil {
		t.Fatalf("%s: %v", baseCertificate, err)
	}
	if _, err := Attestation(e); err != nil {
		t.Errorf("%s: %v", baseCertificate, err)
	}
	e2, err := ParseEvidence(readBase(t, baseEvidence))
	if err != nil || !bytes.Equal(e2.Report, e.Report) {
		t.Errorf("%s: %v, or not the certificate's evidence", baseEvidence, err)
	}
}

// FuzzParseCertificate feeds ParseCertificate and ParseEvidence bytes
// built from an input of edits: byte 0 chooses the base (bit 1: the
// evidence, else the certificate) or, with bit 0 set, takes the rest of
// the input as the bytes themselves; each following record, a
// little-endian offset (2 bytes), a length n (1 byte) and n bytes,
// overwrites the base there (from offset mod its size, up to its end).
// Every byte string is reachable (raw mode), and inputs stay small: Go's
// fuzzer minimises each input that finds new coverage in time quadratic
// in its length, up to -fuzzminimizetime (60 s), and with the 17 KiB
// certificate as input it spent nearly all its time there (under 1000
// execs/s, measured). Edits also start from a certificate that parses,
// so mutations reach the evidence and report checks behind x509.
func FuzzParseCertificate(f *testing.F) {
	cert, evidence := readBase(f, baseCertificate), readBase(f, baseEvidence)
	f.Add([]byte{0})                       // the certificate as it is
	f.Add([]byte{2})                       // the evidence as it is
	f.Add([]byte{0, 0x40, 0, 2, 1, 2})     // an edit in the certificate
	f.Add([]byte{2, 0x10, 0, 1, 0xff})     // an edit in the evidence
	f.Add(append([]byte{1}, cert[:64]...)) // raw: a truncated certificate
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		var b []byte
		switch {
		case in[0]&1 != 0:
			b = in[1:]
		case in[0]&2 != 0:
			b = edit(evidence, in[1:])
		default:
			b = edit(cert, in[1:])
		}
		if cert, e, err := ParseCertificate(b); err == nil {
			if cert == nil || len(e.Report) != reportSize {
				t.Fatal("accepted certificate without its parts")
			}
			Attestation(e) // must not panic
		}
		if e, err := ParseEvidence(b); err == nil {
			if _, err := e.Marshal(); err != nil {
				t.Fatalf("parsed evidence does not marshal: %v", err)
			}
			Attestation(e)
		}
	})
}

// edit returns a copy of base with FuzzParseCertificate's edit records
// applied.
func edit(base, records []byte) []byte {
	b := bytes.Clone(base)
	for len(records) >= 3 {
		off := int(records[0]) | int(records[1])<<8
		n := min(int(records[2]), len(records)-3)
		copy(b[off%len(b):], records[3:3+n])
		records = records[3+n:]
	}
	return b
}

// BenchmarkHandshake compares a TLS 1.3 handshake whose client verifies
// the server's attestation (signature chain, binding, claims) with a
// plain handshake that trusts the same certificate by pinning it.
func BenchmarkHandshake(b *testing.B) {
	g := simGuest(b, measurement)
	s := newServer(b, g.ExtendedReport)
	p := policy(b, measurement[:])
	attested, err := ClientConfig(p)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate().Leaf)
	plain := &tls.Config{RootCAs: pool, ServerName: "cocoon-atls", MinVersion: tls.VersionTLS13,
		InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if !bytes.Equal(raw[0], s.Certificate().Certificate[0]) {
				return errors.New("not the pinned certificate")
			}
			return nil
		}}
	for _, c := range []struct {
		name string
		cfg  *tls.Config
	}{{"plain", plain}, {"attested", attested}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c1, c2 := net.Pipe()
				go func() {
					tls.Server(c2, s.Config()).Handshake()
					c2.Close() // no close_notify: net.Pipe would block on it
				}()
				if err := tls.Client(c1, c.cfg).Handshake(); err != nil {
					b.Fatal(err)
				}
				c1.Close()
			}
		})
	}
}

// BenchmarkNewServer is the server's start: a key, a report from the
// simulated PSP over the real guest-message protocol (in-process, so
// without the guest's trap and serial costs), a certificate.
func BenchmarkNewServer(b *testing.B) {
	g := simGuest(b, measurement)
	for b.Loop() {
		newServer(b, g.ExtendedReport)
	}
}
