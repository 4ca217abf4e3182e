package roomcast

import (
	"sync"
	"testing"
	"time"
)

// The dispatchers a reader made ready run each on its own: one whose
// handler blocks holds up neither the others nor the reader's goroutine
// beyond the last, and each runs its tasks in order.
func TestRunReadyBlockedDispatcherHoldsUpNoOther(t *testing.T) {
	srv := NewServer(Options{})
	var ds [3]dispatcher
	for i := range ds {
		ds[i].srv = srv
	}
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []int
	record := func(i int) func() {
		return func() {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
		}
	}
	var ready *dispatcher
	ds[0].push(func() { <-release }, false, &ready) // blocks until released
	ds[0].push(record(0), false, &ready)            // after it, in order
	ds[1].push(record(1), false, &ready)
	ds[2].push(record(2), false, &ready)
	if ready != &ds[2] || ds[2].nextReady != &ds[1] || ds[1].nextReady != &ds[0] {
		t.Fatal("ready list is not linked newest first")
	}
	// ds[0], the last of the list, runs on this goroutine: on another here,
	// so that the test can see the others go while it blocks.
	done := make(chan struct{})
	go func() { ready.runReady(); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(ran)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ran %v while dispatcher 0 blocks; want 1 and 2", ran)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-done // runReady returns once the last dispatcher has drained
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 3 || ran[2] != 0 {
		t.Fatalf("ran %v; want dispatcher 0 last, after its blocking task", ran)
	}
	srv.workers.Wait()
	for i := range ds {
		if ds[i].running || ds[i].nextReady != nil {
			t.Fatalf("dispatcher %d left running or linked", i)
		}
	}
}
