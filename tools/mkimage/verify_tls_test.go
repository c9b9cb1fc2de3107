package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/north/attest/atls"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

// serveTLS serves cfg on a loopback port until the test ends, completing
// each handshake, and returns the address.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return l.Addr().String()
}

// attestedServer serves an attested-TLS server whose simulated guest has
// MEASUREMENT m; tamper, if set, changes the REPORT_DATA it asks for.
func attestedServer(t *testing.T, m [48]byte, tamper bool) string {
	t.Helper()
	g, err := simpsp.NewGuest(m, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	s, err := atls.NewServer(atls.ServerOptions{Attest: func(d [64]byte) ([]byte, []byte, error) {
		if tamper {
			d[63] ^= 1
		}
		return g.ExtendedReport(d)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return serveTLS(t, s.Config())
}

func TestVerifyTLS(t *testing.T) {
	good := attestedServer(t, testMeasurement, false)
	otherKey := attestedServer(t, testMeasurement, true)
	plain := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{plainCert(t)}})
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()
	meas := hex.EncodeToString(testMeasurement[:])
	otherMeas := hex.EncodeToString(make([]byte, 48))

	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"verified", []string{"--test-root", "--measurement", meas, "--tls", good}, 0, "VERDICT: VERIFIED against the TEST-ONLY roots"},
		{"binding checked", []string{"--test-root", "--measurement", meas, "--tls", good}, 0, "ok    REPORT_DATA        matches the binding of the server's TLS key"},
		{"other measurement", []string{"--test-root", "--measurement", otherMeas, "--tls", good}, exitClaims, "FAIL  MEASUREMENT"},
		{"report for another key", []string{"--test-root", "--measurement", meas, "--tls", otherKey}, exitClaims, "FAIL  REPORT_DATA"},
		{"AMD roots", []string{"--measurement", meas, "--tls", good}, exitSignature, "bad-signature"},
		{"plain TLS server", []string{"--test-root", "--tls", plain}, exitInput, "no SEV-SNP attestation evidence"},
		{"nothing listening", []string{"--test-root", "--tls", closed}, exitInput, "TLS handshake"},
		{"--nonce with --tls", []string{"--test-root", "--nonce", "00", "--tls", good}, 2, "neither --nonce"},
		{"file and --tls", []string{"--test-root", "--tls", good, "report.bin"}, 2, ""},
	} {
		code, stdout, stderr := mkimage(append([]string{"verify"}, c.args...)...)
		if code != c.code || !strings.Contains(stdout+stderr, c.out) {
			t.Errorf("%s: exit %d, want %d with %q in\n%s%s", c.name, code, c.code, c.out, stdout, stderr)
		}
	}
}

// plainCert is a self-signed certificate with no evidence.
func plainCert(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
