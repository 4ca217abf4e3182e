// Command roomcast-bench is a load generator for Socket.IO servers that
// implement the bench app of shared/bench/BENCH-APP.md. It speaks Engine.IO v4
// and Socket.IO v5 itself, over WebSocket (and HTTP long-polling for a mixed
// run), with one reader goroutine per connection.
//
//	roomcast-bench connect -n 10000 -c 200 -pid $PID
//	roomcast-bench fanout -n 1000 -rooms 10 -window 10 -d 30s -pid $PID
//	roomcast-bench fanout -n 1000 -rooms 10 -rate 500 -d 30s -pid $PID
//	roomcast-bench echo -n 100 -d 30s -pid $PID
//	roomcast-bench compare -scenario fanout -n 1000 -rooms 10 -rounds 2 -chart fanout.svg
//
// A run prints a progress line on stderr every second and one JSON line of
// results on stdout at its end. compare starts Roomcast's examples/reference
// and the Node.js socket.io server of bench/node in turn, A B A B, and prints
// each figure with the ratio Roomcast/Node.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

const usage = `usage: roomcast-bench SCENARIO [flags]   (connect, fanout, echo)
       roomcast-bench compare -scenario SCENARIO [flags]

Run "roomcast-bench SCENARIO -h" or "roomcast-bench compare -h" for the flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "connect", "fanout", "echo":
		err = scenarioMain(ctx, args[0], args[1:], stdout, stderr)
	case "compare":
		err = compareMain(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "roomcast-bench: unknown scenario %q\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "roomcast-bench: %v\n", err)
		return 1
	}
	return 0
}

// scenarioMain runs one scenario against a server that is already running.
func scenarioMain(ctx context.Context, scenario string, args []string, stdout, stderr io.Writer) error {
	cfg := Config{Scenario: scenario, Log: stderr}
	fs := flag.NewFlagSet(scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.addFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write the generator's CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := run(ctx, cfg)
	if res != nil {
		if werr := res.writeJSON(stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
