package web

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// Audit finding 3: 50 simultaneous wrong passwords for one account were
// all checked, because the throttle was consulted before bcrypt and
// counted after. Every password check is held until all 50 requests have
// either reached one or been answered, so the requests truly overlap.
func TestParallelWrongPasswordsSpendOnlyTheFreeBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	const parallel = 50
	var checks, settled atomic.Int64
	gate := make(chan struct{})
	arrived := make(chan struct{}, parallel)
	verify := h.srv.areas.auth.verifyPassword
	h.srv.areas.auth.verifyPassword = func(hash, pw string) bool {
		checks.Add(1)
		arrived <- struct{}{}
		<-gate
		return verify(hash, pw)
	}
	c := h.anon()
	codes := make(chan int, parallel)
	var wg sync.WaitGroup
	for i := 0; i < parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password!"}})
			codes <- rec.Code
			if rec.Code != http.StatusUnauthorized {
				arrived <- struct{}{} // answered without a check
			}
		}()
	}
	for settled.Load() < parallel {
		<-arrived
		settled.Add(1)
	}
	close(gate)
	wg.Wait()
	close(codes)
	if n := checks.Load(); n > int64(h.srv.areas.auth.throttle.Free) {
		t.Fatalf("%d of %d parallel wrong passwords reached bcrypt, want at most the %d free", n, parallel, h.srv.areas.auth.throttle.Free)
	}
	refused := 0
	for code := range codes {
		if code == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != parallel-int(checks.Load()) {
		t.Fatalf("%d refused with 429, want every unchecked attempt", refused)
	}
	// What is left of the budget, sequentially, and then the lock.
	h.srv.areas.auth.verifyPassword = func(hash, pw string) bool { checks.Add(1); return verify(hash, pw) }
	for checks.Load() < int64(h.srv.areas.auth.throttle.Free) {
		if rec := c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password!"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("a free attempt was refused: %d", rec.Code)
		}
	}
	before := checks.Load()
	for i := 0; i < 10; i++ {
		c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password!"}})
	}
	if checks.Load() != before {
		t.Fatalf("%d attempts reached bcrypt while locked", checks.Load()-before)
	}
}

// A successful sign-in from an address takes back its own attempt there,
// but does not wipe the failures other accounts' guesses left.
func TestASuccessDoesNotResetTheAddressForOtherAccounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.anon()
	for i := 0; i < 4; i++ {
		if rec := c.post("/login", url.Values{"username": {"guess" + itoa(i)}, "password": {"wrong password!"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	if rec := c.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("alice: %d", rec.Code)
	}
	attacker := h.anon() // goes on from the same address in a new browser
	if rec := attacker.post("/login", url.Values{"username": {"guess9"}, "password": {"wrong password!"}}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("fifth guess: %d", rec.Code)
	}
	if rec := attacker.post("/login", url.Values{"username": {"guess10"}, "password": {"wrong password!"}}); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the address was not locked after 5 wrong guesses around a success: %d", rec.Code)
	}
}
