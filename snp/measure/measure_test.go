package measure

import (
	"crypto/sha512"
	"encoding/binary"
	"strings"
	"testing"
)

// TestLaunchDigestPageInfo checks one update against a PAGE_INFO built by
// hand from the field offsets of the SNP Firmware ABI table.
func TestLaunchDigestPageInfo(t *testing.T) {
	var seed Digest
	for i := range seed {
		seed[i] = byte(i)
	}
	page := make([]byte, PageSize)
	page[0] = 1
	l := NewLaunchDigest(seed)
	if err := l.AddPages(PageNormal, 0x7000, page); err != nil {
		t.Fatal(err)
	}
	var info [0x70]byte
	copy(info[0x00:], seed[:])
	contents := sha512.Sum384(page)
	copy(info[0x30:], contents[:])
	binary.LittleEndian.PutUint16(info[0x60:], 0x70)
	info[0x62] = 1 // PAGE_TYPE_NORMAL
	binary.LittleEndian.PutUint64(info[0x68:], 0x7000)
	if got, want := l.Sum(), Digest(sha512.Sum384(info[:])); got != want {
		t.Errorf("after one NORMAL page: %v, want %v", got, want)
	}

	l = NewLaunchDigest(seed)
	if err := l.AddEmptyPages(PageCPUID, 0x8000, PageSize); err != nil {
		t.Fatal(err)
	}
	clear(info[0x30:0x60])
	info[0x62] = 6 // PAGE_TYPE_CPUID
	binary.LittleEndian.PutUint64(info[0x68:], 0x8000)
	if got, want := l.Sum(), Digest(sha512.Sum384(info[:])); got != want {
		t.Errorf("after one CPUID page: %v, want %v", got, want)
	}
}

func TestLaunchDigestErrors(t *testing.T) {
	var l LaunchDigest
	for _, err := range []error{
		l.AddPages(PageNormal, 0x800, make([]byte, PageSize)),
		l.AddPages(PageNormal, 0, make([]byte, 100)),
		l.AddPages(PageZero, 0, make([]byte, PageSize)),
		l.AddEmptyPages(PageNormal, 0, PageSize),
		l.AddEmptyPages(PageZero, 0, 10),
		l.AddEmptyPages(PageZero, 0xffff_ffff_ffff_f000, 2*PageSize),
	} {
		if err == nil {
			t.Error("invalid update accepted")
		}
	}
	if l.Sum() != (Digest{}) {
		t.Error("rejected updates changed the digest")
	}
}

