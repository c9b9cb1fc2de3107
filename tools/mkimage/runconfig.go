package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// runConfig is how 'mkimage run' starts an image unless its flags say
// otherwise: what 'mkimage build' was told with --arg, --env, --workdir,
// -m, --vcpus and --publish (or a spec file), written beside the image as
// NAME.run.json.
type runConfig struct {
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Workdir string   `json:"workdir,omitempty"`
	Memory  int      `json:"memory,omitempty"`
	VCPUs   int      `json:"vcpus,omitempty"`
	Ports   []string `json:"ports,omitempty"`
}

// runConfigPath is where the run configuration of image NAME goes.
func runConfigPath(name string) string { return name + ".run.json" }

func (c *runConfig) empty() bool {
	return len(c.Args) == 0 && len(c.Env) == 0 && c.Workdir == "" && c.Memory == 0 && c.VCPUs == 0 && len(c.Ports) == 0
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
	return &c, nil
}
