package provision

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/north/attest/atls"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

var measurement = [48]byte{1, 2, 3}

func TestSealOpen(t *testing.T) {
	key := [KeySize]byte{9}
	sealed, err := Seal(key, []byte("the data"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("the data")) {
		t.Fatal("sealed data contains the plaintext")
	}
	if got, err := Open(key, sealed); err != nil || string(got) != "the data" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := Open([KeySize]byte{8}, sealed); err == nil {
		t.Error("another key opened the data")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := Open(key, sealed); err == nil {
		t.Error("tampered data opened")
	}
}

// guest serves one provisioning connection on an attested-TLS server of
// MEASUREMENT measurement and returns what Receive returned.
func guest(t *testing.T, sealed []byte) (addr string, result chan error, opened chan []byte) {
	t.Helper()
	g, err := simpsp.NewGuest(measurement, [32]byte{})
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
	result, opened = make(chan error, 1), make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			result <- err
			return
		}
		defer c.Close()
		plain, err := Receive(c, sealed)
		opened <- plain
		result <- err
	}()
	return l.Addr().String(), result, opened
}

func policy(t *testing.T, m []byte) atls.Policy {
	chip, err := simpsp.DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	p := atls.Policy{Measurement: m, TestRoots: chip.TestRoots(), AllowTestRoots: true, Warn: io.Discard}
	p.GuestPolicy.SMT = true
	return p
}

func dial(t *testing.T, addr string, p atls.Policy) (*tls.Conn, error) {
	cfg, err := atls.ClientConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Dial("tcp", addr, cfg)
}

func TestProvision(t *testing.T) {
	key := [KeySize]byte{42}
	data := []byte("database password")
	sealed, err := Seal(key, data)
	if err != nil {
		t.Fatal(err)
	}
	addr, result, opened := guest(t, sealed)
	c, err := dial(t, addr, policy(t, measurement[:]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sum, err := Send(c, key)
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256(data) {
		t.Errorf("guest reports SHA-256 %x of what it opened, want %x", sum, sha256.Sum256(data))
	}
	if err := <-result; err != nil {
		t.Fatalf("guest: %v", err)
	}
	if got := <-opened; !bytes.Equal(got, data) {
		t.Errorf("guest opened %q", got)
	}
}

func TestWrongKey(t *testing.T) {
	sealed, err := Seal([KeySize]byte{1}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	addr, result, _ := guest(t, sealed)
	c, err := dial(t, addr, policy(t, measurement[:]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Send(c, [KeySize]byte{2}); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("Send(wrong key) = %v", err)
	}
	if err := <-result; err == nil {
		t.Fatal("guest accepted a wrong key")
	}
}

// TestUnverifiedGuestGetsNothing: a relying party that expects another
// measurement stops at the handshake; the guest never sees the key.
func TestUnverifiedGuestGetsNothing(t *testing.T) {
	key := [KeySize]byte{7}
	sealed, err := Seal(key, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	addr, result, opened := guest(t, sealed)
	other := measurement
	other[0] ^= 1
	if c, err := dial(t, addr, policy(t, other[:])); err == nil {
		c.Close()
		t.Fatal("handshake with a guest of another measurement succeeded")
	}
	if err := <-result; err == nil {
		t.Fatal("guest received a key")
	}
	if got := <-opened; got != nil {
		t.Fatalf("guest opened %q", got)
	}
}

func TestNotAClient(t *testing.T) {
	a, b := net.Pipe()
	go func() {
		a.Write(make([]byte, len(hello)+KeySize))
		io.Copy(io.Discard, a)
	}()
	if _, err := Receive(b, nil); err == nil {
		t.Fatal("Receive accepted a stranger's bytes")
	}
	b.Close()
}
