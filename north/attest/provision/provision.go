// Package provision hands a secret to an attested guest: a relying party
// verifies the guest over attested TLS (north/attest/atls) and only then
// sends it a 32-byte key, which the guest uses to open data sealed into
// its image. The key never touches the console, a shared page or the
// image; only its owner and the verified guest hold it.
//
// On the connection, after the TLS 1.3 handshake the client verified:
//
//	client → guest:  "cocoon-provision 1\n" || key (32 bytes)
//	guest → client:  "ok " || hex SHA-256 of the opened data || "\n"
//	             or  "error " || reason || "\n"
//
// Sealed data is nonce (12 bytes) || AES-256-GCM ciphertext and tag, with
// the additional data "cocoon-sealed-v1".
package provision

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// KeySize is the size of a provisioning key (AES-256).
const KeySize = 32

const (
	hello   = "cocoon-provision 1\n"
	aad     = "cocoon-sealed-v1"
	maxLine = 256
)

// Seal encrypts plaintext under key.
func Seal(key [KeySize]byte, plaintext []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plaintext, []byte(aad)), nil
}

// Open decrypts what Seal made.
func Open(key [KeySize]byte, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("sealed data too short")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, errors.New("the key does not open the sealed data")
	}
	return plain, nil
}

func newAEAD(key [KeySize]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Send gives key to the guest at the other end of conn, which the caller
// has verified (an atls client connection), and returns the SHA-256 of
// the data the guest opened with it.
func Send(conn net.Conn, key [KeySize]byte) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	conn.SetDeadline(time.Now().Add(time.Minute))
	msg := append([]byte(hello), key[:]...)
	if _, err := conn.Write(msg); err != nil {
		return sum, fmt.Errorf("provision: send: %w", err)
	}
	line, err := bufio.NewReaderSize(io.LimitReader(conn, maxLine), maxLine).ReadString('\n')
	if err != nil {
		return sum, fmt.Errorf("provision: no answer from the guest: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	switch {
	case strings.HasPrefix(line, "error "):
		return sum, fmt.Errorf("provision: the guest refused: %s", strings.TrimPrefix(line, "error "))
	case strings.HasPrefix(line, "ok "):
		b, err := hex.DecodeString(strings.TrimPrefix(line, "ok "))
		if err != nil || len(b) != sha256.Size {
			return sum, fmt.Errorf("provision: malformed answer %q", line)
		}
		copy(sum[:], b)
		return sum, nil
	}
	return sum, fmt.Errorf("provision: malformed answer %q", line)
}

// Receive reads a key from conn (a connection to the guest's atls
// server), opens sealed with it and answers. It returns the opened data,
// or an error if the client sent no key or a key that does not open it
// (the client is told why).
func Receive(conn net.Conn, sealed []byte) ([]byte, error) {
	conn.SetDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, len(hello)+KeySize)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, fmt.Errorf("provision: no key: %w", err)
	}
	if string(buf[:len(hello)]) != hello {
		fmt.Fprintf(conn, "error not a cocoon-provision 1 client\n")
		return nil, errors.New("provision: not a cocoon-provision 1 client")
	}
	var key [KeySize]byte
	copy(key[:], buf[len(hello):])
	clear(buf)
	plain, err := Open(key, sealed)
	clear(key[:])
	if err != nil {
		fmt.Fprintf(conn, "error %v\n", err)
		return nil, fmt.Errorf("provision: %w", err)
	}
	sum := sha256.Sum256(plain)
	if _, err := fmt.Fprintf(conn, "ok %x\n", sum); err != nil {
		return nil, fmt.Errorf("provision: answer: %w", err)
	}
	return plain, nil
}
