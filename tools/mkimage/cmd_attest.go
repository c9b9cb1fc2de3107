package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

func init() {
	commands["attest"] = command{
		summary: "boot an image with a simulated PSP, hand it a nonce, verify the report it returns",
		run:     runAttest,
	}
}

// nonceSize is the size of the fresh nonce attest hands the guest.
const nonceSize = 32

func runAttest(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage attest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var claims claimFlags
	claims.register(fs, false)
	profile := fs.String("profile", string(qemu.DefaultProfile), "QEMU machine `PROFILE`: microvm or q35")
	mem := fs.Int("m", 256, "guest RAM in `MiB`")
	accel := fs.String("accel", string(qemu.DefaultAccel), "accelerator: tcg, kvm, or auto")
	timeout := fs.Duration("timeout", 5*time.Minute, "kill the guest after `DURATION`")
	verbose := fs.Bool("v", false, "show the QEMU command line and the guest's console")
	asJSON := fs.Bool("json", false, "print the verification result as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: mkimage attest [flags] IMAGE

Boots IMAGE (as 'mkimage build' wrote it: IMAGE.elf and IMAGE.cpio, whose
program prints attestation evidence, like ./images/attest) under QEMU with
a simulated PSP attached, hands the guest a fresh random nonce as its
argument, collects the report it prints, and verifies it as 'mkimage verify
--test-root' does: signature and chain against the simulator's TEST-ONLY
roots, REPORT_DATA against the nonce, MEASUREMENT against the simulated
launch digest of IMAGE.elf and IMAGE.cpio (unless --measurement or
--image say otherwise), policy, TCB and VMPL.

Exit status: 0 verified, %d unusable evidence, %d bad signature or
certificate chain, %d claims do not match, 1 the guest failed.

Flags:
`, exitInput, exitSignature, exitClaims)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	claims.testRoot = true
	want, err := claims.expectations()
	if err != nil {
		fmt.Fprintf(stderr, "mkimage attest: %v\n", err)
		return errUsage
	}
	base := strings.TrimSuffix(fs.Arg(0), ".elf")
	kernel, initrd := base+".elf", base+".cpio"
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%v (build the image with 'mkimage build ./images/attest -o %s')", err, base)
		}
	}

	if claims.measurement == "" && claims.image == "" {
		// The verifier's own computation from the image files, not the
		// launcher's word.
		d, err := simpsp.LaunchDigestFiles(kernel, initrd)
		if err != nil {
			return err
		}
		want.measurement, want.measurementFrom = d[:], "the simulated launch digest of "+kernel+" and "+initrd
	}

	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	want.reportData, want.reportDataFrom = make([]byte, attest.ReportDataSize), "the nonce"
	copy(want.reportData, nonce)
	var psp qemu.PSP
	if want.hostData == nil {
		want.hostData, want.hostDataFrom = make([]byte, len(psp.HostData)), "the HOST_DATA given to the launcher"
	}
	copy(psp.HostData[:], want.hostData)

	line, err := cmdline.Line(cmdline.App{Args: []string{hex.EncodeToString(nonce)}})
	if err != nil {
		return err
	}
	cfg := qemu.Config{
		Profile:   qemu.Profile(*profile),
		Kernel:    kernel,
		Initrd:    initrd,
		Append:    line,
		MemoryMiB: *mem,
		Accel:     qemu.Accel(*accel),
		Timeout:   *timeout,
	}
	if *verbose {
		cfg.Log, cfg.Console = stderr, stderr
	}
	ctx, stop := stopContext()
	fmt.Fprintf(stdout, "Booting %s under QEMU with a simulated PSP; nonce %x\n", kernel, nonce)
	res, ran, err := qemu.RunWithPSP(ctx, cfg, psp)
	if sig := stop(); sig != nil {
		return sig
	}
	if err != nil {
		var ee *qemu.ExitError
		if res != nil && !*verbose && errors.As(err, &ee) {
			fmt.Fprintf(stderr, "guest console:\n%s", res.Console)
		}
		return fmt.Errorf("the guest failed: %v", err)
	}
	fmt.Fprintf(stdout, "Guest ran for %v; the PSP answered %d report and %d key requests\n",
		res.Wall.Round(time.Millisecond), ran.Reports, ran.Keys)
	if ran.Err != nil {
		fmt.Fprintf(stdout, "  warning: the simulated PSP stopped: %v\n", ran.Err)
	}

	var s *summary
	e, err := attest.ParseEvidence(strings.NewReader(res.Console))
	if err != nil {
		fmt.Fprintf(stderr, "guest console:\n%s", res.Console)
		s = (&summary{TestRoot: true}).fail(verdictInput, exitInput, err)
	} else {
		if len(e.KeySHA256) > 0 {
			fmt.Fprintf(stdout, "Derived key (measurement, policy) SHA-256: %x\n", e.KeySHA256)
		}
		if att, err := attestationOf(e.Report, e.Certs); err != nil {
			s = (&summary{TestRoot: true}).fail(verdictInput, exitInput, err)
		} else {
			s = checkReport(att, want)
		}
	}
	if err := s.output(stdout, *asJSON); err != nil {
		return err
	}
	return s.err()
}
