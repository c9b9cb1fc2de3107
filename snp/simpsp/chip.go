package simpsp

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify/trust"
	"github.com/google/uuid"
)

// Chip is the simulated machine: an AMD EPYC whose VCEK is certified by
// go-sev-guest's test-only ARK and ASK. Their private keys are published
// in go-sev-guest's source, so anything the Chip signs proves nothing to
// a verifier that trusts AMD's real roots, which is the point: a report
// from the simulator must never pass for one from hardware.
type Chip struct {
	// Signer holds the test-only ARK, ASK and VCEK and their keys.
	Signer *sevtest.AmdSigner
	// ProductName is the VCEK certificate's product, e.g. "Milan-B1".
	ProductName string
	// CPUID1EAX is the family, model and stepping the report carries
	// (CPUID_1_EAX, report version 3).
	CPUID1EAX uint32
	// TCB is the firmware's TCB: current, committed, reported and
	// launch TCB alike, and the TCB of the VCEK certificate.
	TCB kds.TCBParts
	// ChipID is CHIP_ID, the VCEK certificate's HWID.
	ChipID [abi.ChipIDSize]byte
	// Firmware version: CURRENT and COMMITTED build, minor and major.
	Build, Minor, Major uint8
	// RootSecret stands for the chip-unique secret from which the PSP
	// derives VCEK-rooted keys (MSG_KEY_REQ with ROOT_KEY_SELECT 0): the
	// same chip derives the same keys for the same guest fields.
	RootSecret [32]byte
}

// The simulated chip. Its values are fixed so that reports, certificates
// and derived keys are the same from run to run and machine to machine.
const (
	chipProductName = "Milan-B1"
	chipFamily      = 0x19
	chipModel       = 0x01
	chipStepping    = 0x01
)

var (
	// chipCreation is when the test-only certificates were made: fixed,
	// so two processes build identical chains.
	chipCreation = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	chipTCB      = kds.TCBParts{BlSpl: 4, TeeSpl: 0, SnpSpl: 23, UcodeSpl: 213}
)

// signMu serializes go-sev-guest's test signer, whose randomness source
// is a package-level math/rand.Rand that is not safe for concurrent use.
var signMu sync.Mutex

var (
	chipOnce sync.Once
	chip     *Chip
	chipErr  error
)

// DefaultChip returns the simulated chip. It is built once per process
// and must not be modified.
func DefaultChip() (*Chip, error) {
	chipOnce.Do(func() { chip, chipErr = newChip() })
	return chip, chipErr
}

func newChip() (*Chip, error) {
	c := &Chip{
		ProductName: chipProductName,
		CPUID1EAX:   abi.FmsToCpuid1Eax(chipFamily, chipModel, chipStepping),
		TCB:         chipTCB,
		Build:       21,
		Minor:       55,
		Major:       1,
		RootSecret:  sha256.Sum256([]byte("cocoon simulated PSP: chip root secret")),
	}
	c.ChipID = sha512.Sum512([]byte("cocoon simulated PSP: chip ID"))
	b := &sevtest.AmdSignerBuilder{
		Keys:             sevtest.DefaultAmdKeys(),
		ProductName:      chipProductName,
		CSPID:            "cocoon-simulated-psp",
		ArkCreationTime:  chipCreation,
		AskCreationTime:  chipCreation,
		AsvkCreationTime: chipCreation,
		VcekCreationTime: chipCreation,
		VlekCreationTime: chipCreation,
		HWID:             c.ChipID,
		VcekCustom: sevtest.CertOverride{
			Extensions: sevtest.CustomExtensions(chipTCB, c.ChipID[:], "", chipProductName),
		},
	}
	signMu.Lock()
	s, err := b.TestOnlyCertChain()
	signMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("simulated PSP: test-only certificate chain: %v", err)
	}
	c.Signer = s
	return c, nil
}

// tcbVersion returns TCB as the 64-bit TCB_VERSION.
func (c *Chip) tcbVersion() uint64 {
	v, err := kds.ComposeTCBParts(c.TCB)
	if err != nil {
		panic("simulated PSP: chip TCB out of range: " + err.Error())
	}
	return uint64(v)
}

// TestRoots returns the chip's test-only ARK and ASK as go-sev-guest's
// verify package takes trusted roots: the map for verify.Options's
// TrustedRoots. Trust them only to check reports of the simulator.
func (c *Chip) TestRoots() map[string][]*trust.AMDRootCerts {
	line := kds.ProductLineOfProductName(c.ProductName)
	r := trust.AMDRootCertsProduct(line)
	r.ProductCerts = &trust.ProductCerts{Ark: c.Signer.Ark, Ask: c.Signer.Ask}
	return map[string][]*trust.AMDRootCerts{line: {r}}
}

// CertTable returns the certificate table an extended guest request
// returns ("SEV-ES Guest-Hypervisor Communication Block Standardization",
// section 4.1.8.1 "Certificate table"): entries of GUID, offset and
// length ending in an all-zero entry, followed by the VCEK, ASK and ARK
// certificates (DER).
func (c *Chip) CertTable() ([]byte, error) {
	certs := []struct {
		guid string
		der  []byte
	}{
		{abi.VcekGUID, c.Signer.Vcek.Raw},
		{abi.AskGUID, c.Signer.Ask.Raw},
		{abi.ArkGUID, c.Signer.Ark.Raw},
	}
	off := uint32((len(certs) + 1) * abi.CertTableEntrySize)
	size := off
	for _, e := range certs {
		size += uint32(len(e.der))
	}
	table := make([]byte, size)
	for i, e := range certs {
		h := abi.CertTableHeaderEntry{GUID: uuid.MustParse(e.guid), Offset: off, Length: uint32(len(e.der))}
		if err := h.Write(table[i*abi.CertTableEntrySize:]); err != nil {
			return nil, err
		}
		copy(table[off:], e.der)
		off += uint32(len(e.der))
	}
	return table, nil
}
