// Command guestapp is the application of mkimage's VM tests. Its first
// argument chooses what it does:
//
//	show    print argv, the environment and the working directory, one
//	        hex-encoded string a line (ARG, ENV, DIR), so that any byte
//	        can be compared
//	copy    copy standard input to standard output byte for byte, then
//	        write "copied N bytes\n" to standard error
package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guestapp show|copy [ARGS...]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "show":
		for _, a := range os.Args {
			fmt.Printf("ARG %s\n", hex.EncodeToString([]byte(a)))
		}
		for _, e := range os.Environ() {
			fmt.Printf("ENV %s\n", hex.EncodeToString([]byte(e)))
		}
		dir, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("DIR %s\n", hex.EncodeToString([]byte(dir)))
	case "copy":
		n, err := io.Copy(os.Stdout, os.Stdin)
		fmt.Fprintf(os.Stderr, "copied %d bytes\n", n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "sink":
		n, err := io.Copy(io.Discard, os.Stdin)
		fmt.Fprintf(os.Stderr, "read %d bytes %v\n", n, err)
	case "source":
		b := make([]byte, 1<<20)
		os.Stdout.Write(b)
	default:
		fmt.Fprintf(os.Stderr, "guestapp: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}
