// Package atls is attested TLS for programs running in an SEV-SNP guest
// (or in Cocoon with a simulated PSP): the server's TLS certificate
// carries an attestation report that binds the certificate's key, and the
// client accepts the connection only if the report verifies and its claims
// match a policy the client gives.
//
// The protocol, byte by byte, and its threat model are in docs/ATLS.md.
// In short:
//
//   - The server generates an ECDSA P-256 key inside the guest. The key
//     never leaves the guest's memory and lives as long as the server.
//   - It asks the PSP for a report whose REPORT_DATA is
//     SHA-512("cocoon-atls-v1\x00" || SHA-256(SubjectPublicKeyInfo)), and
//     puts the report and the host's certificate table in a self-signed
//     X.509 certificate for that key, in an extension (OIDEvidence).
//   - The client checks the certificate (self-signature, validity), that
//     REPORT_DATA names the certificate's key, the report's signature and
//     VCEK ← ASK ← ARK chain, and the claims (MEASUREMENT, HOST_DATA,
//     policy, TCB, VMPL). TLS itself proves the server holds the key.
//
// Freshness comes from the key: a report copied from another guest names
// that guest's key, which the copier does not hold, so its handshake
// fails.
package atls

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/cocoon-vm/cocoon/north/sevguest/uapi"
)

// OIDEvidence identifies the certificate extension that carries the
// evidence: an arc under 2.25 (ITU-T X.667, OIDs that need no
// registration) drawn at random for Cocoon from the 31 bits Go's X.509
// parser accepts in one arc. It is not registered anywhere.
var OIDEvidence = asn1.ObjectIdentifier{2, 25, 1896296937}

// Version is the evidence format version this package writes and reads.
const Version = 1

// bindingLabel starts the REPORT_DATA preimage, so a report made for
// another purpose never matches an attested-TLS key by accident.
const bindingLabel = "cocoon-atls-v1\x00"

// reportSize is the size of an SEV-SNP attestation report (SNP Firmware
// ABI, Table 22, ATTESTATION_REPORT: 0x4A0 bytes).
const reportSize = 0x4A0

// maxCertTable bounds the certificate table a certificate may carry:
// Linux's SNP_GET_EXT_REPORT returns at most SEV_FW_BLOB_MAX_SIZE
// (uapi.MaxCertsLen) bytes of it.
const maxCertTable = uapi.MaxCertsLen

// Evidence is what the certificate extension carries.
//
//	Evidence ::= SEQUENCE {
//	    version     INTEGER,      -- 1
//	    report      OCTET STRING, -- ATTESTATION_REPORT, 1184 bytes
//	    certTable   OCTET STRING  -- GHCB certificate table, may be empty
//	}
type Evidence struct {
	Version   int
	Report    []byte
	CertTable []byte
}

// Errors Verify and ParseCertificate return, wrapped with detail; test
// with errors.Is.
var (
	// ErrNoEvidence: the certificate has no attestation extension.
	ErrNoEvidence = errors.New("certificate carries no SEV-SNP attestation evidence")
	// ErrMalformed: the certificate or its evidence cannot be parsed.
	ErrMalformed = errors.New("malformed attested-TLS certificate")
	// ErrCertificate: the certificate is not self-signed by its key, or
	// is outside its validity period.
	ErrCertificate = errors.New("attested-TLS certificate not valid")
	// ErrBinding: the report's REPORT_DATA does not name this
	// certificate's key (a report made for another key).
	ErrBinding = errors.New("attestation report is bound to a different key")
	// ErrSignature: the report's signature or certificate chain does not
	// verify against the trusted roots.
	ErrSignature = errors.New("attestation report signature or certificate chain does not verify")
	// ErrClaims: the report is genuine but its claims (MEASUREMENT,
	// HOST_DATA, policy, TCB, VMPL) are not the expected ones.
	ErrClaims = errors.New("attestation report claims do not match the policy")
)

// Marshal encodes e as the extension's value.
func (e *Evidence) Marshal() ([]byte, error) {
	if len(e.Report) != reportSize {
		return nil, fmt.Errorf("atls: report is %d bytes, want %d", len(e.Report), reportSize)
	}
	if len(e.CertTable) > maxCertTable {
		return nil, fmt.Errorf("atls: certificate table is %d bytes, at most %d", len(e.CertTable), maxCertTable)
	}
	return asn1.Marshal(*e)
}

// ParseEvidence decodes an extension value written by Marshal.
func ParseEvidence(der []byte) (*Evidence, error) {
	var e Evidence
	rest, err := asn1.Unmarshal(der, &e)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: evidence: %v", ErrMalformed, err)
	case len(rest) != 0:
		return nil, fmt.Errorf("%w: evidence: %d trailing bytes", ErrMalformed, len(rest))
	case e.Version != Version:
		return nil, fmt.Errorf("%w: evidence version %d, this verifier reads %d", ErrMalformed, e.Version, Version)
	case len(e.Report) != reportSize:
		return nil, fmt.Errorf("%w: report is %d bytes, want %d", ErrMalformed, len(e.Report), reportSize)
	case len(e.CertTable) > maxCertTable:
		return nil, fmt.Errorf("%w: certificate table is %d bytes, at most %d", ErrMalformed, len(e.CertTable), maxCertTable)
	}
	return &e, nil
}

// Binding is the REPORT_DATA that binds a report to the key whose
// SubjectPublicKeyInfo (DER, as in an X.509 certificate) is spki.
func Binding(spki []byte) [64]byte {
	keyHash := sha256.Sum256(spki)
	h := sha512.New()
	h.Write([]byte(bindingLabel))
	h.Write(keyHash[:])
	var out [64]byte
	h.Sum(out[:0])
	return out
}

// ParseCertificate parses a DER certificate and the evidence it carries.
// It checks the form only: Verify checks what the evidence proves.
func ParseCertificate(der []byte) (*x509.Certificate, *Evidence, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var found []byte
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(OIDEvidence) {
			continue
		}
		if found != nil {
			return nil, nil, fmt.Errorf("%w: two evidence extensions", ErrMalformed)
		}
		found = ext.Value
	}
	if found == nil {
		return nil, nil, ErrNoEvidence
	}
	e, err := ParseEvidence(found)
	if err != nil {
		return nil, nil, err
	}
	return cert, e, nil
}
