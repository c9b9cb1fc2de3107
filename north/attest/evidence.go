package attest

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Evidence is what an attesting program hands to the host: the report,
// the certificate table that came with it, the nonce it was asked to
// include, and optionally a derived key's fingerprint. It travels over
// the console as lines
//
//	cocoon-attest nonce HEX
//	cocoon-attest report BASE64
//	cocoon-attest certs BASE64
//	cocoon-attest key-sha256 HEX
//	cocoon-attest end
//
// among whatever else the program prints; the host picks them out with
// ParseEvidence.
type Evidence struct {
	Nonce  []byte
	Report []byte
	Certs  []byte // may be empty
	// KeySHA256 is the SHA-256 of a key the PSP derived: a fingerprint
	// that shows the key without revealing it.
	KeySHA256 []byte
}

// EvidencePrefix starts every evidence line.
const EvidencePrefix = "cocoon-attest "

// Write prints e as evidence lines.
func (e *Evidence) Write(w io.Writer) error {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s%s %s\n", EvidencePrefix, k, v) }
	line("nonce", hex.EncodeToString(e.Nonce))
	line("report", base64.StdEncoding.EncodeToString(e.Report))
	if len(e.Certs) > 0 {
		line("certs", base64.StdEncoding.EncodeToString(e.Certs))
	}
	if len(e.KeySHA256) > 0 {
		line("key-sha256", hex.EncodeToString(e.KeySHA256))
	}
	b.WriteString(EvidencePrefix + "end\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ErrNoEvidence reports console output without a complete set of
// evidence lines.
var ErrNoEvidence = errors.New("no attestation evidence (no 'cocoon-attest report' line ending in 'cocoon-attest end')")

// ParseEvidence finds the last complete evidence in console output.
func ParseEvidence(r io.Reader) (*Evidence, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var cur, done *Evidence
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimRight(sc.Text(), "\r"), EvidencePrefix)
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(rest, " ")
		if cur == nil {
			cur = &Evidence{}
		}
		var err error
		switch k {
		case "nonce":
			cur.Nonce, err = hex.DecodeString(v)
		case "report":
			cur.Report, err = base64.StdEncoding.DecodeString(v)
		case "certs":
			cur.Certs, err = base64.StdEncoding.DecodeString(v)
		case "key-sha256":
			cur.KeySHA256, err = hex.DecodeString(v)
		case "end":
			if cur.Report != nil {
				done = cur
			}
			cur = nil
		}
		if err != nil {
			return nil, fmt.Errorf("evidence line %q: %v", k, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if done == nil {
		return nil, ErrNoEvidence
	}
	return done, nil
}
