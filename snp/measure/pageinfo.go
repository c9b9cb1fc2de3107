package measure

import (
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// PageSize is the granule of SNP_LAUNCH_UPDATE: every PAGE_INFO describes
// one 4 KiB page.
const PageSize = 4096

// DigestSize is the size of a launch digest: SHA-384 (SEV-SNP Firmware ABI,
// section 8.17.2, PAGE_INFO DIGEST_CUR and CONTENTS fields).
const DigestSize = sha512.Size384

// Digest is an SNP launch digest: the value the ASP reports in the
// MEASUREMENT field of an attestation report (SEV-SNP Firmware ABI,
// ATTESTATION_REPORT structure, offset 0x90, 48 bytes).
type Digest [DigestSize]byte

// String returns d in lower-case hex, the form sev-snp-measure prints.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText implements encoding.TextMarshaler (hex), so JSON carries the
// digest as a hex string.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (hex).
func (d *Digest) UnmarshalText(text []byte) error {
	parsed, err := ParseDigest(string(text))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// ParseDigest parses a 96-digit hex string into a Digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if hex.DecodedLen(len(s)) != DigestSize {
		return d, fmt.Errorf("launch digest %q: want %d hex digits (SHA-384), got %d", s, 2*DigestSize, len(s))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("launch digest %q: %v", s, err)
	}
	return d, nil
}

// PageType is the PAGE_TYPE field of a PAGE_INFO: how SNP_LAUNCH_UPDATE
// treats the page (SEV-SNP Firmware ABI, section 8.17 SNP_LAUNCH_UPDATE,
// PAGE_TYPE encodings).
type PageType uint8

// Page types.
const (
	// PageNormal pages have their contents measured and encrypted.
	PageNormal PageType = 0x1
	// PageVMSA is a vCPU's VM save area; its contents are measured.
	PageVMSA PageType = 0x2
	// PageZero pages are zero-filled by the ASP; contents are not hashed.
	PageZero PageType = 0x3
	// PageUnmeasured pages are encrypted but neither hashed nor zeroed.
	PageUnmeasured PageType = 0x4
	// PageSecrets is the secrets page the ASP fills with VMPCKs.
	PageSecrets PageType = 0x5
	// PageCPUID is the CPUID page the ASP checks against the platform.
	PageCPUID PageType = 0x6
)

// String names t as the SEV-SNP Firmware ABI does.
func (t PageType) String() string {
	switch t {
	case PageNormal:
		return "NORMAL"
	case PageVMSA:
		return "VMSA"
	case PageZero:
		return "ZERO"
	case PageUnmeasured:
		return "UNMEASURED"
	case PageSecrets:
		return "SECRETS"
	case PageCPUID:
		return "CPUID"
	}
	return fmt.Sprintf("PageType(%#x)", uint8(t))
}

// contentsMeasured reports whether the CONTENTS field of a PAGE_INFO of this
// type carries the SHA-384 of the page; for every other type it is zero
// (SEV-SNP Firmware ABI, section 8.17.2, SNP_LAUNCH_UPDATE actions).
func (t PageType) contentsMeasured() bool { return t == PageNormal || t == PageVMSA }

// Layout of the PAGE_INFO structure (SEV-SNP Firmware ABI, section 8.17.2
// SNP_LAUNCH_UPDATE, table "Layout of the PAGE_INFO Structure"; Table 67 in
// the 2022 revisions, table numbers shift between revisions).
const (
	pageInfoDigestCur  = 0x00 // DIGEST_CUR, 48 bytes: the digest so far
	pageInfoContents   = 0x30 // CONTENTS, 48 bytes: SHA-384 of the page, or zero
	pageInfoLength     = 0x60 // LENGTH, 16 bits: size of PAGE_INFO, 0x70
	pageInfoPageType   = 0x62 // PAGE_TYPE, 8 bits
	pageInfoIMIPage    = 0x63 // bit 0: IMI_PAGE
	pageInfoVMPL3Perms = 0x64 // VMPL3_PERMS, 8 bits
	pageInfoVMPL2Perms = 0x65 // VMPL2_PERMS, 8 bits
	pageInfoVMPL1Perms = 0x66 // VMPL1_PERMS, 8 bits
	// 0x67 is reserved.
	pageInfoGPA = 0x68 // GPA, 64 bits: guest physical address of the page

	// PageInfoSize is the size of a PAGE_INFO structure.
	PageInfoSize = 0x70
)

// PageInfo is one PAGE_INFO structure: what SNP_LAUNCH_UPDATE hashes to
// extend the launch digest (SEV-SNP Firmware ABI, section 8.17.2).
type PageInfo struct {
	DigestCur  Digest
	Contents   Digest
	PageType   PageType
	IMIPage    bool
	VMPL3Perms uint8
	VMPL2Perms uint8
	VMPL1Perms uint8
	GPA        uint64
}

