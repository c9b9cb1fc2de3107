package simpsp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/google/go-sev-guest/abi"

	"github.com/cocoon-vm/cocoon/snp/secrets"
)

// Launch is what the PSP knows about one guest: the keys it shares with
// it and the values the launch fixed, which its reports carry.
type Launch struct {
	// Secrets is the guest's secrets page: the launcher places it in
	// guest memory; its VMPCKs seal the guest messages.
	Secrets *secrets.Page
	// Measurement is MEASUREMENT, the launch digest.
	Measurement [abi.MeasurementSize]byte
	// HostData is HOST_DATA, chosen by the host at launch.
	HostData [abi.HostDataSize]byte
	// Policy is the guest POLICY (SNP Firmware ABI, table "Guest
	// Policy Structure").
	Policy uint64
	// FamilyID and ImageID come from the ID block; zero without one.
	FamilyID [abi.FamilyIDSize]byte
	ImageID  [abi.ImageIDSize]byte
	// GuestSVN is the guest's security version number.
	GuestSVN uint32
	// VMPL is the privilege level the guest runs at; it may ask for
	// reports and keys at this level or a less privileged one.
	VMPL uint32
	// VMRK is the VM root key, from which keys with ROOT_KEY_SELECT 1
	// derive. Without a migration agent the PSP makes one at launch.
	VMRK [32]byte
	// ReportID is REPORT_ID, the guest's unique ID for this launch.
	ReportID [abi.ReportIDSize]byte
	// TSCScale and TSCOffset are the simulated Secure TSC parameters
	// MSG_TSC_INFO_RSP reports (GUEST_TSC_SCALE, 8.32 fixed point, and
	// GUEST_TSC_OFFSET). Simulated: nothing scales a TSC under plain
	// QEMU. Its TSC_FACTOR is Secrets.TSCFactor.
	TSCScale, TSCOffset uint64
}

// DefaultPolicy is the guest policy of a simulated launch: ABI 0.0,
// SMT allowed, bit 17 (reserved, must be one) set; no debugging, no
// migration agent, more than one socket allowed.
var DefaultPolicy = abi.SnpPolicyToBytes(abi.SnpPolicy{SMT: true})

// NewLaunch returns a Launch with fresh random VMPCKs (all four, as the
// PSP fills them), VMRK and REPORT_ID, DefaultPolicy, and the given
// measurement and host data.
func NewLaunch(measurement [abi.MeasurementSize]byte, hostData [abi.HostDataSize]byte) (*Launch, error) {
	l := &Launch{
		Secrets:     &secrets.Page{Version: secrets.Version3},
		Measurement: measurement,
		HostData:    hostData,
		Policy:      DefaultPolicy,
		TSCScale:    1 << 32, // 1.0: the guest TSC runs at the host's rate
	}
	c, err := DefaultChip()
	if err != nil {
		return nil, err
	}
	l.Secrets.FMS = c.CPUID1EAX
	for i := range l.Secrets.VMPCK {
		if _, err := io.ReadFull(rand.Reader, l.Secrets.VMPCK[i][:]); err != nil {
			return nil, err
		}
	}
	if _, err := io.ReadFull(rand.Reader, l.VMRK[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand.Reader, l.ReportID[:]); err != nil {
		return nil, err
	}
	return l, nil
}

// LaunchDigest is the MEASUREMENT a simulated launch reports for a
// kernel and initrd booted directly (PVH, no firmware): SHA-384 over a
// label and the SHA-256 digests of the two files. It is not the SEV-SNP
// launch digest (snp/measure computes that for an OVMF launch); it binds
// a report to the exact image the same way. The kernel command line is
// left out: under the simulator it carries per-run values (the secrets
// page address, a nonce) that a verifier cannot know in advance.
func LaunchDigest(kernel, initrd []byte) [abi.MeasurementSize]byte {
	k, i := sha256.Sum256(kernel), sha256.Sum256(initrd)
	h := sha512.New384()
	h.Write([]byte("cocoon simulated SEV-SNP launch v1\x00"))
	binary.Write(h, binary.LittleEndian, uint32(len(kernel)))
	h.Write(k[:])
	binary.Write(h, binary.LittleEndian, uint32(len(initrd)))
	h.Write(i[:])
	var d [abi.MeasurementSize]byte
	h.Sum(d[:0])
	return d
}

// LaunchDigestFiles is LaunchDigest of the files at kernel and initrd;
// an empty initrd path stands for no initrd.
func LaunchDigestFiles(kernel, initrd string) ([abi.MeasurementSize]byte, error) {
	k, err := os.ReadFile(kernel)
	if err != nil {
		return [abi.MeasurementSize]byte{}, fmt.Errorf("simulated launch digest: %w", err)
	}
	var i []byte
	if initrd != "" {
		if i, err = os.ReadFile(initrd); err != nil {
			return [abi.MeasurementSize]byte{}, fmt.Errorf("simulated launch digest: %w", err)
		}
	}
	return LaunchDigest(k, i), nil
}
