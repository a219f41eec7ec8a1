package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// "batpak serve" is a program of its own, batpak-serve (module
// github.com/batpak-go/batpak/cmd/batpak-serve): the web inspector needs
// an HTTP server, which would make this command half again as large for
// everyone who never serves a page. batpak runs it with the arguments as
// given, as git runs git-foo for "git foo".

// runExternal runs cmd's program with args, passing on its output and its
// exit status, and interrupts it when ctx ends.
func runExternal(ctx context.Context, cmd command, args []string, stdout, stderr io.Writer) int {
	path, err := findExternal(cmd.external)
	if err != nil {
		fmt.Fprintf(stderr, "batpak %s: the command %s is not installed beside batpak or in PATH (%v); install it with\n\n"+
			"\tgo install github.com/batpak-go/batpak/cmd/%s@latest\n", cmd.name, cmd.external, err, cmd.external)
		return exitFailure
	}
	c := exec.CommandContext(ctx, path, args...)
	c.Stdout, c.Stderr = stdout, stderr
	c.Cancel = func() error { return c.Process.Signal(os.Interrupt) } // it stops cleanly on SIGINT
	c.WaitDelay = 10 * time.Second                                    // then it is killed
	err = c.Run()
	// Its exit status is ours, also when it exited because ctx ended (we
	// were interrupted and passed the interrupt on): Run then reports
	// ctx's error even though the program stopped cleanly.
	if ps := c.ProcessState; ps != nil && ps.ExitCode() >= 0 {
		return ps.ExitCode()
	}
	fmt.Fprintf(stderr, "batpak %s: %v\n", cmd.name, err)
	return exitFailure
}

// findExternal finds the program name: beside the running batpak first
// (go install puts both in one directory), then in PATH.
func findExternal(name string) (string, error) {
	file := name
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return exec.LookPath(name)
}
