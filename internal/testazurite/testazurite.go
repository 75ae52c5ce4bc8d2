// Package testazurite starts a real Azurite (the Azure Storage emulator,
// installed from npm by `make test`) on free loopback ports for tests.
//
// Each test binary gets its own Azurite, so packages tested in parallel
// never share storage. Set AZURITE_CONNECTION_STRING to use an Azurite
// that is already running instead.
package testazurite

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure an Azurite server.
type Options struct {
	// DataDir keeps data on disk (so it survives Restart); empty means
	// in memory.
	DataDir string
	// Split runs blob, queue and table as three Azurite processes
	// (azurite-blob, azurite-queue, azurite-table) instead of one, so the
	// emulator is not held to one Node.js thread for all three services.
	Split bool
	// QueueDataDir (with Split) keeps the queue service's data on disk
	// there while the others stay in memory. In memory, Azurite keeps each
	// message as an extent of its own, and its once-a-minute sweep of
	// deleted ones costs time quadratic in their number: after tens of
	// thousands of messages it stalls the queue service for minutes. On
	// disk, messages share extent files.
	QueueDataDir string
}

// Server is a running Azurite.
type Server struct {
	opts               Options
	blob, queue, table int
	procs              []*process
	external           string
	mu                 sync.Mutex
}

// process is one running Azurite process.
type process struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan error // receives the process's exit
}

const wellKnownKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// RepoRoot is the folder holding go.mod, found from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary is the path of the project's Azurite.
func Binary() (string, error) { return binary("azurite") }

// binary finds an Azurite executable: in node_modules/.bin of the module
// root or a folder above it (a nested module, such as an example app, uses
// the project's), else on PATH.
func binary(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	for dir := root; ; dir = filepath.Dir(dir) {
		bin := filepath.Join(dir, "node_modules", ".bin", name)
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if bin, err := exec.LookPath(name); err == nil {
		return bin, nil
	}
	return "", fmt.Errorf("Azurite is not installed (no node_modules/.bin/%s above %s, none on PATH): run `make test`, which runs npm ci, or `npm install -g azurite`", name, root)
}

// FreePort returns a TCP port that is free on 127.0.0.1 right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start launches Azurite and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	if cs := os.Getenv("AZURITE_CONNECTION_STRING"); cs != "" {
		return &Server{external: cs}, nil
	}
	s := &Server{opts: opts}
	for _, p := range []*int{&s.blob, &s.queue, &s.table} {
		port, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("testazurite: free port: %w", err)
		}
		*p = port
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// service is one Azurite process to start: its program and its
// arguments.
type service struct {
	bin  string
	args []string
}

// services lists the processes to start: one for all three services, or
// one each with Split.
func (s *Server) services() []service {
	common := []string{"--silent", "--disableTelemetry", "--skipApiVersionCheck"}
	persistence := func(dir string) []string {
		if dir != "" {
			return []string{"--location", dir}
		}
		return []string{"--inMemoryPersistence"}
	}
	endpoint := func(name string, port int) []string {
		return []string{"--" + name + "Host", "127.0.0.1", "--" + name + "Port", strconv.Itoa(port)}
	}
	if !s.opts.Split {
		args := append(append(common, persistence(s.opts.DataDir)...), endpoint("blob", s.blob)...)
		args = append(append(args, endpoint("queue", s.queue)...), endpoint("table", s.table)...)
		return []service{{"azurite", args}}
	}
	queueDir := s.opts.DataDir
	if queueDir == "" {
		queueDir = s.opts.QueueDataDir
	}
	one := func(name string, port int, dir string) service {
		args := append(append([]string{}, common...), persistence(dir)...)
		return service{"azurite-" + name, append(args, endpoint(name, port)...)}
	}
	return []service{one("blob", s.blob, s.opts.DataDir), one("queue", s.queue, queueDir), one("table", s.table, s.opts.DataDir)}
}

func (s *Server) start() error {
	for _, svc := range s.services() {
		bin, err := binary(svc.bin)
		if err != nil {
			return err
		}
		cmd := exec.Command(bin, svc.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		p := &process{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
		cmd.Stderr = p.stderr
		if err := cmd.Start(); err != nil {
			_ = s.kill()
			return fmt.Errorf("testazurite: start %s: %w", bin, err)
		}
		go func() { p.exited <- cmd.Wait() }()
		s.procs = append(s.procs, p)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, port := range []int{s.blob, s.queue, s.table} {
		for {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			for _, p := range s.procs {
				select {
				case werr := <-p.exited:
					p.exited <- werr
					_ = s.kill()
					return fmt.Errorf("testazurite: Azurite exited (%v): %s", werr, p.stderr.String())
				default:
				}
			}
			if time.Now().After(deadline) {
				_ = s.kill()
				return fmt.Errorf("testazurite: Azurite not ready on port %d after 30s", port)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// kill stops Azurite: SIGTERM first, so that with DataDir it saves its
// data, then SIGKILL if it lingers. It waits until the ports are free.
func (s *Server) kill() error {
	var errs []error
	for _, p := range s.procs {
		if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, err)
		}
	}
	// Wait for Azurite to exit by itself: with DataDir it saves its data
	// on the way out, and killing it as soon as its ports close loses
	// what it had not written yet.
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range s.procs {
		select {
		case err := <-p.exited:
			p.exited <- err
		case <-time.After(time.Until(deadline)):
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	for end := time.Now().Add(5 * time.Second); s.listening() && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	s.procs = nil
	return errors.Join(errs...)
}

// listening reports whether any of the three ports still accepts.
func (s *Server) listening() bool {
	for _, p := range []int{s.blob, s.queue, s.table} {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// ConnectionString is an account-key connection string for this Azurite.
func (s *Server) ConnectionString() string {
	if s.external != "" {
		return s.external
	}
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=%s;"+
		"BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1;QueueEndpoint=http://127.0.0.1:%d/devstoreaccount1;"+
		"TableEndpoint=http://127.0.0.1:%d/devstoreaccount1;", wellKnownKey, s.blob, s.queue, s.table)
}

// PIDs are the process ids of the running Azurite processes (none for an
// external Azurite).
func (s *Server) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, p := range s.procs {
		if p.cmd.Process != nil {
			out = append(out, p.cmd.Process.Pid)
		}
	}
	return out
}

// Stop ends Azurite and waits for its ports to close.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kill()
}

// Restart stops Azurite and starts it again on the same ports (data
// survives only with DataDir).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.external != "" {
		return errors.New("testazurite: cannot restart an external Azurite")
	}
	_ = s.kill()
	return s.start()
}

var shared *Server

// Main starts one Azurite for a test binary, runs the tests and stops it.
// Use it from TestMain: os.Exit(testazurite.Main(m)).
func Main(m *testing.M) int {
	return Run(m, func() (*Server, error) { return Start(Options{}) }, func(s *Server) { shared = s })
}

// Run is the body of a TestMain that shares one emulator with the test
// binary's tests: it starts it (on an error it prints it and returns 1),
// hands it to keep, runs the tests, stops it and returns the tests' exit
// code.
func Run[S interface{ Stop() error }](m *testing.M, start func() (S, error), keep func(S)) int {
	s, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	keep(s)
	code := m.Run()
	_ = s.Stop()
	return code
}

// Shared is the Azurite started by Main.
func Shared(t testing.TB) *Server {
	t.Helper()
	if shared == nil {
		t.Fatal("testazurite: no shared Azurite: call testazurite.Main from TestMain")
	}
	return shared
}
