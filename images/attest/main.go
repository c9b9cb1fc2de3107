// Command attest proves what it runs on: given a nonce (hex, up to 64
// bytes) on its command line, it fetches an extended SEV-SNP attestation
// report whose REPORT_DATA is the nonce, zero-padded, through
// /dev/sev-guest with go-sev-guest's client package, the same code Linux
// SNP guests use, and asks the PSP for a key derived from its measurement
// and policy through Cocoon's north/attest. It prints the report, the
// certificate table and the key's SHA-256 as attest.Evidence lines, which
// 'mkimage verify' and 'mkimage attest' read from the console. With
// -rounds N it first times N report round trips (make bench).
//
//	mkimage build ./images/attest -o out/attest
//	mkimage attest out/attest          (boot with a simulated PSP, verify)
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/client"

	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "attest: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("attest", flag.ContinueOnError)
	rounds := fs.Int("rounds", 0, "also time `N` SNP_GET_REPORT round trips and print their median")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: attest [-rounds N] NONCE (hex, at most 64 bytes)")
	}
	nonce, err := hex.DecodeString(fs.Arg(0))
	if err != nil || len(nonce) > attest.ReportDataSize {
		return fmt.Errorf("nonce %q: want at most %d bytes in hex", fs.Arg(0), attest.ReportDataSize)
	}
	var reportData [attest.ReportDataSize]byte
	copy(reportData[:], nonce)
	if *rounds > 0 {
		if err := timeRoundTrips(*rounds, reportData, stdout); err != nil {
			return err
		}
	}

	qp, err := client.GetQuoteProvider()
	if err != nil {
		return fmt.Errorf("%w (go-sev-guest: %v)", attest.ErrUnavailable, err)
	}
	quote, err := qp.GetRawQuote(reportData)
	if err != nil {
		return fmt.Errorf("go-sev-guest GetRawQuote: %v", err)
	}
	if len(quote) < abi.ReportSize {
		return fmt.Errorf("go-sev-guest returned %d bytes, less than a report", len(quote))
	}
	e := &attest.Evidence{Nonce: nonce, Report: quote[:abi.ReportSize], Certs: quote[abi.ReportSize:]}

	key, err := attest.DeriveKey(&guestmsg.KeyRequest{GuestFieldSelect: guestmsg.FieldMeasurement | guestmsg.FieldGuestPolicy})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(key[:])
	e.KeySHA256 = sum[:]
	return e.Write(stdout)
}

// timeRoundTrips prints the median time of n report requests, from the
// ioctl to the authenticated report in hand.
func timeRoundTrips(n int, reportData [attest.ReportDataSize]byte, stdout io.Writer) error {
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		if _, err := attest.GetReport(reportData); err != nil {
			return err
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	_, err := fmt.Fprintf(stdout, "%sround-trip-median-ns %d\n", attest.EvidencePrefix, times[n/2].Nanoseconds())
	return err
}
