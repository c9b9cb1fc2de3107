// Command pathapp is the application of TestPackBinPathVM: it finds the
// programs packed into the image's /bin through PATH, as a shell or Go's
// os/exec does, and runs them. Started as pathhelper (its own copy in
// /bin), it prints how it was called instead.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	if filepath.Base(os.Args[0]) == "pathhelper" {
		fmt.Printf("helper: argv %q\n", os.Args)
		return
	}
	fmt.Printf("PATH=%s\n", os.Getenv("PATH"))
	for _, name := range []string{"pathhelper", "notexec", "missing"} {
		p, err := exec.LookPath(name)
		fmt.Printf("lookpath %s: %q %v\n", name, p, err)
	}
	if st, err := os.Stat("/bin/pathhelper"); err == nil {
		fmt.Printf("mode /bin/pathhelper: %v\n", st.Mode())
	}
	out, err := exec.Command("pathhelper", "a b", "c").Output()
	fmt.Printf("run pathhelper: %q %v\n", out, err)
	err = exec.Command("/bin/notexec").Run()
	fmt.Printf("run /bin/notexec: %v\n", err)
	fmt.Println("pathapp: done")
}
