package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// corePath is the module path of the batpak library the command is built
// with.
const corePath = "github.com/batpak-go/batpak"

// versionFlags declares the version command: the module version of the
// binary, as `go install …@v0.1.0` records it, and the library's.
func versionFlags(fs *flag.FlagSet) action {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) > 0 {
			return usagef("unexpected arguments %q", args)
		}
		info, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(info))
		return nil
	}
}

// versionLine describes the build: "batpak v0.1.0 (library v0.1.0,
// go1.26.0 linux/amd64)". A build from a checkout (go build, go run, a
// workspace) has no module version: it says "(devel)", with the VCS
// revision when the build recorded one.
func versionLine(info *debug.BuildInfo) string {
	version, lib := "(devel)", "(devel)"
	if info != nil {
		if v := info.Main.Version; v != "" {
			version = v
		}
		switch {
		case info.Main.Path == corePath:
			lib = version // built from within the core module's tree
		default:
			for _, d := range info.Deps {
				if d.Path != corePath {
					continue
				}
				if d.Replace != nil {
					d = d.Replace
				}
				if d.Version != "" {
					lib = d.Version
				}
			}
		}
		if version == "(devel)" {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					version += " " + s.Value[:12]
				}
			}
		}
	}
	return fmt.Sprintf("batpak %s (library %s, %s %s/%s)", version, lib, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
