// Package cmdline carries an application's argv, environment and working
// directory to Cocoon's kernel on the kernel command line, exactly: any
// byte string without NUL (spaces, quotes, '=', empty strings, non-ASCII)
// arrives as it was given.
//
// The kernel command line is a poor carrier on its own: the kernel splits
// it into words at spaces (double quotes group words), and, as Linux does
// for init, words holding '=' become the environment; the UEFI path
// accepts only printable ASCII; every boot path keeps at most MaxLen
// bytes. So the host encodes the application in a few words whose values
// use only printable ASCII without space, '"', '%' or ',':
//
//	cocoon.dir=DIR        the working directory (default /)
//	cocoon.argv0=ARG0     argv[0] (default /init)
//	cocoon.env=E1,E2,...,  environment entries, each ending in ','
//	cocoon.args=A1,A2,...,  arguments after argv[0], each ending in ','
//
// Each value is percent-encoded (RFC 3986, 2.1): a byte outside 0x21-0x7e,
// or one of '"', '%' and ',', is written %XX. The ',' after every list
// element makes an empty string visible ("cocoon.args=," is one empty
// argument) and a list cut short by truncation detectable. Plain words
// (without the cocoon. prefix) still work as Linux gives them to init, for
// command lines written by hand; they come before the encoded ones.
package cmdline

import (
	"errors"
	"fmt"
	"strings"
)

// Keys of the command-line words this package writes and reads.
const (
	KeyDir   = "cocoon.dir"
	KeyArgv0 = "cocoon.argv0"
	KeyEnv   = "cocoon.env"
	KeyArgs  = "cocoon.args"
)

// KeyOvercommit is the command-line word of the overcommit policy, as
// Linux takes a sysctl on its command line (Documentation/admin-guide/
// kernel-parameters.txt, "sysctl.*=", Linux 5.8 and later): 0 (the
// default heuristic) or 1 (always; north.OvercommitAlways). Like Linux,
// the kernel keeps sysctl words from the application's environment.
const KeyOvercommit = "sysctl.vm.overcommit_memory"

// MaxLen is the longest command line every boot path passes on whole:
// boot/pvh.go reads 4096 bytes including the terminating NUL, the UEFI
// entry (boot/efimem.go) keeps 4095 characters, and the Linux boot header
// of an efi image says cmdline_size 4095, which QEMU enforces. (Linux's
// own COMMAND_LINE_SIZE on x86 is 2048.)
const MaxLen = 4095

// App is what the application is started with.
type App struct {
	// Argv0 is argv[0]; empty means the kernel's default, /init.
	Argv0 string
	// Args are the arguments after argv[0].
	Args []string
	// Env is the environment, "KEY=VALUE" entries in order.
	Env []string
	// Dir is the working directory; empty means /.
	Dir string
}

// Words returns the command-line words that carry a. It fails if a string
// holds a NUL byte, which no argument or environment entry can (execve(2)
// takes C strings).
func (a App) Words() ([]string, error) {
	var w []string
	for _, s := range append(append([]string{a.Argv0, a.Dir}, a.Args...), a.Env...) {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("%q holds a NUL byte, which no argument or environment entry can hold", s)
		}
	}
	if a.Dir != "" {
		w = append(w, KeyDir+"="+escape(a.Dir))
	}
	if a.Argv0 != "" {
		w = append(w, KeyArgv0+"="+escape(a.Argv0))
	}
	if len(a.Env) > 0 {
		w = append(w, KeyEnv+"="+list(a.Env))
	}
	if len(a.Args) > 0 {
		w = append(w, KeyArgs+"="+list(a.Args))
	}
	return w, nil
}

// Line returns the kernel command line of the words pre (kernel options
// such as cocoon.trace=syscalls, written as they are) followed by a's. It
// fails if the line is longer than MaxLen, saying by how much.
func Line(a App, pre ...string) (string, error) {
	w, err := a.Words()
	if err != nil {
		return "", err
	}
	for _, p := range pre {
		if p == "" || strings.ContainsAny(p, " \t\"") {
			return "", fmt.Errorf("kernel option %q is empty or holds a space or quote", p)
		}
	}
	line := strings.Join(append(append([]string(nil), pre...), w...), " ")
	if len(line) > MaxLen {
		return "", fmt.Errorf("the arguments and environment take %d bytes on the kernel command line, %d more than the %d every boot path passes on "+
			"(non-ASCII bytes and quotes take 3 each): put long data in a file of the image (mkimage build --file) and pass its name",
			len(line), len(line)-MaxLen, MaxLen)
	}
	return line, nil
}

// Parse sets the field of a that the command-line word key=value names,
// decoding value. It reports false for a key that is not one of this
// package's.
func (a *App) Parse(key, value string) (bool, error) {
	var err error
	switch key {
	case KeyDir:
		a.Dir, err = unescape(value)
	case KeyArgv0:
		a.Argv0, err = unescape(value)
	case KeyEnv:
		var l []string
		l, err = unlist(value)
		a.Env = append(a.Env, l...)
	case KeyArgs:
		var l []string
		l, err = unlist(value)
		a.Args = append(a.Args, l...)
	default:
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("%s: %w", key, err)
	}
	return true, nil
}

// plain reports whether c is written as itself.
func plain(c byte) bool {
	return c > 0x20 && c < 0x7f && c != '"' && c != '%' && c != ','
}

const hexDigits = "0123456789ABCDEF"

func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func list(l []string) string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(escape(s))
		b.WriteByte(',')
	}
	return b.String()
}

var errTruncated = errors.New("the list does not end in ',': the command line was cut short (it is longer than the boot path passes on?)")

func unlist(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	if !strings.HasSuffix(v, ",") {
		return nil, errTruncated
	}
	parts := strings.Split(v[:len(v)-1], ",")
	for i, p := range parts {
		s, err := unescape(p)
		if err != nil {
			return nil, err
		}
		parts[i] = s
	}
	return parts, nil
}

func unescape(v string) (string, error) {
	if strings.IndexByte(v, '%') < 0 {
		return v, nil
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(v) {
			return "", fmt.Errorf("%q ends inside an escape: the command line was cut short", v)
		}
		hi, lo := unhex(v[i+1]), unhex(v[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("%q: bad escape %q (want %%XX, two hexadecimal digits)", v, v[i:i+3])
		}
		if hi == 0 && lo == 0 {
			return "", fmt.Errorf("%q: %%00, a NUL byte, cannot be in an argument or environment entry", v)
		}
		b = append(b, byte(hi<<4|lo))
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