func TestMeasureErrors(t *testing.T) {
	fw, err := ParseOVMF(syntheticAmdSev(PageSize))
	if err != nil {
		t.Fatal(err)
	}
	noReset, err := ParseOVMF(buildOVMF(PageSize, nil, amdSevSections))
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := ParseOVMF(buildOVMF(PageSize, nil, []MetadataSection{{0x800000, 0x1000, 0x7}}))
	if err != nil {
		t.Fatal(err)
	}
	good := Options{VCPUs: 1, VCPUSignature: 0x800f12, GuestFeatures: 1}
	with := func(f func(*Options)) Options { o := good; f(&o); return o }
	tests := []struct {
		name string
		fw   *Firmware
		opts Options
		want string
	}{
		{"no vCPUs", fw, with(func(o *Options) { o.VCPUs = 0 }), "vCPUs"},
		{"no signature", fw, with(func(o *Options) { o.VCPUSignature = 0 }), "vCPU type"},
		{"no SNPActive", fw, with(func(o *Options) { o.GuestFeatures = 0x20 }), "SNPActive"},
		{"bad VMM", fw, with(func(o *Options) { o.VMM = 9 }), "VMM"},
		{"unaligned VMSA GPA", fw, with(func(o *Options) { o.VMSAGPA = 0x123 }), "VMSA"},
		{"APs without reset block", noReset, with(func(o *Options) { o.VCPUs = 2 }), "reset block"},
		{"kernel on GCE", fw, with(func(o *Options) { o.VMM = VMMGCE; o.KernelHashes = NewKernelHashes(nil, nil, "") }), "GCE"},
		{"unknown section", unknown, good, "unknown SEV metadata section"},
	}
	for _, tt := range tests {
		_, err := Measure(tt.fw, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Measure error = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := Measure(noReset, good); err != nil {
		t.Errorf("one vCPU without a reset block: %v", err)
	}
}

// TestMeasureVariants checks that each input the digest depends on changes
// it, and that the GCE and VMSA GPA options are used.
func TestMeasureVariants(t *testing.T) {
	fw, err := ParseOVMF(syntheticAmdSev(2 * PageSize))
	if err != nil {
		t.Fatal(err)
	}
	base := Options{VCPUs: 1, VCPUSignature: 0x800f12, GuestFeatures: 1}
	variants := map[string]Options{"base": base}
	add := func(name string, f func(*Options)) {
		o := base
		f(&o)
		variants[name] = o
	}
	add("2 vCPUs", func(o *Options) { o.VCPUs = 2 })
	add("signature", func(o *Options) { o.VCPUSignature = 0xa00f11 })
	add("features", func(o *Options) { o.GuestFeatures = 0x21 })
	add("ec2", func(o *Options) { o.VMM = VMMEC2 })
	add("gce", func(o *Options) { o.VMM = VMMGCE })
	add("vmsa gpa", func(o *Options) { o.VMSAGPA = 0xf_ffff_ffff_f000 })
	add("kernel", func(o *Options) { o.KernelHashes = NewKernelHashes([]byte("k"), nil, "") })
	add("cmdline", func(o *Options) { o.KernelHashes = NewKernelHashes([]byte("k"), nil, "x") })
	seen := map[Digest]string{}
	for name, o := range variants {
		d, err := Measure(fw, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if other, dup := seen[d]; dup {
			t.Errorf("%s and %s measure the same: %v", name, other, d)
		}
		seen[d] = name
	}
}

func TestParseVMM(t *testing.T) {
	for _, v := range []VMM{VMMQEMU, VMMEC2, VMMGCE} {
		got, err := ParseVMM(strings.ToUpper(v.String()))
		if err != nil || got != v {
			t.Errorf("ParseVMM(%q) = %v, %v, want %v", strings.ToUpper(v.String()), got, err, v)
		}
	}
	if _, err := ParseVMM("kvmtool"); err == nil || !strings.Contains(err.Error(), "qemu, ec2, gce") {
		t.Errorf("ParseVMM(kvmtool) error = %v, want one listing the VMMs", err)
	}
}

func TestParseDigest(t *testing.T) {
	const s = "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"
	d, err := ParseDigest(s)
	if err != nil || d.String() != s {
		t.Errorf("ParseDigest(%q) = %v, %v", s, d, err)
	}
	for _, bad := range []string{"", s[:94], s + "00", "zz" + s[2:]} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) succeeded, want an error", bad)
		}
	}
	var u Digest
	if err := u.UnmarshalText([]byte(s)); err != nil || u != d {
		t.Errorf("UnmarshalText = %v, %v", u, err)
	}
}

func TestAddZeroNormalPages(t *testing.T) {
	data := make([]byte, 3*PageSize)
	data[5] = 1
	var whole, split LaunchDigest
	if err := whole.AddPages(PageNormal, 0x10000, data); err != nil {
		t.Fatal(err)
	}
	if err := split.AddPages(PageNormal, 0x10000, data[:PageSize]); err != nil {
		t.Fatal(err)
	}
	if err := split.addZeroNormalPages(0x11000, 2*PageSize); err != nil {
		t.Fatal(err)
	}
	if whole.Sum() != split.Sum() {
		t.Errorf("zero pages measured without contents = %v, want %v", split.Sum(), whole.Sum())
	}
}