// Put writes p in its ABI layout to b[:PageInfoSize]; the reserved byte is
// zero and LENGTH is PageInfoSize.
func (p *PageInfo) Put(b []byte) {
	b = b[:PageInfoSize]
	copy(b[pageInfoDigestCur:], p.DigestCur[:])
	copy(b[pageInfoContents:], p.Contents[:])
	binary.LittleEndian.PutUint16(b[pageInfoLength:], PageInfoSize)
	b[pageInfoPageType] = byte(p.PageType)
	b[pageInfoIMIPage] = 0
	if p.IMIPage {
		b[pageInfoIMIPage] = 1
	}
	b[pageInfoVMPL3Perms] = p.VMPL3Perms
	b[pageInfoVMPL2Perms] = p.VMPL2Perms
	b[pageInfoVMPL1Perms] = p.VMPL1Perms
	b[pageInfoVMPL1Perms+1] = 0
	binary.LittleEndian.PutUint64(b[pageInfoGPA:], p.GPA)
}

// LaunchDigest replays SNP_LAUNCH_UPDATE: each added page extends the digest
// with SHA-384 of its PAGE_INFO, DIGEST_CUR being the previous digest.
// The zero value starts from the all-zero digest, as SNP_LAUNCH_START does.
// VMPL permissions are those of a guest launched at VMPL0 (all zero), and
// no page is an IMI page.
type LaunchDigest struct {
	cur Digest
	buf [PageInfoSize]byte
}

// NewLaunchDigest returns a LaunchDigest that continues from seed, such as
// a precomputed OVMF hash.
func NewLaunchDigest(seed Digest) *LaunchDigest { return &LaunchDigest{cur: seed} }

// Sum returns the digest so far.
func (l *LaunchDigest) Sum() Digest { return l.cur }

// extend folds one PAGE_INFO into the digest.
func (l *LaunchDigest) extend(t PageType, gpa uint64, contents *Digest) {
	info := PageInfo{DigestCur: l.cur, PageType: t, GPA: gpa}
	if contents != nil {
		info.Contents = *contents
	}
	info.Put(l.buf[:])
	l.cur = sha512.Sum384(l.buf[:])
}

// checkRange rejects a range the ASP would refuse: a GPA that is not page
// aligned, a length that is not a whole number of pages, or a wrap past
// 2^64.
func checkRange(t PageType, gpa, length uint64) error {
	if gpa%PageSize != 0 {
		return fmt.Errorf("%v pages at GPA %#x: address is not 4 KiB aligned", t, gpa)
	}
	if length%PageSize != 0 {
		return fmt.Errorf("%v pages at GPA %#x: length %#x is not a multiple of 4 KiB", t, gpa, length)
	}
	if gpa+length < gpa {
		return fmt.Errorf("%v pages at GPA %#x: length %#x wraps the address space", t, gpa, length)
	}
	return nil
}

// AddPages measures data as consecutive pages of type t (PageNormal or
// PageVMSA, the types whose contents are hashed) starting at gpa.
func (l *LaunchDigest) AddPages(t PageType, gpa uint64, data []byte) error {
	if !t.contentsMeasured() {
		return fmt.Errorf("%v pages have no measured contents: use AddEmptyPages", t)
	}
	if err := checkRange(t, gpa, uint64(len(data))); err != nil {
		return err
	}
	for _, sum := range hashPages(data) {
		l.extend(t, gpa, &sum)
		gpa += PageSize
	}
	return nil
}

// AddEmptyPages measures length bytes of pages of type t starting at gpa,
// for the types whose CONTENTS field is zero: PageZero, PageUnmeasured,
// PageSecrets and PageCPUID.
func (l *LaunchDigest) AddEmptyPages(t PageType, gpa, length uint64) error {
	switch t {
	case PageZero, PageUnmeasured, PageSecrets, PageCPUID:
	default:
		return fmt.Errorf("%v pages have measured contents: use AddPages", t)
	}
	if err := checkRange(t, gpa, length); err != nil {
		return err
	}
	for off := uint64(0); off < length; off += PageSize {
		l.extend(t, gpa+off, nil)
	}
	return nil
}

// zeroPageDigest is SHA-384 of a 4 KiB page of zeros.
var zeroPageDigest = Digest(sha512.Sum384(make([]byte, PageSize)))

// addZeroNormalPages measures length bytes of zero-filled NORMAL pages at
// gpa without materializing them, so a large section costs no memory.
func (l *LaunchDigest) addZeroNormalPages(gpa, length uint64) error {
	if err := checkRange(PageNormal, gpa, length); err != nil {
		return err
	}
	for off := uint64(0); off < length; off += PageSize {
		l.extend(PageNormal, gpa+off, &zeroPageDigest)
	}
	return nil
}
