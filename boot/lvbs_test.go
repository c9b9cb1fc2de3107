package boot

import (
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/skimage"
)

// TestLVBSLayout checks the entry's copy of the image format against
// lvbs/skimage, which mkimage writes it with.
func TestLVBSLayout(t *testing.T) {
	if lvbsBase != skimage.Base || lvbsOffMailbox != skimage.OffMailbox || lvbsOffCmdline != skimage.OffCmdline {
		t.Fatalf("boot: base %#x mailbox %#x cmdline %#x; skimage: %#x %#x %#x",
			lvbsBase, lvbsOffMailbox, lvbsOffCmdline, skimage.Base, skimage.OffMailbox, skimage.OffCmdline)
	}
	var m [8]byte
	for i := range m {
		m[i] = byte(lvbsMagic >> (8 * i))
	}
	if string(m[:]) != skimage.Magic {
		t.Fatalf("magic %q, skimage writes %q", m, skimage.Magic)
	}
	// The header fields the assembly reads at fixed offsets.
	if skimage.OffKernelLen != 0x18 || skimage.OffMemLen != 0x20 || skimage.OffInitrdLen != 0x28 || skimage.OffMagic != 0x10 {
		t.Fatal("lvbs_amd64.s reads the header at 0x10, 0x18, 0x20 and 0x28")
	}
}
