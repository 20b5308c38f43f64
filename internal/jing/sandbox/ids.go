package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"sync"
)

// base57 is the alphabet of the platform's jing_uuid ids (no 0, 1, I, O, l).
const base57 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// uuid22 draws a 22-character id from rng, deterministic for the seed.
func uuid22(rng *mrand.Rand) string {
	b := make([]byte, 22)
	for i := range b {
		b[i] = base57[rng.IntN(len(base57))]
	}
	return string(b)
}

func newToken(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newRequestID() string { return newToken(32) }

// lockedRand is a seeded source shared by goroutines.
type lockedRand struct {
	mu  sync.Mutex
	rng *mrand.Rand
}

func newLockedRand(seed int64) *lockedRand {
	return &lockedRand{rng: mrand.New(mrand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))}
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.Float64()
}

func (l *lockedRand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.IntN(n)
}

// uuid22 draws a fresh jing_uuid at run time (new objects created through the API).
func (l *lockedRand) uuid22() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uuid22(l.rng)
}

// newUUID is a new object's id.
func (s *Server) newUUID() string { return s.faultRN.uuid22() }
