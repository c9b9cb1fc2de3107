package atls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/cocoon-vm/cocoon/north/attest"
)

// AttestFunc returns a signed attestation report whose REPORT_DATA is
// reportData, and the host's certificate table (nil if it has none).
type AttestFunc func(reportData [64]byte) (report, certTable []byte, err error)

// ServerOptions configure NewServer; the zero value is ready to use.
type ServerOptions struct {
	// Attest fetches the report; nil means attest.ExtendedReport
	// (/dev/sev-guest).
	Attest AttestFunc
	// Validity is how long the certificate is valid from now; zero means
	// 30 days. Under SEV-SNP the guest's clock comes from the host, so
	// the validity period is a hint to clients, not a guarantee.
	Validity time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CommonName is the certificate's subject name; empty means
	// "cocoon-atls".
	CommonName string
}

// Server is an attested-TLS server identity: a key made in the guest
// and the certificate that carries its attestation.
type Server struct {
	cert     tls.Certificate
	evidence *Evidence
}

// NewServer makes a fresh key, fetches a report bound to it and builds
// the certificate.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Attest == nil {
		opts.Attest = func(d [64]byte) ([]byte, []byte, error) { return attest.ExtendedReport(d) }
	}
	if opts.Validity == 0 {
		opts.Validity = 30 * 24 * time.Hour
	}
	if opts.Validity < 0 {
		return nil, errors.New("atls: negative certificate validity")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CommonName == "" {
		opts.CommonName = "cocoon-atls"
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("atls: key: %v", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("atls: key: %v", err)
	}
	report, table, err := opts.Attest(Binding(spki))
	if err != nil {
		return nil, fmt.Errorf("atls: attestation report: %w", err)
	}
	e := &Evidence{Version: Version, Report: report, CertTable: table}
	ext, err := e.Marshal()
	if err != nil {
		return nil, err
	}
	cert, err := certificate(key, ext, opts.Now(), opts.Validity, opts.CommonName)
	if err != nil {
		return nil, err
	}
	return &Server{cert: cert, evidence: e}, nil
}

// certificate makes a self-signed certificate for key carrying the
// evidence extension ext.
func certificate(key *ecdsa.PrivateKey, ext []byte, now time.Time, validity time.Duration, cn string) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("atls: serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		// A minute back allows for clients whose clock is a little behind.
		NotBefore:       now.Add(-time.Minute),
		NotAfter:        now.Add(validity),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		ExtraExtensions: []pkix.Extension{{Id: OIDEvidence, Value: ext}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("atls: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("atls: certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Certificate is the server's certificate and key, for a tls.Config of
// the caller's own.
func (s *Server) Certificate() tls.Certificate { return s.cert }

// Evidence is the report and certificate table the certificate carries.
func (s *Server) Evidence() *Evidence { return s.evidence }

// Config is a server configuration presenting the attested certificate
// (TLS 1.3 only).
func (s *Server) Config() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{s.cert},
		MinVersion:   tls.VersionTLS13,
	}
}
