package atls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"

	"github.com/cocoon-vm/cocoon/snp/report"
)

// Policy is what a client requires of the server's attestation.
type Policy struct {
	// Measurement is the expected MEASUREMENT (48 bytes): typically the
	// launch digest 'mkimage build --measure' recorded. Required unless
	// AnyMeasurement is set.
	Measurement []byte
	// AnyMeasurement accepts any MEASUREMENT. Only for tests and tools
	// that print what they find: without a measurement, any code on a
	// genuine SNP machine passes.
	AnyMeasurement bool
	// HostData, if set, is the expected HOST_DATA (32 bytes).
	HostData []byte
	// GuestPolicy is the most permissive guest policy accepted (debug,
	// SMT, migration agent); the zero value accepts none of them.
	GuestPolicy abi.SnpPolicy
	// MinTCB is the lowest reported TCB accepted.
	MinTCB kds.TCBParts
	// VMPL, if set, is the VMPL the report must come from.
	VMPL *int

	// TestRoots, if set, are the only roots trusted, instead of AMD's
	// real ARK and ASK (built into go-sev-guest). The simulated PSP's
	// test-only roots go here; AllowTestRoots must then be set too, so
	// no caller trusts them by accident.
	TestRoots      map[string][]*trust.AMDRootCerts
	AllowTestRoots bool
	// Warn receives a line for every connection verified against
	// TestRoots; nil means os.Stderr.
	Warn io.Writer

	// FetchCertificates lets go-sev-guest fetch a missing VCEK from
	// AMD's key distribution service.
	FetchCertificates bool
	// Now is the clock for certificate validity; nil means time.Now.
	Now func() time.Time
}

// Result is what a verified connection proved.
type Result struct {
	Certificate *x509.Certificate
	Evidence    *Evidence
	Attestation *spb.Attestation
	// TestRoot is set when the report verified against TestRoots: the
	// guest talked to a simulator, not to AMD hardware.
	TestRoot bool
}

// Verify checks a server's certificate chain as a TLS client receives it
// (rawCerts[0] is the leaf) against p. Errors wrap one of ErrNoEvidence,
// ErrMalformed, ErrCertificate, ErrBinding, ErrSignature, ErrClaims.
func Verify(rawCerts [][]byte, p *Policy) (*Result, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(rawCerts) == 0 {
		return nil, fmt.Errorf("%w: the server sent no certificate", ErrMalformed)
	}
	cert, e, err := ParseCertificate(rawCerts[0])
	if err != nil {
		return nil, err
	}
	if err := CheckCertificate(cert, p.now()); err != nil {
		return nil, err
	}
	att, err := Attestation(e)
	if err != nil {
		return nil, err
	}
	want := Binding(cert.RawSubjectPublicKeyInfo)
	if got := att.GetReport().GetReportData(); !bytes.Equal(got, want[:]) {
		return nil, fmt.Errorf("%w: REPORT_DATA is %x, the certificate's key needs %x", ErrBinding, got, want)
	}
	if err := VerifyAttestation(att, p); err != nil {
		return nil, err
	}
	r := &Result{Certificate: cert, Evidence: e, Attestation: att, TestRoot: p.TestRoots != nil}
	if r.TestRoot {
		w := p.Warn
		if w == nil {
			w = os.Stderr
		}
		fmt.Fprintf(w, "atls: WARNING: %s verified against TEST-ONLY roots (a simulated PSP), not AMD's\n", cert.Subject.CommonName)
	}
	return r, nil
}

func (p *Policy) check() error {
	if p.TestRoots != nil && !p.AllowTestRoots {
		return errors.New("atls: Policy.TestRoots given without AllowTestRoots")
	}
	if p.Measurement == nil && !p.AnyMeasurement {
		return errors.New("atls: Policy needs a Measurement (or AnyMeasurement)")
	}
	if p.Measurement != nil && len(p.Measurement) != abi.MeasurementSize {
		return fmt.Errorf("atls: Policy.Measurement is %d bytes, want %d", len(p.Measurement), abi.MeasurementSize)
	}
	if p.HostData != nil && len(p.HostData) != abi.HostDataSize {
		return fmt.Errorf("atls: Policy.HostData is %d bytes, want %d", len(p.HostData), abi.HostDataSize)
	}
	return nil
}

func (p *Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// CheckCertificate checks that cert is signed by its own key and valid
// at now.
func CheckCertificate(cert *x509.Certificate, now time.Time) error {
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return fmt.Errorf("%w: not self-signed by its key: %v", ErrCertificate, err)
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("%w: not valid before %s (now %s)", ErrCertificate, cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("%w: expired at %s (now %s)", ErrCertificate, cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// Attestation turns evidence into go-sev-guest's form.
func Attestation(e *Evidence) (*spb.Attestation, error) {
	r, err := report.Parse(e.Report)
	if err != nil {
		return nil, fmt.Errorf("%w: report: %v", ErrMalformed, err)
	}
	chain := &spb.CertificateChain{}
	if len(e.CertTable) > 0 {
		table := new(abi.CertTable)
		if err := table.Unmarshal(e.CertTable); err != nil {
			return nil, fmt.Errorf("%w: certificate table: %v", ErrMalformed, err)
		}
		chain = table.Proto()
	}
	return &spb.Attestation{Report: r, CertificateChain: chain}, nil
}

// VerifyAttestation checks the report's signature and chain, then its
// claims against p (REPORT_DATA is the caller's to check).
func VerifyAttestation(att *spb.Attestation, p *Policy) error {
	opts := &verify.Options{
		DisableCertFetching: !p.FetchCertificates,
		Now:                 p.now(),
		TrustedRoots:        p.TestRoots,
	}
	if err := verify.SnpAttestation(att, opts); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	vopts := &validate.Options{
		GuestPolicy: p.GuestPolicy,
		Measurement: p.Measurement,
		HostData:    p.HostData,
		MinimumTCB:  p.MinTCB,
		VMPL:        p.VMPL,
	}
	if err := validate.SnpAttestation(att, vopts); err != nil {
		return fmt.Errorf("%w: %v", ErrClaims, err)
	}
	return nil
}

// ClientConfig is a TLS 1.3 client configuration that accepts a server
// only if Verify accepts its certificate under p. The server's name is
// not checked against the certificate: the attestation, not a CA, says
// who the server is. Verify's errors reach the caller through the
// handshake's error.
func ClientConfig(p Policy) (*tls.Config, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The standard chain check is replaced, not skipped:
		// VerifyPeerCertificate runs Verify on every handshake, and TLS
		// still checks that the server signs with the certificate's key.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			_, err := Verify(rawCerts, &p)
			return err
		},
	}, nil
}
