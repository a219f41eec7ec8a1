package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionLine(t *testing.T) {
	platform := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"installed at a version", &debug.BuildInfo{
			Main: debug.Module{Path: "github.com/batpak-go/batpak/cmd/batpak", Version: "v0.1.0"},
			Deps: []*debug.Module{{Path: "github.com/google/uuid", Version: "v1.6.0"}, {Path: corePath, Version: "v0.1.0"}},
		}, "batpak v0.1.0 (library v0.1.0, " + platform + ")"},
		{"a newer library", &debug.BuildInfo{
			Main: debug.Module{Path: "github.com/batpak-go/batpak/cmd/batpak", Version: "v0.1.0"},
			Deps: []*debug.Module{{Path: corePath, Version: "v0.1.1"}},
		}, "batpak v0.1.0 (library v0.1.1, " + platform + ")"},
		{"a workspace build", &debug.BuildInfo{
			Main: debug.Module{Path: "github.com/batpak-go/batpak/cmd/batpak", Version: "(devel)"},
			Deps: []*debug.Module{{Path: corePath, Version: "(devel)"}},
		}, "batpak (devel) (library (devel), " + platform + ")"},
		{"with a VCS revision", &debug.BuildInfo{
			Main:     debug.Module{Path: "github.com/batpak-go/batpak/cmd/batpak", Version: "(devel)"},
			Deps:     []*debug.Module{{Path: corePath, Version: "v0.1.0", Replace: &debug.Module{Path: "../..", Version: ""}}},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}},
		}, "batpak (devel) 0123456789ab (library (devel), " + platform + ")"},
		{"no build information", nil, "batpak (devel) (library (devel), " + platform + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, versionLine(tc.info))
		})
	}
}

// The command itself, built from this checkout: a development version
// and the platform it runs on.
func TestVersionCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "version")
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(out, "batpak "), out)
	assert.Contains(t, out, runtime.GOOS+"/"+runtime.GOARCH)
	code, _, _ = runCLI(t, "version", "extra")
	assert.Equal(t, exitUsage, code)
}
