package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// procSample is what /proc tells about a process at one moment.
type procSample struct {
	cpu   time.Duration // utime + stime
	rssKB int64         // VmRSS
	hwmKB int64         // VmHWM: peak RSS over the process's life
}

// readProc reads /proc/<pid>/stat and /proc/<pid>/status; pid 0 is this process.
func readProc(pid int) (procSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procSample{}, err
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procSample{}, err
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return procSample{}, err
	}
	return procSample{cpu: cpu, rssKB: statusKB(status, "VmRSS:"), hwmKB: statusKB(status, "VmHWM:")}, nil
}

// parseStatCPU returns utime+stime of a /proc/<pid>/stat line. The command
// name, field 2, may hold spaces and parentheses: fields are counted from
// the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat times: %q %q", fields[11], fields[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// statusKB returns the value in kB of a line of /proc/<pid>/status.
func statusKB(status []byte, key string) int64 {
	i := bytes.Index(status, []byte(key))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(status[i+len(key):])
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return v
}

// procMonitor samples a server's RSS a few times a second to find its peak
// during a run, and brackets its CPU time. A cluster's processes count as
// one: their CPU times and RSS are added up.
type procMonitor struct {
	pids []int
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	peakKB int64
	last   procSample
	err    error
}

func startMonitor(pids []int, every time.Duration) *procMonitor {
	m := &procMonitor{pids: pids, stop: make(chan struct{})}
	m.sample()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *procMonitor) sample() procSample {
	var s procSample
	var err error
	for _, pid := range m.pids {
		one, e := readProc(pid)
		s.cpu, s.rssKB, s.hwmKB, err = s.cpu+one.cpu, s.rssKB+one.rssKB, s.hwmKB+one.hwmKB, cmp.Or(err, e)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.err = err
		return m.last
	}
	m.last = s
	m.peakKB = max(m.peakKB, s.rssKB)
	return s
}

// now samples the process at once.
func (m *procMonitor) now() procSample { return m.sample() }

// peak returns the largest RSS seen since the monitor started.
func (m *procMonitor) peak() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peakKB
}

func (m *procMonitor) close() {
	close(m.stop)
	m.wg.Wait()
}
