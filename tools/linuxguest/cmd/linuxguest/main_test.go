package main

import (
	"io"
	"strings"
	"testing"
)

func TestRunArgs(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-no-such-flag"}, "no-such-flag"},
	} {
		err := run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
		}
	}
}
