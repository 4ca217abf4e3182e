package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverDef is a bench app server that compare can start.
type serverDef struct {
	name string
	argv []string
	env  []string // added to the generator's environment
}

// server is a running bench app: it listens on 127.0.0.1:$PORT and printed
// "READY <port>".
type server struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{}

	mu     sync.Mutex
	stderr []byte // the last bytes the server wrote on stderr
}

const (
	readyTimeout = 30 * time.Second
	stopGrace    = 5 * time.Second
	stderrKeep   = 4096
)

// startServer starts s on a free port and waits for its READY line.
func startServer(ctx context.Context, s serverDef) (*server, error) {
	var lastErr error
	for range 3 { // the free port may be taken before the server binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		srv, err := launch(ctx, s, port)
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if !strings.Contains(strings.ToLower(err.Error()), "in use") {
			break
		}
	}
	return nil, lastErr
}

func launch(ctx context.Context, s serverDef, port int) (*server, error) {
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = append(append(os.Environ(), s.env...), "PORT="+strconv.Itoa(port))
	// The server must not outlive the generator.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	srv := &server{cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = srv
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.name, err)
	}
	go func() {
		cmd.Wait()
		close(srv.exited)
	}()

	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() { // read to the end, so that the pipe never fills up
			if f := strings.Fields(sc.Text()); !found && len(f) == 2 && f[0] == "READY" {
				if p, err := strconv.Atoi(f[1]); err == nil {
					found = true
					ready <- p
				}
			}
		}
	}()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case p := <-ready:
		srv.url = "http://127.0.0.1:" + strconv.Itoa(p)
		return srv, nil
	case <-srv.exited:
		return nil, fmt.Errorf("%s exited before it was ready%s", s.name, srv.stderrTail())
	case <-timer.C:
		srv.stop()
		return nil, fmt.Errorf("%s: no READY line within %s%s", s.name, readyTimeout, srv.stderrTail())
	case <-ctx.Done():
		srv.stop()
		return nil, ctx.Err()
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL if the server is still running after a
// grace period.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopGrace):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("server did not exit within %s of SIGTERM", stopGrace)
	}
}

// Write keeps the tail of the server's stderr.
func (s *server) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stderr = append(s.stderr, p...)
	if len(s.stderr) > stderrKeep {
		s.stderr = s.stderr[len(s.stderr)-stderrKeep:]
	}
	return len(p), nil
}

func (s *server) stderrTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := strings.TrimSpace(string(s.stderr)); t != "" {
		return "\n--- server stderr ---\n" + t
	}
	return ""
}

// freePort returns a TCP port that is free on 127.0.0.1 at the moment.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
