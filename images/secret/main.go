// Command secret is the attested-TLS demo application: it starts an
// attested TLS server (north/attest/atls), waits for a relying party to
// verify it and send the key (north/attest/provision), opens the data
// sealed into its image with that key, and prints proof that it did: the
// size and SHA-256 of what it opened, never the data or the key.
//
//	provision seal -key out/demo.key -in data.txt -o out/data.sealed
//	mkimage build ./images/secret --file out/data.sealed:/secret.sealed -o out/secret
//	mkimage attest --publish 8443:8443 out/secret     (simulated PSP)
//	provision send -key out/demo.key -image out/secret -test-root 127.0.0.1:8443
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/north/attest/atls"
	"github.com/cocoon-vm/cocoon/north/attest/provision"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "secret: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("secret", flag.ContinueOnError)
	addr := fs.String("addr", ":8443", "listen on `ADDR`")
	sealedPath := fs.String("sealed", "/secret.sealed", "the sealed data, `FILE`")
	tries := fs.Int("tries", 10, "give up after `N` connections that bring no working key")
	misbind := fs.Bool("misbind", false, "for tests of relying parties: ask for a report bound to another key, which a relying party must refuse")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sealed, err := os.ReadFile(*sealedPath)
	if err != nil {
		return err
	}
	opts := atls.ServerOptions{CommonName: "cocoon-secret-demo"}
	if *misbind {
		opts.Attest = func(d [64]byte) ([]byte, []byte, error) {
			d[0] ^= 1
			return attest.ExtendedReport(d)
		}
	}
	s, err := atls.NewServer(opts)
	if err != nil {
		return err
	}
	l, err := tls.Listen("tcp", *addr, s.Config())
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Fprintf(stdout, "secret: attested TLS server on %s, waiting for the key\n", l.Addr())
	for i := 0; i < *tries; i++ {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		plain, err := provision.Receive(c, sealed)
		c.Close()
		if err != nil {
			fmt.Fprintf(stdout, "secret: connection from %s: %v\n", c.RemoteAddr(), err)
			continue
		}
		fmt.Fprintf(stdout, "secret: opened %d bytes with the provisioned key, SHA-256 %x\n", len(plain), sha256.Sum256(plain))
		clear(plain)
		return nil
	}
	return fmt.Errorf("no working key after %d connections", *tries)
}
