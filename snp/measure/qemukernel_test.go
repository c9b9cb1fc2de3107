package measure

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linuxImage returns a size-byte file with a Linux setup header whose
// setup_sects is sects, filled with a pattern of its offsets.
func linuxImage(size int, sects byte) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*13 + i>>9)
	}
	b[0x1f1] = sects
	copy(b[0x202:], "HdrS")
	return b
}

func TestCheckQEMUKernel(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want string // in the error; "" for none
	}{
		{"bzImage-like", linuxImage(8192, 3), ""},
		{"setup fills the file", linuxImage(4*512, 3), ""},
		{"setup_sects 0 means 4", linuxImage(5*512, 0), ""},
		{"setup_sects 0, file shorter than 4 sectors of setup", linuxImage(5*512-1, 0), "invalid kernel header"},
		{"setup longer than the file", linuxImage(4096, 200), "invalid kernel header"},
		{"empty", nil, "empty"},
		{"PVH ELF", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 4096)...), "ELF"},
		{"short ELF", []byte("\x7fELF"), "ELF"},
		{"no setup header", bytes.Repeat([]byte{0x90}, 4096), "no Linux setup header"},
		{"shorter than the magic", []byte("MZ"), "no Linux setup header"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		if err := os.WriteFile(path, tt.file, 0o644); err != nil {
			t.Fatal(err)
		}
		err := CheckQEMUKernel(path)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%d %s: CheckQEMUKernel = %v, want nil", i, tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%d %s: CheckQEMUKernel = %v, want an error mentioning %q", i, tt.name, err, tt.want)
		}
	}
	if err := CheckQEMUKernel(filepath.Join(dir, "missing")); err == nil {
		t.Error("CheckQEMUKernel(missing file) = nil")
	}
}

// TestKernelHashIsQEMUs checks that the kernel hash of a file QEMU loads
// as Linux is QEMU's: SHA-256 over the setup part, unpatched under SEV,
// followed by the kernel part, as x86_load_linux cuts them.
func TestKernelHashIsQEMUs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		sects byte
		setup int // bytes: (setup_sects+1)*512, with 0 standing for 4
	}{{0, 2560}, {1, 1024}, {3, 2048}, {30, 15872}} {
		sects := c.sects
		file := linuxImage(64<<10+7, sects)
		path := filepath.Join(dir, "kernel")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := CheckQEMUKernel(path); err != nil {
			t.Fatalf("setup_sects %d: %v", sects, err)
		}
		n, ok := qemuSetupSize(file)
		if !ok || n != c.setup {
			t.Fatalf("qemuSetupSize(setup_sects %d) = %d, %v, want %d", sects, n, ok, c.setup)
		}
		h := sha256.New()
		h.Write(file[:n]) // FW_CFG_SETUP_DATA
		h.Write(file[n:]) // FW_CFG_KERNEL_DATA
		var qemu [sha256.Size]byte
		h.Sum(qemu[:0])

		got, err := HashKernelFiles(path, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Kernel != qemu {
			t.Errorf("setup_sects %d: HashKernelFiles kernel = %x, QEMU hashes %x", sects, got.Kernel, qemu)
		}
		if table := got.Table(); !bytes.Contains(table, qemu[:]) {
			t.Errorf("setup_sects %d: the kernel-hashes table %x lacks QEMU's kernel hash %x", sects, table, qemu)
		}
	}
}
