package kernel

// Console output usable from trap context: no allocation, small frames.
// Trap context.

import "unsafe"

// numBuf formats numbers. A local array would escape to the heap when
// handed to the platform interface; trap context is single-threaded.
var numBuf [24]byte

//go:nosplit
func kprint(s string) {
	if platform != nil && len(s) > 0 {
		platform.ConsoleWrite(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
}

//go:nosplit
func kprintHex(v uint64) {
	b := numBuf[:18]
	b[0], b[1] = '0', 'x'
	n := 2
	started := false
	for shift := 60; shift >= 0; shift -= 4 {
		d := byte(v>>uint(shift)) & 0xf
		if d != 0 || started || shift == 0 {
			started = true
			b[n] = "0123456789abcdef"[d]
			n++
		}
	}
	platform.ConsoleWrite(b[:n])
}

//go:nosplit
func kprintDec(v int64) {
	b := numBuf[:21]
	n := len(b)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for {
		n--
		b[n] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		n--
		b[n] = '-'
	}
	platform.ConsoleWrite(b[n:])
}
