package vc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	sinkIO     IO
	sinkAccess Access
	sinkStatus Status
	sinkU64    uint64
)

func TestNoAllocs(t *testing.T) {
	in := []byte{0xf3, 0x66, 0x6d, 0x90}
	load := []byte{0x64, 0x67, 0x48, 0x8b, 0x84, 0xc8, 0xf0, 0xff, 0xff, 0xff}
	store := []byte{0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}
	var regs [16]uint64
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"DecodeIO", func() { sinkIO, sinkStatus = DecodeIO(in, 0x3F8) }},
		{"IO.ExitInfo1", func() { sinkU64 = sinkIO.ExitInfo1() }},
		{"DecodeMMIO", func() { sinkAccess, sinkStatus = DecodeMMIO(load) }},
		{"DecodeMMIO refused", func() { sinkAccess, sinkStatus = DecodeMMIO(in) }},
		{"Access.Address", func() { sinkU64 = sinkAccess.Address(&regs, 1, 2, 3) }},
		{"Access.Complete", func() { sinkAccess.Complete(&regs, 0x80) }},
		{"Access.Value", func() { sinkAccess, _ = DecodeMMIO(store); sinkU64 = sinkAccess.Value(&regs) }},
		{"Status.String", func() { _ = sinkStatus.String() }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
}

// TestTrapContext checks the rules of trap context on the package's
// source: no imports, every function //go:nosplit, and no closures,
// defer, go statements, maps, interfaces, channels, panics or
// allocating built-ins.
func TestTrapContext(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "Trap context") {
			t.Errorf("%s: no trap-context comment", name)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			t.Errorf("%s: imports %s", fset.Position(imp.Pos()), imp.Path.Value)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			bad := ""
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Doc == nil || !strings.Contains(n.Doc.Text()+directives(n.Doc), "//go:nosplit") {
					t.Errorf("%s: %s is not //go:nosplit", fset.Position(n.Pos()), n.Name.Name)
				}
			case *ast.FuncLit:
				bad = "closure"
			case *ast.DeferStmt:
				bad = "defer"
			case *ast.GoStmt:
				bad = "go statement"
			case *ast.MapType:
				bad = "map"
			case *ast.InterfaceType:
				bad = "interface"
			case *ast.ChanType:
				bad = "channel"
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok {
					switch id.Name {
					case "panic", "new", "make", "append", "print", "println":
						bad = id.Name
					}
				}
			}
			if bad != "" {
				t.Errorf("%s: %s in trap context", fset.Position(n.Pos()), bad)
			}
			return true
		})
	}
}

// directives returns the //go: lines of a doc comment, which Text drops.
func directives(g *ast.CommentGroup) string {
	var b strings.Builder
	for _, c := range g.List {
		if strings.HasPrefix(c.Text, "//go:") {
			b.WriteString(c.Text + "\n")
		}
	}
	return b.String()
}
