package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	spb "github.com/google/go-sev-guest/proto/sevsnp"

	"github.com/cocoon-vm/cocoon/north/attest/atls"
)

// tlsEvidence connects to an attested-TLS server (north/attest/atls) at
// addr, completes the handshake (which proves the server holds the
// certificate's key) and returns the attestation its certificate
// carries, with the REPORT_DATA that binds it to that key. The caller
// then checks the report like any other. The error's exit code says
// which step failed.
func tlsEvidence(addr string, timeout time.Duration) (*spb.Attestation, []byte, error) {
	var leaf []byte
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The certificate is checked below, by what it carries, not by
		// a CA; the handshake still checks the server signs with its key.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			leaf = cs.PeerCertificates[0].Raw
			return nil
		},
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, cfg)
	if err != nil {
		return nil, nil, &verifyError{code: exitInput, err: fmt.Errorf("%s: TLS handshake: %v", addr, err)}
	}
	conn.Close()
	cert, e, err := atls.ParseCertificate(leaf)
	if err != nil {
		return nil, nil, &verifyError{code: exitInput, err: fmt.Errorf("%s: %v", addr, err)}
	}
	if err := atls.CheckCertificate(cert, time.Now()); err != nil {
		return nil, nil, &verifyError{code: exitSignature, err: fmt.Errorf("%s: %v", addr, err)}
	}
	att, err := atls.Attestation(e)
	if err != nil {
		return nil, nil, &verifyError{code: exitInput, err: fmt.Errorf("%s: %v", addr, err)}
	}
	binding := atls.Binding(cert.RawSubjectPublicKeyInfo)
	return att, binding[:], nil
}
