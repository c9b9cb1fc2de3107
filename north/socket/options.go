package socket

import (
	"encoding/binary"
	"time"

	"github.com/cocoon-vm/cocoon/north/vfs"
)

// SetOpt serves setsockopt(2) on s: the options Common keeps here, the
// rest by s itself.
func SetOpt(s Socket, level, name int, val []byte) error {
	if level == SolSocket {
		switch name {
		case SoRcvtimeo, SoSndtimeo:
			d, err := timeval(val)
			if err != nil {
				return err
			}
			if name == SoRcvtimeo {
				s.Common().RcvTimeo = d
			} else {
				s.Common().SndTimeo = d
			}
			return nil
		case SoType, SoDomain, SoProtocol, SoAcceptconn, SoPeercred, SoError:
			return ENOPROTOOPT
		}
	}
	return s.SetSockOpt(level, name, val)
}

// Capabilities SOL_SOCKET options may need (include/uapi/linux/capability.h).
const (
	capNetAdmin = 12
	capNetRaw   = 13
)

// SetOptPrivilege checks the privilege setting SOL_SOCKET option name to
// val needs of a caller with the effective capabilities caps
// (net/core/sock.c sk_setsockopt): SO_DEBUG on needs CAP_NET_ADMIN
// (EACCES), SO_PRIORITY outside 0-6 and SO_MARK need CAP_NET_RAW or
// CAP_NET_ADMIN (EPERM).
func SetOptPrivilege(name int, val []byte, caps uint64) error {
	v, err := IntArg(val)
	if err != nil {
		return nil // the option refuses it
	}
	admin := caps&(1<<capNetAdmin) != 0
	net := admin || caps&(1<<capNetRaw) != 0
	switch {
	case name == SoDebug && v != 0 && !admin:
		return vfs.EACCES
	case name == SoPriority && (v < 0 || v > 6) && !net, name == SoMark && !net:
		return vfs.EPERM
	}
	return nil
}

// GetOpt serves getsockopt(2) on s for a caller whose buffer holds size
// bytes.
func GetOpt(s Socket, level, name, size int) ([]byte, error) {
	if level == SolSocket {
		switch name {
		case SoType:
			return Int(s.Type()), nil
		case SoDomain:
			return Int(s.Domain()), nil
		case SoProtocol:
			return Int(s.Protocol()), nil
		case SoRcvtimeo:
			return putTimeval(s.Common().RcvTimeo), nil
		case SoSndtimeo:
			return putTimeval(s.Common().SndTimeo), nil
		}
	}
	return s.GetSockOpt(level, name, size)
}

// Int encodes an int option value.
func Int(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(int32(v))) }

// Bool encodes a boolean option value as 0 or 1.
func Bool(b bool) []byte {
	if b {
		return Int(1)
	}
	return Int(0)
}

// IntArg decodes an int option value: EINVAL if shorter than an int.
// Linux reads an int from optlen >= sizeof(int).
func IntArg(val []byte) (int, error) {
	if len(val) < 4 {
		return 0, errInval
	}
	return int(int32(binary.LittleEndian.Uint32(val))), nil
}

// timeval decodes a struct timeval (include/uapi/linux/time.h: tv_sec
// int64, tv_usec int64) as SO_RCVTIMEO takes it (net/core/sock.c
// sock_set_timeout): EINVAL if short or tv_usec is out of range; a
// negative time means no wait (0).
func timeval(val []byte) (time.Duration, error) {
	if len(val) < 16 {
		return 0, errInval
	}
	sec := int64(binary.LittleEndian.Uint64(val))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, EDOM
	}
	if sec < 0 {
		return 0, nil
	}
	if sec > int64(1<<62/time.Second) {
		return 0, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func putTimeval(d time.Duration) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d/time.Second))
	return binary.LittleEndian.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// Linger encodes struct linger (include/linux/socket.h: l_onoff int,
// l_linger int).
func Linger(on bool, secs int) []byte {
	b := Bool(on)
	return append(b, Int(secs)...)
}

// LingerArg decodes struct linger.
func LingerArg(val []byte) (on bool, secs int, err error) {
	if len(val) < 8 {
		return false, 0, errInval
	}
	return binary.LittleEndian.Uint32(val) != 0, int(int32(binary.LittleEndian.Uint32(val[4:]))), nil
}
