package boot

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel"
)

func TestParseStartInfo(t *testing.T) {
	phys := make([]byte, 0x10000)
	le := binary.LittleEndian
	const si, ml, mm, cmd = 0x1000, 0x2000, 0x3000, 0x4000
	le.PutUint32(phys[si+siMagic:], startInfoMagic)
	le.PutUint32(phys[si+siVersion:], 1)
	le.PutUint32(phys[si+siNrModules:], 1)
	le.PutUint64(phys[si+siModlistPaddr:], ml)
	le.PutUint64(phys[si+siCmdlinePaddr:], cmd)
	le.PutUint64(phys[si+siMemmapPaddr:], mm)
	le.PutUint32(phys[si+siMemmapEntries:], 2)
	le.PutUint64(phys[ml:], 0x800000)
	le.PutUint64(phys[ml+8:], 0x12345)
	le.PutUint64(phys[mm:], 0)
	le.PutUint64(phys[mm+8:], 0x9fc00)
	le.PutUint32(phys[mm+16:], 1)
	le.PutUint64(phys[mm+24:], 0x100000)
	le.PutUint64(phys[mm+32:], 0x7f00000)
	le.PutUint32(phys[mm+40:], 1)
	read := func(addr, n uint64) []byte {
		if addr+n > uint64(len(phys)) {
			return nil
		}
		return phys[addr : addr+n]
	}
	var info kernel.BootInfo
	if !parseStartInfo(phys[si:si+startInfoSize], si, read, &info) {
		t.Fatal("parseStartInfo = false")
	}
	if info.NMem != 2 || info.Mem[1] != (kernel.MemRegion{Base: 0x100000, Size: 0x7f00000, Type: 1}) {
		t.Errorf("memory map = %+v", info.Mem[:info.NMem])
	}
	if info.Initrd != 0x800000 || info.InitrdSize != 0x12345 || info.Cmdline != cmd {
		t.Errorf("initrd %#x+%#x cmdline %#x", info.Initrd, info.InitrdSize, info.Cmdline)
	}
	kept := map[uint64]bool{}
	for _, k := range info.Keep[:info.NKeep] {
		kept[k.Base] = true
	}
	for _, a := range []uint64{si, ml, mm, cmd, 0x800000} {
		if !kept[a] {
			t.Errorf("%#x not kept from reuse", a)
		}
	}

	le.PutUint32(phys[si+siMagic:], 0x1badb002)
	if parseStartInfo(phys[si:si+startInfoSize], si, read, &kernel.BootInfo{}) {
		t.Error("parseStartInfo accepted a bad magic")
	}
	// A memory map longer than BootInfo holds is truncated, not overrun.
	le.PutUint32(phys[si+siMagic:], startInfoMagic)
	le.PutUint32(phys[si+siMemmapEntries:], 1000)
	var big kernel.BootInfo
	parseStartInfo(phys[si:si+startInfoSize], si, read, &big)
	if big.NMem > len(big.Mem) {
		t.Errorf("NMem = %d overruns", big.NMem)
	}
}

// TestKeepOverflow: a range that does not fit is counted, so that
// kernel.Boot refuses to boot rather than hand it out as free memory.
func TestKeepOverflow(t *testing.T) {
	var info kernel.BootInfo
	for i := 0; i <= len(info.Keep); i++ {
		keep(&info, uint64(i+1)<<20, 4096)
	}
	keep(&info, 0x1000, 0) // empty: not counted
	if info.NKeep != len(info.Keep)+1 {
		t.Errorf("NKeep = %d, want %d", info.NKeep, len(info.Keep)+1)
	}
	if info.Keep[len(info.Keep)-1].Base != uint64(len(info.Keep))<<20 {
		t.Errorf("last kept range %+v", info.Keep[len(info.Keep)-1])
	}
}
