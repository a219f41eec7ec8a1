// Command zipmod adds a module, read from a directory, to a file-based
// module proxy (GOPROXY=file://DIR) at a version, as the go command would
// download it from a real one: DIR/<module>/@v/list, <version>.info,
// <version>.mod and <version>.zip. The release rehearsal (.ci/release-rehearsal)
// fills such a proxy from the working tree, then installs from it.
//
// Usage:
//
//	zipmod -proxy DIR -version v0.1.0 MODULE_DIR...
//
// The module path is read from each MODULE_DIR/go.mod. The zip holds what
// the go command's own rules keep (golang.org/x/mod/zip.CreateFromDir):
// nested modules, vendor directories and version-control directories are
// left out.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	proxy := flag.String("proxy", "", "the proxy `directory` to add to (created if missing)")
	version := flag.String("version", "", "the semantic `version`, e.g. v0.1.0")
	flag.Parse()
	if *proxy == "" || !semver.IsValid(*version) || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: zipmod -proxy DIR -version vX.Y.Z MODULE_DIR...")
		os.Exit(2)
	}
	for _, dir := range flag.Args() {
		path, err := add(*proxy, *version, dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "zipmod: %s: %v\n", dir, err)
			os.Exit(1)
		}
		fmt.Printf("zipmod: %s@%s\n", path, *version)
	}
}

// add writes the module in dir to the proxy at version and returns its path.
func add(proxy, version, dir string) (string, error) {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return "", errors.New("go.mod names no module")
	}
	mv := module.Version{Path: path, Version: version}
	if err := module.Check(path, version); err != nil {
		return "", err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return "", err
	}
	if err := modzip.CreateFromDir(zf, mv, dir); err != nil {
		zf.Close()
		return "", err
	}
	if err := zf.Close(); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".mod"), gomod, 0o644); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".info"), info, 0o644); err != nil {
		return "", err
	}
	return path, addToList(filepath.Join(vdir, "list"), version)
}

// addToList records version in the proxy's list of the module's versions.
func addToList(name, version string) error {
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(b))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	semver.Sort(versions)
	return os.WriteFile(name, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}
