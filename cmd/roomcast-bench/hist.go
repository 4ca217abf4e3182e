package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Latencies are counted in a log-linear histogram: values below 2^subBits
// nanoseconds exactly, larger ones in 2^(subBits-1) buckets per power of two,
// so that any percentile is within 1/2^(subBits-1) (1.6%) of the true value,
// in constant memory whatever the number of samples.
const (
	subBits  = 7
	halfSub  = 1 << (subBits - 1)
	maxBits  = 44 // values are clamped to 2^44 ns, about 4.9 hours
	nBuckets = (maxBits-subBits)*halfSub + 1<<subBits
)

// bucketOf returns the bucket of v nanoseconds.
func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	if v >= 1<<maxBits {
		v = 1<<maxBits - 1
	}
	l := bits.Len64(v)
	top := v >> (l - subBits) // in [halfSub, 2*halfSub)
	return (l-subBits)*halfSub + int(top)
}

// bucketRange returns the smallest value of bucket i and the bucket's width.
func bucketRange(i int) (low, width uint64) {
	if i < 1<<subBits {
		return uint64(i), 1
	}
	shift := (i - halfSub) / halfSub // l - subBits
	top := uint64(i - shift*halfSub)
	return top << shift, 1 << shift
}

// histShards spreads concurrent recorders over independent histograms so that
// the reader goroutines of a thousand clients do not fight over cache lines.
const histShards = 16

// histogram counts latencies; record is safe for concurrent use.
type histogram struct {
	shards [histShards]struct {
		counts [nBuckets]atomic.Uint64
	}
	max atomic.Int64
	sum atomic.Int64
	n   atomic.Int64
}

// record adds one latency; shard picks the shard (a client's index).
func (h *histogram) record(shard int, d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.shards[shard%histShards].counts[bucketOf(uint64(d))].Add(1)
	h.n.Add(1)
	h.sum.Add(int64(d))
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// snapshot merges the shards into plain counts.
func (h *histogram) snapshot() *histSnapshot {
	s := &histSnapshot{max: time.Duration(h.max.Load()), sum: time.Duration(h.sum.Load())}
	for i := range h.shards {
		for b := range h.shards[i].counts {
			c := h.shards[i].counts[b].Load()
			s.counts[b] += c
			s.n += c
		}
	}
	return s
}

// histSnapshot is a histogram at one moment.
type histSnapshot struct {
	counts [nBuckets]uint64
	n      uint64
	max    time.Duration
	sum    time.Duration
}

// percentile returns the value below which fraction q (0..1) of the samples
// lie: the middle of the bucket that holds the sample of rank ceil(q*n),
// never more than the largest sample.
func (s *histSnapshot) percentile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range s.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			v := time.Duration(low + width/2)
			if s.max > 0 && v > s.max {
				v = s.max
			}
			return v
		}
	}
	return s.max
}

// Latency is the summary of a histogram in the result, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func (s *histSnapshot) summary() *Latency {
	if s.n == 0 {
		return nil
	}
	return &Latency{
		Count: s.n,
		Mean:  ms(s.sum / time.Duration(s.n)),
		P50:   ms(s.percentile(0.50)),
		P90:   ms(s.percentile(0.90)),
		P99:   ms(s.percentile(0.99)),
		P999:  ms(s.percentile(0.999)),
		Max:   ms(s.max),
	}
}

// ms is d in milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
