package inet

import (
	"bytes"
	"strings"
	"testing"

	"gvisor.dev/gvisor/pkg/log"
)

// TestSetLog: netstack's warnings become kernel lines on the writer given,
// not bytes on the process's standard error.
func TestSetLog(t *testing.T) {
	var b bytes.Buffer
	SetLog(&b)
	defer log.SetTarget(log.GoogleEmitter{Writer: &log.Writer{Next: &bytes.Buffer{}}})
	log.Warningf("port %d is in use\n", 80)
	got := b.String()
	if !strings.HasPrefix(got, "cocoon: netstack: ") || !strings.HasSuffix(got, "port 80 is in use\n") || strings.Count(got, "\n") != 1 {
		t.Fatalf("log line = %q, want one kernel line carrying the message", got)
	}
}
