package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/north/attest/atls"
	"github.com/cocoon-vm/cocoon/north/attest/provision"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

// guest serves provisioning connections like images/secret does, on an
// attested-TLS server whose simulated guest has MEASUREMENT m.
func guest(t *testing.T, m [48]byte, sealed []byte) string {
	g, err := simpsp.NewGuest(m, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	s, err := atls.NewServer(atls.ServerOptions{Attest: g.ExtendedReport})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", s.Config())
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
			provision.Receive(c, sealed)
			c.Close()
		}
	}()
	return l.Addr().String()
}

func TestSealAndSend(t *testing.T) {
	dir := t.TempDir()
	key, data, sealed := filepath.Join(dir, "k"), filepath.Join(dir, "data"), filepath.Join(dir, "sealed")
	os.WriteFile(data, []byte("hello, guest"), 0o644)
	var out, errOut bytes.Buffer
	if code := run([]string{"seal", "-key", key, "-in", data, "-o", sealed}, &out, &errOut); code != 0 {
		t.Fatalf("seal: exit %d: %s", code, errOut.String())
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(sealed)
	m := [48]byte{0xaa}
	addr := guest(t, m, b)
	want := fmt.Sprintf("%x", sha256.Sum256([]byte("hello, guest")))

	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"verified", []string{"send", "-key", key, "-measurement", hex.EncodeToString(m[:]), "-test-root", addr}, 0, want},
		{"other measurement", []string{"send", "-key", key, "-measurement", hex.EncodeToString(make([]byte, 48)), "-test-root", addr}, 1, "key not sent"},
		{"AMD roots", []string{"send", "-key", key, "-measurement", hex.EncodeToString(m[:]), addr}, 1, "key not sent"},
		{"image without test root", []string{"send", "-key", key, "-image", "x", addr}, 1, "add -test-root"},
		{"two policies", []string{"send", "-key", key, "-image", "x", "-measurement", "00", addr}, 2, "exactly one"},
		{"no address", []string{"send", "-key", key, "-measurement", "00"}, 2, "Usage"},
	} {
		out.Reset()
		errOut.Reset()
		code := run(c.args, &out, &errOut)
		if code != c.code || !strings.Contains(out.String()+errOut.String(), c.out) {
			t.Errorf("%s: exit %d, want %d with %q in\n%s%s", c.name, code, c.code, c.out, out.String(), errOut.String())
		}
	}
}
