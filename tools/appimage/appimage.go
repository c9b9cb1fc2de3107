// Package appimage packages an application for Cocoon on the host: it
// builds a Go program as a static linux/amd64 executable (BuildGo),
// refuses executables Cocoon cannot run before anything boots
// (CheckStatic), and writes the initrd the kernel starts it from: a cpio
// "newc" archive with the program as /init plus any files the
// application needs (Pack).
//
// Pack's output is a function of its inputs' names, contents, modes and
// symlink targets only (sorted entries, zero times and owners, inode
// numbers by position), because the SEV-SNP launch measurement hashes
// the initrd: the same application must always give the same bytes.
package appimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/cocoon-vm/cocoon/north/loader"
)

// BuildGo builds the Go main package pkg (an import path or a ./relative
// directory, resolved in dir; "" means the current directory) with the
// stock toolchain as a static Linux x86-64 executable (GOOS=linux
// GOARCH=amd64 CGO_ENABLED=0, -trimpath so the bytes do not depend on
// where the source lives). It writes the executable to a new temporary
// file and returns its path; the caller removes it.
func BuildGo(ctx context.Context, pkg, dir string) (string, error) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not found: install Go (https://go.dev/dl) and put it on PATH: %w", err)
	}
	f, err := os.CreateTemp("", "cocoon-app-*")
	if err != nil {
		return "", err
	}
	out := f.Name()
	f.Close()
	cmd := exec.CommandContext(ctx, gocmd, "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(out)
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	if err := CheckStatic(out); err != nil {
		os.Remove(out)
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return out, nil
}

// CheckStatic reports whether the file at path is an executable Cocoon
// can run: a static ELF64 x86-64 program. A dynamically linked program
// is refused naming its interpreter, a program for another machine
// naming that machine, each with what to do about it.
func CheckStatic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if _, err := loader.Parse(f, st.Size()); err != nil {
		if errors.Is(err, loader.ErrNotELF) {
			return fmt.Errorf("%s: not an ELF executable: Cocoon runs static linux/amd64 programs (scripts need an interpreter Cocoon does not have)", path)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// archivePath returns dst as a cpio member name: cleaned, relative to
// the archive root, with no way above it.
func archivePath(dst string) (string, error) {
	if dst == "" {
		return "", errors.New("empty destination path")
	}
	p := strings.TrimPrefix(path.Clean("/"+dst), "/")
	if p == "" {
		return "", fmt.Errorf("destination %q is the archive root", dst)
	}
	return p, nil
}
