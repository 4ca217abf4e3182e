//go:build race

package adapter

// raceEnabled: sync.Pool drops items at random under the race detector, so
// allocation counts mean nothing then.
const raceEnabled = true
