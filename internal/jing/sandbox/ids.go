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

// newUUID is the id of an object created at run time (a person, a lead,
// an SMS task, an email). It is drawn from the system's random source,
// not from the seed: a sandbox restarted on its saved state must never
// hand out an id it handed out before, as a seeded stream started afresh
// would.
func (s *Server) newUUID() string { return randomUUID22() }

// randomUUID22 is a jing_uuid from crypto/rand (about 128 bits).
func randomUUID22() string {
	b := make([]byte, 22)
	rand.Read(b)
	for i := range b {
		// 57 does not divide 256: skip the top values so that every
		// character is equally likely.
		for int(b[i]) >= 256-256%len(base57) {
			var one [1]byte
			rand.Read(one[:])
			b[i] = one[0]
		}
		b[i] = base57[int(b[i])%len(base57)]
	}
	return string(b)
}
