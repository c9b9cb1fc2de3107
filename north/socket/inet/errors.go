package inet

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// errnoOf returns the Linux error for a netstack error, nil for nil. The
// table follows the errors Linux's own stack returns in the same
// situations (gVisor's sentry translates them the same way).
func errnoOf(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	var e int
	switch err.(type) {
	case *tcpip.ErrWouldBlock:
		e = linux.EAGAIN
	case *tcpip.ErrConnectStarted:
		e = linux.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		e = linux.EALREADY
	case *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue,
		*tcpip.ErrBadLocalAddress, *tcpip.ErrMissingRequiredFields, *tcpip.ErrMulticastInputCannotBeOutput:
		e = linux.EINVAL
	case *tcpip.ErrAlreadyConnected:
		e = linux.EISCONN
	case *tcpip.ErrNotConnected:
		e = linux.ENOTCONN
	case *tcpip.ErrPortInUse:
		e = linux.EADDRINUSE
	case *tcpip.ErrBadAddress:
		e = linux.EADDRNOTAVAIL
	case *tcpip.ErrConnectionRefused:
		e = linux.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		e = linux.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		e = linux.ECONNABORTED
	case *tcpip.ErrAborted:
		e = linux.ECONNABORTED
	case *tcpip.ErrClosedForSend:
		e = linux.EPIPE
	case *tcpip.ErrClosedForReceive:
		e = linux.EAGAIN
	case *tcpip.ErrTimeout:
		e = linux.ETIMEDOUT
	case *tcpip.ErrNetworkUnreachable, *tcpip.ErrNoNet:
		e = linux.ENETUNREACH
	case *tcpip.ErrHostUnreachable:
		e = linux.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		e = linux.EHOSTDOWN
	case *tcpip.ErrMessageTooLong:
		e = linux.EMSGSIZE
	case *tcpip.ErrNoBufferSpace, *tcpip.ErrQueueSizeNotSupported:
		e = linux.ENOBUFS
	case *tcpip.ErrDestinationRequired:
		e = linux.EDESTADDRREQ
	case *tcpip.ErrNoPortAvailable:
		e = linux.EAGAIN
	case *tcpip.ErrBroadcastDisabled, *tcpip.ErrNotPermitted:
		e = linux.EACCES
	case *tcpip.ErrAddressFamilyNotSupported:
		e = linux.EAFNOSUPPORT
	case *tcpip.ErrNotSupported, *tcpip.ErrUnknownProtocolOption, *tcpip.ErrUnknownProtocol:
		e = linux.EOPNOTSUPP
	case *tcpip.ErrBadBuffer:
		e = linux.EFAULT
	case *tcpip.ErrDuplicateAddress:
		e = linux.EEXIST
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice, *tcpip.ErrInvalidNICID:
		e = linux.ENODEV
	case *tcpip.ErrEndpointBusy:
		e = linux.EBUSY
	case *tcpip.ErrInvalidPortRange:
		e = linux.EINVAL
	case *tcpip.ErrMalformedHeader:
		e = linux.EINVAL
	case *tcpip.ErrNoSuchFile:
		e = linux.ENOENT
	default:
		e = linux.EINVAL
	}
	return vfs.Errno(e)
}
