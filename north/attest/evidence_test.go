package attest

import (
	"bytes"
	"strings"
	"testing"
)

func TestEvidenceRoundTrip(t *testing.T) {
	e := &Evidence{Nonce: []byte{1, 2}, Report: bytes.Repeat([]byte{3}, 1184), Certs: []byte("certs"), KeySHA256: []byte{4}}
	var b bytes.Buffer
	b.WriteString("cocoon: booting\r\n")
	if err := e.Write(&b); err != nil {
		t.Fatal(err)
	}
	console := strings.ReplaceAll(b.String(), "\n", "\r\n") + "cocoon: exit 0\n"
	got, err := ParseEvidence(strings.NewReader(console))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Nonce, e.Nonce) || !bytes.Equal(got.Report, e.Report) || !bytes.Equal(got.Certs, e.Certs) || !bytes.Equal(got.KeySHA256, e.KeySHA256) {
		t.Errorf("ParseEvidence = %+v, want %+v", got, e)
	}
}

func TestEvidenceIncomplete(t *testing.T) {
	for name, console := range map[string]string{
		"nothing":   "hello\n",
		"no end":    EvidencePrefix + "report AAAA\n",
		"no report": EvidencePrefix + "nonce 00\n" + EvidencePrefix + "end\n",
	} {
		if _, err := ParseEvidence(strings.NewReader(console)); err != ErrNoEvidence {
			t.Errorf("%s: %v, want ErrNoEvidence", name, err)
		}
	}
	if _, err := ParseEvidence(strings.NewReader(EvidencePrefix + "report !!!\n")); err == nil {
		t.Error("bad base64 accepted")
	}
}
