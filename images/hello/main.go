// Command hello is the smallest Cocoon application: it prints its
// arguments and environment. Any static linux/amd64 program would do; this
// one is plain Go built with `go build`.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("hello from %s: args=%q\n", os.Args[0], os.Args[1:])
	fmt.Printf("hello: env=%q\n", os.Environ())
}
