package hal

import "io"

// AppChannel is an optional Platform capability of a secure-kernel
// platform (LVBS, package lvbs/vsm): requests the lower VTL (VTL0) sends
// to the hosted application through VTL calls, and the application's
// replies. North serves it as /dev/vtl0. The byte formats are the
// platform's (docs/LVBS.md, "Application channel"). Goroutine context;
// no method blocks.
type AppChannel interface {
	// Open and Close bracket the application's use: requests fail
	// (ENODEV for VTL0) while nobody has the channel open.
	Open()
	Close()
	// Read copies the waiting request into p and returns its length, or
	// 0 when none is waiting. An error means p is too small.
	Read(p []byte) (int, error)
	// Write delivers the reply p to the request read last; an error
	// means p is not a well-formed reply to it.
	Write(p []byte) error
	// Waiting reports whether a request waits to be read.
	Waiting() bool
	// OnRequest sets a function called whenever a request arrives; it
	// must not block.
	OnRequest(func())
}

// SecureKernel is an optional Platform capability of a secure-kernel
// platform (LVBS, package lvbs/vtl1): the kernel serves a lower VTL, and
// the hosted application serves it too through AppChannel (North's
// /dev/vtl0). Goroutine context.
type SecureKernel interface {
	// AppChannel returns the application channel.
	AppChannel() AppChannel
	// ServeLowerVTL brings the platform's services up and serves the
	// lower VTL's calls, writing what it reports to log. It does not
	// return while it serves; an error means it cannot serve at all.
	ServeLowerVTL(log io.Writer) error
}
