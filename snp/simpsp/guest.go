package simpsp

import (
	"net"

	"github.com/google/go-sev-guest/abi"

	"github.com/cocoon-vm/cocoon/hal/pc/guestwire"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
)

// Guest is a guest of a simulated PSP in the same process, for host-side
// tests and tools: it speaks the real guest-message protocol
// (guestmsg.Channel under VMPCK0) to the PSP over an in-memory pipe, so
// its reports are exactly what a Cocoon guest with a simulated PSP gets.
type Guest struct {
	ch   *guestmsg.Channel
	conn net.Conn
}

// NewGuest launches a simulated guest of the given MEASUREMENT and
// HOST_DATA on the default chip.
func NewGuest(measurement [abi.MeasurementSize]byte, hostData [abi.HostDataSize]byte) (*Guest, error) {
	l, err := NewLaunch(measurement, hostData)
	if err != nil {
		return nil, err
	}
	c, err := DefaultChip()
	if err != nil {
		return nil, err
	}
	p, err := New(c, l)
	if err != nil {
		return nil, err
	}
	guest, host := net.Pipe()
	go p.Serve(host)
	ch, err := guestmsg.NewChannel(&guestwire.Transport{RW: guest}, l.Secrets.VMPCK[0][:], 0, 0)
	if err != nil {
		guest.Close()
		return nil, err
	}
	return &Guest{ch: ch, conn: guest}, nil
}

// ExtendedReport returns a signed report whose REPORT_DATA is reportData
// and the chip's certificate table.
func (g *Guest) ExtendedReport(reportData [abi.ReportDataSize]byte) (rep, certs []byte, err error) {
	return g.ch.ExtendedReport(&guestmsg.ReportRequest{ReportData: reportData})
}

// Close ends the guest's connection to its PSP.
func (g *Guest) Close() error { return g.conn.Close() }
