package main

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	values := []uint64{0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, 1<<maxBits - 1}
	for i := 0; i < 2000; i++ {
		values = append(values, rand.Uint64N(1<<maxBits))
	}
	for _, v := range values {
		b := bucketOf(v)
		if b < 0 || b >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0,%d)", v, b, nBuckets)
		}
		low, width := bucketRange(b)
		if v < low || v >= low+width {
			t.Fatalf("%d in bucket %d = [%d,%d)", v, b, low, low+width)
		}
		if v >= 1<<subBits && float64(width)/float64(low) > 1.0/halfSub+1e-12 {
			t.Fatalf("bucket of %d is %d wide at %d: more than 1/%d", v, width, low, halfSub)
		}
	}
	if got := bucketOf(1 << 62); got != nBuckets-1 {
		t.Errorf("a huge value goes to bucket %d, want the last, %d", got, nBuckets-1)
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	var next uint64
	for b := 0; b < nBuckets; b++ {
		low, width := bucketRange(b)
		if low != next {
			t.Fatalf("bucket %d starts at %d, want %d", b, low, next)
		}
		next = low + width
	}
	if next != 1<<maxBits {
		t.Fatalf("buckets end at %d, want 2^%d", next, maxBits)
	}
}

func TestPercentiles(t *testing.T) {
	var h histogram
	// 1..10000 microseconds, once each.
	for i := 1; i <= 10000; i++ {
		h.record(i, time.Duration(i)*time.Microsecond)
	}
	s := h.snapshot()
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.9, 9000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := s.percentile(c.q)
		if rel := math.Abs(float64(got-c.want)) / float64(c.want); rel > 0.02 {
			t.Errorf("p%g = %v, want %v within 2%%", c.q*100, got, c.want)
		}
	}
	if s.max != 10*time.Millisecond {
		t.Errorf("max = %v", s.max)
	}
	l := s.summary()
	if l.Count != 10000 || math.Abs(l.Mean-5.0005) > 1e-3 || l.Max != 10 {
		t.Errorf("summary = %+v", l)
	}
	if l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max {
		t.Errorf("percentiles out of order: %+v", l)
	}
}

func TestPercentileNeverAboveMax(t *testing.T) {
	var h histogram
	h.record(0, 1000003) // the middle of its bucket is above the value
	s := h.snapshot()
	if got := s.percentile(0.5); got > s.max {
		t.Errorf("p50 %v above max %v", got, s.max)
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h histogram
	s := h.snapshot()
	if s.percentile(0.99) != 0 || s.summary() != nil {
		t.Errorf("empty histogram: p99 %v, summary %v", s.percentile(0.99), s.summary())
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h histogram
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				h.record(g, time.Duration(i+g))
			}
		}()
	}
	wg.Wait()
	if s := h.snapshot(); s.n != 8000 || s.max != 1006 {
		t.Errorf("n = %d, max = %d", s.n, s.max)
	}
}

func TestNegativeLatencyCountsAsZero(t *testing.T) {
	var h histogram
	h.record(0, -5)
	if s := h.snapshot(); s.counts[0] != 1 || s.max != 0 {
		t.Errorf("negative sample: counts[0] %d max %v", s.counts[0], s.max)
	}
}
