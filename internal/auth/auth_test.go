package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordPolicyAndHash(t *testing.T) {
	SetCostForTests()
	if _, err := HashPassword("short"); err != ErrPasswordTooShort {
		t.Fatalf("short password: %v", err)
	}
	if _, err := HashPassword(strings.Repeat("密", 30)); err != ErrPasswordTooLong {
		t.Fatalf("90-byte password: %v", err)
	}
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyPassword(h, "correct horse battery") || VerifyPassword(h, "correct horse batterY") {
		t.Fatal("verify does not tell right from wrong")
	}
	if VerifyPassword("", "anything") {
		t.Fatal("an unknown user verified")
	}
}

func TestThrottleLocksAfterFreeFailuresAndDoubles(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := NewThrottle(3, 15*time.Minute)
	th.Now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if w := th.Wait("user:a"); w != 0 {
			t.Fatalf("locked after %d failures", i)
		}
		th.Fail("user:a", "ip:1")
	}
	if th.Wait("user:a") != 0 {
		t.Fatal("locked while still within the free failures")
	}
	th.Fail("user:a", "ip:1")
	if w := th.Wait("user:a"); w != 15*time.Second {
		t.Fatalf("first lock %v, want 15s", w)
	}
	if w := th.Wait("user:b", "ip:1"); w != 15*time.Second {
		t.Fatalf("address not locked with the account: %v", w)
	}
	now = now.Add(16 * time.Second)
	th.Fail("user:a")
	if w := th.Wait("user:a"); w != 30*time.Second {
		t.Fatalf("second lock %v, want 30s", w)
	}
	th.Succeed("user:a")
	if th.Wait("user:a") != 0 {
		t.Fatal("success did not clear the lock")
	}
}
