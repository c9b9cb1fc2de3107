// Package thirdparty is a Go module of its own that requires the
// third-party packages whose test suites `make conformance-thirdparty`
// runs inside Cocoon (go run ./tools/conformance -C
// tools/conformance/thirdparty PACKAGE): go.etcd.io/bbolt, an embedded
// key/value database that reads its data through a shared memory
// mapping of its file and writes it with pwrite. Its go.sum holds the
// packages' test dependencies too (go get -t).
package thirdparty

import _ "go.etcd.io/bbolt"
