package inet

import (
	"fmt"
	"io"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/log"
)

// SetLog sends netstack's own log lines (warnings such as a dropped
// segment) to w as kernel lines, "cocoon: netstack: ...". By default
// gVisor writes them to the process's standard error, which in Cocoon's
// kernel is the console the application's stderr shares: its lines
// would land among the application's bytes.
//
// The one warning seen in practice, "handleListenSegment() failed for
// packet ...: port is in use", is benign: a client sent its SYN again
// (its first retransmission comes after 1 s, on a loaded host) before
// the listener had processed the first, so both waited in the listener's
// queue; the first made the connection's endpoint for that 4-tuple, and
// the second cannot register the same 4-tuple and is dropped. The
// handshake goes on from the first (Linux answers such a duplicate with
// the SYN-ACK again; either way the client connects).
func SetLog(w io.Writer) {
	log.SetTarget(kernelLog{w})
}

// kernelLog is a gVisor log.Emitter writing one kernel line per message.
type kernelLog struct{ w io.Writer }

func (k kernelLog) Emit(_ int, level log.Level, _ time.Time, format string, v ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, v...), "\n")
	fmt.Fprintf(k.w, "cocoon: netstack: %s: %s\n", level, msg)
}
