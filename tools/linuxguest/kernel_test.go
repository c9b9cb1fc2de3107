package linuxguest

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int // its sign
	}{
		{"vmlinuz-6.1.0-9-cloud-amd64", "vmlinuz-6.1.0-56-cloud-amd64", -1},
		{"vmlinuz-6.1.0-56-cloud-amd64", "vmlinuz-6.1.0-56-cloud-amd64", 0},
		{"vmlinuz-6.10.0-1-cloud-amd64", "vmlinuz-6.9.0-1-cloud-amd64", 1},
		{"vmlinuz-6.1.0-056-cloud-amd64", "vmlinuz-6.1.0-56-cloud-amd64", 0},
		{"vmlinuz-6.1", "vmlinuz-6.1.0", -1},
		{"vmlinuz-6.1.0-9-cloud-amd64", "vmlinuz-6.1.0-9-cloud-amd65", -1},
	} {
		got := compareVersions(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
		if sign(compareVersions(tt.b, tt.a)) != -tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestNewestKernel(t *testing.T) {
	dir := t.TempDir()
	if got := newestKernel(dir); got != "" {
		t.Errorf("newestKernel(empty dir) = %q, want \"\"", got)
	}
	for _, name := range []string{"vmlinuz-6.1.0-9-cloud-amd64", "vmlinuz-6.1.0-56-cloud-amd64", "vmlinuz-6.1.0-60-amd64", "config-6.1.0-70-cloud-amd64"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(dir, "vmlinuz-6.1.0-56-cloud-amd64")
	if got := newestKernel(dir); got != want {
		t.Errorf("newestKernel(%v) = %q, want %q", dir, got, want)
	}
}

func TestKernelFromEnv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bzImage")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(KernelEnv, p)
	if got, err := Kernel(context.Background(), t.TempDir()); err != nil || got != p {
		t.Errorf("Kernel() with $%s=%s = %q, %v; want %q, nil", KernelEnv, p, got, err, p)
	}
	t.Setenv(KernelEnv, p+".missing")
	if _, err := Kernel(context.Background(), t.TempDir()); err == nil || !strings.Contains(err.Error(), KernelEnv) {
		t.Errorf("Kernel() with a missing $%s = %v, want an error naming it", KernelEnv, err)
	}
}

func TestKernelDependency(t *testing.T) {
	for _, tt := range []struct{ depends, want string }{
		{"linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)", "linux-image-6.1.0-56-cloud-amd64=6.1.192-2"},
		{"linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n", "linux-image-6.1.0-56-cloud-amd64=6.1.192-2"},
		{"initramfs-tools, linux-image-6.12.9-cloud-amd64", "linux-image-6.12.9-cloud-amd64"},
		{"linux-image-6.1.0-56-cloud-amd64 (>= 6.1)", "linux-image-6.1.0-56-cloud-amd64"},
	} {
		if got, err := kernelDependency(tt.depends); err != nil || got != tt.want {
			t.Errorf("kernelDependency(%q) = %q, %v; want %q, nil", tt.depends, got, err, tt.want)
		}
	}
	if got, err := kernelDependency("libc6 (>= 2.36)"); err == nil {
		t.Errorf("kernelDependency(no linux-image) = %q, nil; want an error", got)
	}
}

// debTar returns a tar stream laid out like a kernel package's data.
func debTar(t *testing.T, files map[string]string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"./", "./boot/", "./boot/System.map-6.1.0-56-cloud-amd64", "./boot/vmlinuz-6.1.0-56-cloud-amd64", "./lib/modules/vmlinuz-decoy"} {
		body, ok := files[name]
		if !ok {
			continue
		}
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestCopyVmlinuz(t *testing.T) {
	dir := t.TempDir()
	r := debTar(t, map[string]string{
		"./":                                     "",
		"./lib/modules/vmlinuz-decoy":            "no",
		"./boot/":                                "",
		"./boot/System.map-6.1.0-56-cloud-amd64": "map",
		"./boot/vmlinuz-6.1.0-56-cloud-amd64":    "bzImage",
	})
	name, err := copyVmlinuz(r, dir)
	if err != nil || name != "vmlinuz-6.1.0-56-cloud-amd64" {
		t.Fatalf("copyVmlinuz() = %q, %v; want %q, nil", name, err, "vmlinuz-6.1.0-56-cloud-amd64")
	}
	if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != "bzImage" {
		t.Errorf("copied vmlinuz = %q, %v; want %q", got, err, "bzImage")
	}

	name, err = copyVmlinuz(debTar(t, map[string]string{"./boot/": "", "./lib/modules/vmlinuz-decoy": "no"}), t.TempDir())
	if err != nil || name != "" {
		t.Errorf("copyVmlinuz(no vmlinuz) = %q, %v; want \"\", nil", name, err)
	}
}
