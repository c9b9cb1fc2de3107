package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// cocoonModule is the module mkimage and the kernel belong to.
const cocoonModule = "github.com/cocoon-vm/cocoon"

// kernelSource is where mkimage builds Cocoon's kernel from: the source
// of the Cocoon module at mkimage's own version, so that 'mkimage build'
// works in any module, with no checkout of Cocoon.
//
// mkimage finds it from its build information (runtime/debug): installed
// with 'go install github.com/cocoon-vm/cocoon/tools/mkimage@VERSION',
// it is that version, whose source the go command keeps in the module
// cache ('go mod download' fetches it again if the cache was cleaned);
// built from a module that requires Cocoon, it is the required version,
// or the directory a replace directive names. Only a mkimage built inside
// a checkout of Cocoon ("(devel)") has no version: it uses the Cocoon
// module the current directory's module sees (the checkout itself, when
// run there). Building the kernel when mkimage is installed and embedding
// it would need a generate step that 'go install' cannot run; the module
// cache needs none and keeps the kernel's source at hand, version-pinned
// and checksummed by go.sum's database.
type kernelSource struct {
	Version string // the module version, or "(devel)"
	Dir     string // the module's source directory
	From    string // how it was found, for 'mkimage version'
}

// findKernelSource returns where to build the kernel from.
func findKernelSource(ctx context.Context) (kernelSource, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return kernelSource{}, errors.New("mkimage has no build information: build it with the go command")
	}
	mod := &bi.Main
	if mod.Path != cocoonModule {
		mod = nil
		for _, d := range bi.Deps {
			if d.Path == cocoonModule {
				mod = d
			}
		}
		if mod == nil {
			return kernelSource{}, fmt.Errorf("mkimage's build information does not list %s", cocoonModule)
		}
	}
	if r := mod.Replace; r != nil {
		if r.Version == "" || r.Version == "(devel)" {
			dir, err := filepath.Abs(r.Path)
			if err != nil {
				return kernelSource{}, err
			}
			return kernelSource{Version: mod.Version, Dir: dir, From: "the directory mkimage's go.mod replaces " + cocoonModule + " with"}, nil
		}
		return moduleCache(ctx, r.Path, r.Version)
	}
	if mod.Version == "" || mod.Version == "(devel)" {
		return currentModule(ctx)
	}
	return moduleCache(ctx, mod.Path, mod.Version)
}

// moduleCache returns the source of path@version in the module cache,
// downloading it if needed.
func moduleCache(ctx context.Context, path, version string) (kernelSource, error) {
	// Outside any module, so that the user's go.mod and go.work have
	// no say.
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); err != nil || jerr != nil || m.Dir == "" {
		return kernelSource{}, fmt.Errorf("fetching the kernel's source, %s@%s, into the module cache: %v %s %s",
			path, version, err, m.Error, strings.TrimSpace(stderr.String()))
	}
	return kernelSource{Version: version, Dir: m.Dir, From: "the module cache"}, nil
}

// currentModule returns the Cocoon module the current directory's module
// sees.
func currentModule(ctx context.Context) (kernelSource, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", cocoonModule)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		return kernelSource{}, fmt.Errorf("this mkimage was built from a checkout of Cocoon and has no version to fetch the kernel's source by, "+
			"and the current module does not see %s (%s): run it inside the checkout, or install a released one "+
			"(go install %s/tools/mkimage@VERSION)", cocoonModule, strings.TrimSpace(stderr.String()), cocoonModule)
	}
	return kernelSource{Version: "(devel)", Dir: dir, From: "the current module's " + cocoonModule}, nil
}
