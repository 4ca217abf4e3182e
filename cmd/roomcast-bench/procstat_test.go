package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// The command name may contain spaces and parentheses.
	stat := []byte("4242 (we(ird) name) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 130 0 0 20 0 9 0 100 0 0\n")
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; got != want {
		t.Errorf("cpu = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 a b"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) accepted", bad)
		}
	}
}

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n")
	if got := statusKB(status, "VmRSS:"); got != 1024 {
		t.Errorf("VmRSS = %d", got)
	}
	if got := statusKB(status, "VmHWM:"); got != 2048 {
		t.Errorf("VmHWM = %d", got)
	}
	if got := statusKB(status, "VmSwap:"); got != 0 {
		t.Errorf("missing key = %d", got)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if s.rssKB <= 0 || s.hwmKB < s.rssKB {
		t.Errorf("sample %+v", s)
	}
	m := startMonitor([]int{os.Getpid()}, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	m.close()
	if m.peak() <= 0 {
		t.Errorf("monitor peak %d", m.peak())
	}
}
