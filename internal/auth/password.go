// Package auth holds the sign-in rules that do not depend on HTTP:
// password hashing and policy, and the throttle on failed sign-ins.
package auth

import (
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 10

// ErrPasswordTooShort and ErrPasswordTooLong refuse a new password, in
// the reader's language where a page shows them (msg.Error).
var (
	ErrPasswordTooShort = msg.Refuse(msg.Invalid, "user.error.password_short", msg.Int("Min", MinPasswordLen)).On("password")
	// bcrypt ignores everything after 72 bytes; refuse rather than truncate silently.
	ErrPasswordTooLong = msg.Refuse(msg.Invalid, "user.error.password_long").On("password")
)

// DefaultCost is the bcrypt cost of new hashes.
const DefaultCost = 11

// testCost, when set, is the cost of new hashes (and of the dummy hash
// that unknown accounts are checked against) instead of DefaultCost. Only
// SetCostForTests sets it, once, before any test runs; it is atomic so
// that tests running in parallel may each call it.
var testCost atomic.Int32

// SetCostForTests makes hashing cheap in tests. Never call it elsewhere.
func SetCostForTests() { testCost.Store(int32(bcrypt.MinCost)) }

// cost is the bcrypt cost new hashes are made with.
func cost() int {
	if c := testCost.Load(); c != 0 {
		return int(c)
	}
	return DefaultCost
}

// CheckPolicy validates a new password.
func CheckPolicy(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return ErrPasswordTooShort
	}
	if len(password) > 72 {
		return ErrPasswordTooLong
	}
	return nil
}

// HashPassword checks the policy and returns a bcrypt hash.
func HashPassword(password string) (string, error) { return hashAt(password, cost()) }

func hashAt(password string, cost int) (string, error) {
	if err := CheckPolicy(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// dummyHashes holds, per bcrypt cost, a hash compared against when the
// account does not exist, so a sign-in for an unknown name does the work
// of one for a known name: it is made at the cost new hashes are made
// with (not a fixed one), computed once per cost.
var dummyHashes sync.Map // int → []byte

func dummyHash(cost int) []byte {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.([]byte)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("jingdesk-no-such-user"), cost)
	if err != nil {
		panic("auth: dummy hash: " + err.Error()) // only for an invalid cost, a programming error
	}
	dummyHashes.Store(cost, h)
	return h
}

// VerifyPassword reports whether password matches hash; an empty hash
// (unknown user) still spends the time of a real comparison.
func VerifyPassword(hash, password string) bool { return verifyAt(hash, password, cost()) }

// verifyAt is VerifyPassword with the dummy hash at cost.
func verifyAt(hash, password string, cost int) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash(cost), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// WarmUp computes the dummy hash ahead of the first sign-in for an
// unknown name, which would otherwise take twice as long (and tell).
func WarmUp() { dummyHash(cost()) }
