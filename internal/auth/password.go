// Package auth holds the sign-in rules that do not depend on HTTP:
// password hashing and policy, and the throttle on failed sign-ins.
package auth

import (
	"sync"
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

// cost is bcrypt's work factor of new hashes (and of the dummy hash that
// unknown accounts are checked against); tests lower it with SetCostForTests.
var cost = DefaultCost

// DefaultCost is the bcrypt cost of new hashes.
const DefaultCost = 11

// SetCostForTests makes hashing cheap in tests. Never call it elsewhere.
func SetCostForTests() { cost = bcrypt.MinCost }

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
func HashPassword(password string) (string, error) {
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

func dummyHash() []byte {
	c := cost
	if h, ok := dummyHashes.Load(c); ok {
		return h.([]byte)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("jingdesk-no-such-user"), c)
	if err != nil {
		panic("auth: dummy hash: " + err.Error()) // only for an invalid cost, a programming error
	}
	dummyHashes.Store(c, h)
	return h
}

// VerifyPassword reports whether password matches hash; an empty hash
// (unknown user) still spends the time of a real comparison.
func VerifyPassword(hash, password string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// WarmUp computes the dummy hash ahead of the first sign-in for an
// unknown name, which would otherwise take twice as long (and tell).
func WarmUp() { dummyHash() }
