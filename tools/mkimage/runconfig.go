package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cocoon-vm/cocoon/north/cmdline"
)

// runConfig is how 'mkimage run' starts an image unless its flags say
// otherwise: what 'mkimage build' was told with --arg, --env, --workdir,
// -m, --vcpus, --publish and --overcommit (or a spec file), written
// beside the image as NAME.run.json.
type runConfig struct {
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Workdir string   `json:"workdir,omitempty"`
	Memory  int      `json:"memory,omitempty"`
	VCPUs   int      `json:"vcpus,omitempty"`
	Ports   []string `json:"ports,omitempty"`
	// Overcommit is the kernel's overcommit policy: "" or "guess"
	// (Linux's default heuristic), or "always".
	Overcommit string `json:"overcommit,omitempty"`
}

// Overcommit policies an image may choose (vm.overcommit_memory 0 and 1).
const (
	overcommitGuess  = "guess"
	overcommitAlways = "always"
)

// checkOvercommit checks an overcommit policy as --overcommit and the
// spec file take it.
func checkOvercommit(v string) error {
	switch v {
	case "", overcommitGuess, overcommitAlways:
		return nil
	case "never":
		return fmt.Errorf("%q (strict accounting, vm.overcommit_memory=2) is not implemented: use guess or always", v)
	}
	return fmt.Errorf("%q is not guess or always", v)
}

// kernelWords are the kernel command-line words of the image's settings
// for the kernel itself (not the application's).
func (c *runConfig) kernelWords() []string {
	if c.Overcommit == overcommitAlways {
		return []string{cmdline.KeyOvercommit + "=1"}
	}
	return nil
}

// line is the kernel command line that starts the image as c says: what
// a self-contained image embeds and a measurement covers.
func (c *runConfig) line() (string, error) {
	return cmdline.Line(cmdline.App{Args: c.Args, Env: c.Env, Dir: c.Workdir}, c.kernelWords()...)
}

// runConfigPath is where the run configuration of image NAME goes.
func runConfigPath(name string) string { return name + ".run.json" }

func (c *runConfig) empty() bool {
	return len(c.Args) == 0 && len(c.Env) == 0 && c.Workdir == "" && c.Memory == 0 && c.VCPUs == 0 && len(c.Ports) == 0 &&
		c.Overcommit == ""
}

// writeRunConfig writes c as NAME.run.json, or removes an earlier build's
// if c is empty.
func writeRunConfig(name string, c *runConfig, stdout io.Writer) error {
	path := runConfigPath(name)
	if c.empty() {
		return removeStale(path, "an earlier build's run configuration; this build has none", stdout)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (how 'mkimage run' starts it)\n", path)
	return nil
}

// readRunConfig reads NAME.run.json; a missing file is an empty
// configuration.
func readRunConfig(name string) (*runConfig, error) {
	var c runConfig
	b, err := os.ReadFile(runConfigPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %v (rebuild the image)", runConfigPath(name), err)
	}
	if err := checkOvercommit(c.Overcommit); err != nil {
		return nil, fmt.Errorf("%s: overcommit %v (rebuild the image)", runConfigPath(name), err)
	}
	return &c, nil
}
