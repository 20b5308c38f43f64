// Package auth holds the sign-in rules that do not depend on HTTP:
// password hashing and policy, and the throttle on failed sign-ins.
package auth

import (
	"errors"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 10

// ErrPasswordTooShort and ErrPasswordTooLong describe a rejected password.
var (
	ErrPasswordTooShort = errors.New("password too short")
	// bcrypt ignores everything after 72 bytes; refuse rather than truncate silently.
	ErrPasswordTooLong = errors.New("password too long")
)

// cost is bcrypt's work factor; tests lower it with SetCostForTests.
var cost = 11

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

// dummyHash is compared against when the account does not exist, so a
// sign-in for an unknown name takes as long as one for a known name.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("jingdesk-no-such-user"), bcrypt.DefaultCost)

// VerifyPassword reports whether password matches hash; an empty hash
// (unknown user) still spends the time of a real comparison.
func VerifyPassword(hash, password string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
