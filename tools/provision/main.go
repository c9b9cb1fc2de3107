// Command provision is a relying party for Cocoon's attested-TLS demo:
// it seals data under a key kept on the host, and later hands that key to
// a guest only after verifying, over attested TLS, that the guest runs
// the expected image.
//
//	provision seal -key FILE -in DATA -o SEALED
//	provision send -key FILE (-measurement HEX | -measurement-file JSON | -image NAME -test-root) HOST:PORT
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/cocoon-vm/cocoon/north/attest/atls"
	"github.com/cocoon-vm/cocoon/north/attest/provision"
	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `Usage:
  provision seal -key FILE -in DATA -o SEALED
      seal DATA under the 32-byte key in FILE (made, mode 0600, if absent)
  provision send -key FILE [policy] HOST:PORT
      verify the attested-TLS server at HOST:PORT, then send it the key;
      prints the SHA-256 of what the guest opened with it
    policy: -measurement HEX, -measurement-file NAME.efi.measurement.json
      (written by 'mkimage build --measure'), or -image NAME -test-root
      (the simulated launch digest of NAME.elf and NAME.cpio; trusts the
      simulated PSP's TEST-ONLY roots)
Exit status: 0 done, 1 refused or failed, 2 usage.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "seal":
		err = seal(args[1:], stdout, stderr)
	case "send":
		err = send(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "provision: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "provision: %v\n", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func seal(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("provision seal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the key `FILE` (32 bytes; made if absent)")
	in := fs.String("in", "", "the data to seal, `FILE`")
	out := fs.String("o", "", "where to write the sealed data, `FILE`")
	if fs.Parse(args) != nil || *keyPath == "" || *in == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	key, err := readKey(*keyPath, true)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	sealed, err := provision.Seal(key, data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, sealed, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "provision: sealed %d bytes (SHA-256 %x) into %s\n", len(data), sha256.Sum256(data), *out)
	return nil
}

// readKey reads a 32-byte key file, making one if create and it is absent.
func readKey(path string, create bool) ([provision.KeySize]byte, error) {
	var key [provision.KeySize]byte
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		if _, err := rand.Read(key[:]); err != nil {
			return key, err
		}
		return key, os.WriteFile(path, key[:], 0o600)
	}
	if err != nil {
		return key, err
	}
	if len(b) != provision.KeySize {
		return key, fmt.Errorf("%s: %d bytes, want a %d-byte key", path, len(b), provision.KeySize)
	}
	copy(key[:], b)
	return key, nil
}

func send(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("provision send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "the key `FILE`")
	meas := fs.String("measurement", "", "expected MEASUREMENT, `HEX` (48 bytes)")
	measFile := fs.String("measurement-file", "", "expected MEASUREMENT from `JSON` written by 'mkimage build --measure'")
	image := fs.String("image", "", "with -test-root: expect the simulated launch digest of `NAME`.elf and NAME.cpio")
	testRoot := fs.Bool("test-root", false, "trust the simulated PSP's TEST-ONLY roots instead of AMD's")
	wait := fs.Duration("wait", 0, "keep trying for `DURATION` while the server is not up yet (a guest still booting)")
	if fs.Parse(args) != nil || *keyPath == "" || fs.NArg() != 1 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	p := atls.Policy{Warn: stderr}
	p.GuestPolicy.SMT = true
	var err error
	switch {
	case *meas != "" && *measFile == "" && *image == "":
		if p.Measurement, err = hex.DecodeString(*meas); err != nil {
			return fmt.Errorf("-measurement: %v", err)
		}
	case *measFile != "" && *meas == "" && *image == "":
		r, err := measure.ReadExpected(*measFile)
		if err != nil {
			return err
		}
		p.Measurement = r.Measurement[:]
	case *image != "" && *meas == "" && *measFile == "":
		if !*testRoot {
			return errors.New("-image gives the simulated launch digest, which only the simulated PSP reports: add -test-root, or give -measurement-file for hardware")
		}
		m, err := simpsp.LaunchDigestFiles(*image+".elf", *image+".cpio")
		if err != nil {
			return err
		}
		p.Measurement = m[:]
	default:
		fmt.Fprintln(stderr, "provision send: give exactly one of -measurement, -measurement-file, -image")
		return errUsage
	}
	if *testRoot {
		chip, err := simpsp.DefaultChip()
		if err != nil {
			return err
		}
		p.TestRoots, p.AllowTestRoots = chip.TestRoots(), true
	}
	key, err := readKey(*keyPath, false)
	if err != nil {
		return err
	}
	cfg, err := atls.ClientConfig(p)
	if err != nil {
		return err
	}
	conn, err := dial(fs.Arg(0), cfg, *wait)
	if err != nil {
		return fmt.Errorf("%s: guest not verified, key not sent: %w", fs.Arg(0), err)
	}
	defer conn.Close()
	fmt.Fprintf(stdout, "provision: %s verified: MEASUREMENT %x\n", fs.Arg(0), p.Measurement)
	sum, err := provision.Send(conn, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "provision: key sent; the guest opened data with SHA-256 %x\n", sum)
	return nil
}

// dial connects and verifies, retrying for up to wait while the server
// cannot be reached or hangs up during the handshake (under QEMU's user
// networking the host port accepts before the guest listens). A server
// that answers but fails verification is not tried again.
func dial(addr string, cfg *tls.Config, wait time.Duration) (*tls.Conn, error) {
	deadline := time.Now().Add(wait)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", addr, cfg)
		if err == nil || verifyFailed(err) || time.Now().After(deadline) {
			return conn, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func verifyFailed(err error) bool {
	for _, e := range []error{atls.ErrNoEvidence, atls.ErrMalformed, atls.ErrCertificate, atls.ErrBinding, atls.ErrSignature, atls.ErrClaims} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
