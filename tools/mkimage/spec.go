package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cocoon-vm/cocoon/qemu"
)

// SpecFile is the spec file 'mkimage build' reads from the current
// directory when present (--spec FILE names another, --spec none none).
const SpecFile = "cocoon.json"

// Spec is an image's definition, kept in the project's repository: what
// 'mkimage build' flags say, as JSON. Every field is optional; flags given
// on the command line override it (list flags add to its lists). Paths
// are relative to the spec file's directory. The schema, field by field:
//
//	package   Go main package to build as the application ("./cmd/app")
//	elf       or: a static linux/amd64 executable to use instead
//	args      the application's arguments (after argv[0])
//	env       its environment, ["KEY=VALUE", ...]
//	workdir   its working directory in the image's file tree
//	files     [{"src": "host path", "dst": "/path/in/image"}, ...]
//	memory    guest RAM in MiB for 'mkimage run'
//	vcpus     number of vCPUs (of 'mkimage run', and of the measured launch)
//	platform  "pc" (default), "snp" (needs "measure") or "lvbs"
//	          by this mkimage
//	ports     published ports, ["HOSTPORT:GUESTPORT[/udp]", ...]
//	format    output format: "elf" (default), "efi", "disk" or "gce"
//	output    output NAME (NAME.elf, NAME.cpio, ...)
//	overcommit  the kernel's overcommit policy: "guess" (default) or
//	          "always" (mkimage build --overcommit)
//	network   whether the kernel has network: "auto" (default), "on" or
//	          "off" (mkimage build --network)
//	measure   the SEV-SNP launch to measure (implies format efi):
//	          {"ovmf": FILE, "vcpuType": T, "vcpuSig": S,
//	           "guestFeatures": "0x1", "vmmType": "qemu"|"ec2"|"gce"}
type Spec struct {
	Package  string       `json:"package"`
	ELF      string       `json:"elf"`
	Args     []string     `json:"args"`
	Env      []string     `json:"env"`
	Workdir  string       `json:"workdir"`
	Files    []SpecFileTo `json:"files"`
	Memory   int          `json:"memory"`
	VCPUs    int          `json:"vcpus"`
	Platform string       `json:"platform"`
	Ports    []string     `json:"ports"`
	Format   string       `json:"format"`
	Output   string       `json:"output"`
	Measure  *SpecMeasure `json:"measure"`
	// Overcommit is the kernel's overcommit policy.
	Overcommit string `json:"overcommit"`
	// Network is whether the kernel has network (--network).
	Network string `json:"network"`
}

// SpecFileTo is one entry of Spec.Files.
type SpecFileTo struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
}

// SpecMeasure is Spec.Measure.
type SpecMeasure struct {
	OVMF          string `json:"ovmf"`
	VCPUType      string `json:"vcpuType"`
	VCPUSig       string `json:"vcpuSig"`
	GuestFeatures string `json:"guestFeatures"`
	VMMType       string `json:"vmmType"`
}

