package linuxguest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// KernelPackage is Debian's metapackage for the newest cloud kernel; it
// depends on the versioned package, linux-image-<abi>-cloud-amd64, that
// holds /boot/vmlinuz-<abi>-cloud-amd64.
const KernelPackage = "linux-image-cloud-amd64"

// KernelEnv is the environment variable that names a vmlinuz to use
// instead of looking for Debian's.
const KernelEnv = "COCOON_LINUX_KERNEL"

// kernelGlob matches the file names of Debian's cloud kernels.
const kernelGlob = "vmlinuz-*-cloud-amd64"

// bootDir is where an installed kernel package puts vmlinuz.
const bootDir = "/boot"

// DefaultCacheDir returns where fetched kernels are kept:
// $XDG_CACHE_HOME/cocoon/linuxguest, or ~/.cache/cocoon/linuxguest.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("linuxguest: no cache directory (%w): set XDG_CACHE_HOME or HOME", err)
	}
	return filepath.Join(dir, "cocoon", "linuxguest"), nil
}

// Kernel returns the path of a Debian cloud kernel (a bzImage): the file
// $COCOON_LINUX_KERNEL names if set, else the newest
// /boot/vmlinuz-*-cloud-amd64, else the newest in cacheDir (default
// DefaultCacheDir), else one FetchKernel downloads into cacheDir.
func Kernel(ctx context.Context, cacheDir string) (string, error) {
	if p := os.Getenv(KernelEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("linuxguest: $%s: %w", KernelEnv, err)
		}
		return p, nil
	}
	if cacheDir == "" {
		var err error
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return "", err
		}
	}
	for _, dir := range []string{bootDir, cacheDir} {
		if p := newestKernel(dir); p != "" {
			return p, nil
		}
	}
	return FetchKernel(ctx, cacheDir)
}

// newestKernel returns the path of the newest cloud kernel in dir, or ""
// if it has none.
func newestKernel(dir string) string {
	paths, _ := filepath.Glob(filepath.Join(dir, kernelGlob))
	if len(paths) == 0 {
		return ""
	}
	return slices.MaxFunc(paths, func(a, b string) int { return compareVersions(filepath.Base(a), filepath.Base(b)) })
}

// compareVersions orders strings as versions: runs of digits compare as
// numbers, the rest byte by byte, so vmlinuz-6.1.0-9 < vmlinuz-6.1.0-56.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

// digits returns the length of the run of ASCII digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n
}

// FetchKernel downloads Debian's cloud kernel into dir and returns the
// path of its vmlinuz there. It needs apt-get, apt-cache and dpkg-deb and
// the host's apt package lists, but not root: apt-get download fetches
// KernelPackage, whose dependency names the versioned kernel package,
// which is fetched in turn and from which only boot/vmlinuz-* is kept.
func FetchKernel(ctx context.Context, dir string) (string, error) {
	for _, tool := range []string{"apt-get", "apt-cache", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("linuxguest: fetching %s needs %s, which is missing: run on Debian or Ubuntu, or set $%s to a vmlinuz",
				KernelPackage, tool, KernelEnv)
		}
	}
	policy, err := command(ctx, "", "apt-cache", "policy", KernelPackage)
	if err != nil {
		return "", err
	}
	if !strings.Contains(policy, "Candidate:") || strings.Contains(policy, "Candidate: (none)") {
		return "", fmt.Errorf("linuxguest: apt knows no %s: run apt-get update (as root), or set $%s to a vmlinuz",
			KernelPackage, KernelEnv)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("linuxguest: kernel cache: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "fetch-")
	if err != nil {
		return "", fmt.Errorf("linuxguest: kernel cache: %w", err)
	}
	defer os.RemoveAll(tmp)

	meta, err := download(ctx, tmp, KernelPackage)
	if err != nil {
		return "", err
	}
	depends, err := command(ctx, "", "dpkg-deb", "--field", meta, "Depends")
	if err != nil {
		return "", err
	}
	pkg, err := kernelDependency(depends)
	if err != nil {
		return "", err
	}
	deb, err := download(ctx, tmp, pkg)
	if err != nil {
		return "", err
	}
	name, err := extractVmlinuz(ctx, deb, tmp)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	if err := os.Rename(filepath.Join(tmp, name), dst); err != nil {
		return "", fmt.Errorf("linuxguest: kernel cache: %w", err)
	}
	return dst, nil
}

// kernelDependency returns, from the Depends field of KernelPackage, the
// versioned kernel package to download as apt-get's "name=version".
func kernelDependency(depends string) (string, error) {
	for dep := range strings.SplitSeq(depends, ",") {
		// Each is "name" or "name (op version)"; alternatives
		// ("a | b") do not occur in the kernel metapackages.
		name, rest, _ := strings.Cut(strings.TrimSpace(dep), " ")
		if !strings.HasPrefix(name, "linux-image-") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(rest), "(= "); ok {
			return name + "=" + strings.TrimSuffix(v, ")"), nil
		}
		return name, nil
	}
	return "", fmt.Errorf("linuxguest: %s depends on no linux-image package (Depends: %q)", KernelPackage, strings.TrimSpace(depends))
}

// download runs apt-get download for pkg in dir and returns the path of
// the .deb it wrote.
func download(ctx context.Context, dir, pkg string) (string, error) {
	before, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if _, err := command(ctx, dir, "apt-get", "download", pkg); err != nil {
		return "", fmt.Errorf("%w (if the package lists are stale, run apt-get update as root)", err)
	}
	after, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	for _, p := range after {
		if !slices.Contains(before, p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("linuxguest: apt-get download %s wrote no .deb into %s", pkg, dir)
}

// extractVmlinuz copies boot/vmlinuz-* from the kernel package deb into
// dir and returns its file name. dpkg-deb turns the package's data
// member, whatever its compression, into a plain tar stream.
func extractVmlinuz(ctx context.Context, deb, dir string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", fmt.Errorf("linuxguest: dpkg-deb: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("linuxguest: dpkg-deb: %w", err)
	}
	name, err := copyVmlinuz(out, dir)
	// Drain the rest so dpkg-deb does not fail on a closed pipe.
	io.Copy(io.Discard, out)
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("linuxguest: dpkg-deb --fsys-tarfile %s: %v: %s", deb, werr, strings.TrimSpace(stderr.String()))
	}
	if err == nil && name == "" {
		err = fmt.Errorf("linuxguest: %s holds no boot/vmlinuz-*", filepath.Base(deb))
	}
	return name, err
}

// copyVmlinuz writes the first regular file boot/vmlinuz-* of the tar
// stream r into dir and returns its name, or "" if there is none.
func copyVmlinuz(r io.Reader, dir string) (string, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("linuxguest: kernel package: %w", err)
		}
		p := path.Clean(strings.TrimPrefix(h.Name, "./"))
		name := path.Base(p)
		if h.Typeflag != tar.TypeReg || path.Dir(p) != "boot" || !strings.HasPrefix(name, "vmlinuz-") {
			continue
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("linuxguest: kernel cache: %w", err)
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("linuxguest: kernel cache: %w", err)
		}
		return name, nil
	}
}

// command runs name with args in dir and returns its standard output, or
// an error quoting its standard error.
func command(ctx context.Context, dir, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("linuxguest: %s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