// readSpec reads and checks the spec at path. Errors name the file and
// the bad field.
func readSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return nil, fmt.Errorf("%s: field %q: %s is not a %s", path, te.Field, te.Value, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return nil, fmt.Errorf("%s: %s (see 'mkimage build --help' for the fields)", path, strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: more than one JSON value", path)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

func fieldErr(field, format string, a ...any) error {
	return fmt.Errorf("field %q: %s", field, fmt.Sprintf(format, a...))
}

// check validates the fields on their own (the build checks the rest,
// such as whether a file exists).
func (s *Spec) check() error {
	if s.Package != "" && s.ELF != "" {
		return fieldErr("elf", "give package or elf, not both")
	}
	for i, e := range s.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fieldErr(fmt.Sprintf("env[%d]", i), "%q is not KEY=VALUE", e)
		}
	}
	for i, f := range s.Files {
		if f.Src == "" {
			return fieldErr(fmt.Sprintf("files[%d].src", i), "empty")
		}
		if f.Dst != "" && !strings.HasPrefix(f.Dst, "/") {
			return fieldErr(fmt.Sprintf("files[%d].dst", i), "%q is not an absolute path in the image", f.Dst)
		}
	}
	if s.Memory < 0 {
		return fieldErr("memory", "%d MiB is negative", s.Memory)
	}
	if s.VCPUs < 0 {
		return fieldErr("vcpus", "%d is negative", s.VCPUs)
	}
	switch s.Platform {
	case "", "pc":
	case "snp":
		if s.Measure == nil {
			return fieldErr("platform", `"snp" needs "measure": the launch measurement an SNP guest's reports are checked against`)
		}
	case "lvbs":
		if s.Measure != nil || s.Format != "" && s.Format != "elf" {
			return fieldErr("platform", `"lvbs" takes no "measure" and no "format" but "elf"`)
		}
	default:
		return fieldErr("platform", "%q is not pc, snp or lvbs", s.Platform)
	}
	for i, p := range s.Ports {
		if err := checkPort(p); err != nil {
			return fieldErr(fmt.Sprintf("ports[%d]", i), "%v", err)
		}
	}
	switch s.Format {
	case "", "elf", "efi", "disk", "gce":
	default:
		return fieldErr("format", "%q is not elf, efi, disk or gce", s.Format)
	}
	if err := checkOvercommit(s.Overcommit); err != nil {
		return fieldErr("overcommit", "%v", err)
	}
	if s.Network != "" {
		if err := checkNetworkMode(s.Network, s.Ports); err != nil {
			return fieldErr("network", "%v", err)
		}
	}
	if s.Measure != nil && s.Measure.OVMF == "" {
		return fieldErr("measure.ovmf", "required: the OVMF firmware the launch boots")
	}
	return nil
}

// checkPort checks a published port as mkimage run's --publish takes it.
func checkPort(p string) error {
	_, err := qemu.ParseForward(p)
	return err
}

// flags returns the spec as 'mkimage build' arguments, which the command
// line's own follow (and so override); dir is the spec's directory, which
// relative paths are relative to.
func (s *Spec) flags(dir string) []string {
	path := func(p string) string {
		if p == "" || filepath.IsAbs(p) || dir == "." {
			return p
		}
		return filepath.Join(dir, p)
	}
	var a []string
	add := func(flag, v string) {
		if v != "" {
			a = append(a, "--"+flag, v)
		}
	}
	for _, x := range s.Args {
		a = append(a, "--arg", x)
	}
	for _, e := range s.Env {
		a = append(a, "--env", e)
	}
	add("workdir", s.Workdir)
	for _, f := range s.Files {
		v := path(f.Src)
		if f.Dst != "" {
			v += ":" + f.Dst
		}
		a = append(a, "--file", v)
	}
	if s.Memory != 0 {
		add("m", strconv.Itoa(s.Memory))
	}
	if s.VCPUs != 0 {
		add("vcpus", strconv.Itoa(s.VCPUs))
	}
	for _, p := range s.Ports {
		a = append(a, "--publish", p)
	}
	add("format", s.Format)
	if s.Platform == "lvbs" {
		add("platform", s.Platform)
	}
	add("o", path(s.Output))
	add("overcommit", s.Overcommit)
	add("network", s.Network)
	if m := s.Measure; m != nil {
		a = append(a, "--measure")
		add("ovmf", path(m.OVMF))
		add("vcpu-type", m.VCPUType)
		add("vcpu-sig", m.VCPUSig)
		add("guest-features", m.GuestFeatures)
		add("vmm-type", m.VMMType)
	}
	return a
}

// pkg returns the spec's package, relative to dir as flags does.
func (s *Spec) pkg(dir string) string {
	if s.Package == "" || dir == "." || !strings.HasPrefix(s.Package, ".") {
		return s.Package
	}
	return "./" + filepath.Join(dir, s.Package)
}

// path returns p relative to dir.
func (s *Spec) path(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || dir == "." {
		return p
	}
	return filepath.Join(dir, p)
}

// findSpec reads the spec file the build arguments name (--spec FILE),
// or SpecFile if present; nil if none.
func findSpec(args []string) (*Spec, string, error) {
	path, named := SpecFile, false
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--spec", "-spec"} {
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				path, named = v, true
			} else if a == p && i+1 < len(args) {
				path, named = args[i+1], true
			}
		}
	}
	if path == "none" {
		return nil, "", nil
	}
	if _, err := os.Stat(path); err != nil && !named {
		return nil, "", nil
	}
	s, err := readSpec(path)
	if err != nil {
		return nil, "", err
	}
	return s, filepath.Dir(path), nil
}

// flagSet reports whether the flag name was given.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
