package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

func TestLoginSucceedsAndIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleMarketer)
	c := h.anon()
	rec := c.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}, "next": {"/crowds"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/crowds" {
		t.Fatalf("login: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = c.get("/crowds")
	if rec.Code != http.StatusOK || testIDText(rec.Body.String(), "user-name") != "alice" {
		t.Fatalf("after login: %d", rec.Code)
	}
	if h.countAudit("auth.login", db.OutcomeOK) != 1 {
		t.Fatal("sign-in not audited")
	}
}

func TestLoginRejectsOffSiteNext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "javascript:alert(1)"} {
		c := h.anon()
		rec := c.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}, "next": {next}})
		if loc := rec.Header().Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestFailedLoginsAreThrottledPerAccountAndAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.anon()
	for i := 0; i < 5; i++ {
		rec := c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password!"}})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, rec.Code)
		}
	}
	// The fifth failure used the last free attempt: the account is locked.
	if rec := c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password!"}}); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: %d, want 429", rec.Code)
	}
	// Even the right password is now refused, with a clear wait time, from another address.
	other := h.anon()
	other.ip = "192.0.2.99"
	rec := other.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("locked account: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !hasTestIDText(rec.Body.String(), "login-error", "15") {
		t.Fatalf("no wait time shown: %s", rec.Body.String())
	}
	// The first address is locked for other accounts too.
	h.addUser("bob", db.RoleViewer)
	rec = c.post("/login", url.Values{"username": {"bob"}, "password": {password("bob")}})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("locked address: %d", rec.Code)
	}
	if h.countAudit("auth.login", db.OutcomeFailed) != 5 || h.countAudit("auth.login", db.OutcomeDenied) != 3 {
		t.Fatalf("audit: %d failed, %d denied", h.countAudit("auth.login", db.OutcomeFailed), h.countAudit("auth.login", db.OutcomeDenied))
	}
	h.clock.Advance(16 * time.Second)
	rec = other.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("after the lock expired: %d", rec.Code)
	}
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	u := h.addUser("alice", db.RoleViewer)
	h.store.SetUserDisabled(context.Background(), u.ID, true)
	rec := h.anon().post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("disabled user signed in: %d", rec.Code)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.login("alice")
	if rec := c.post("/logout", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := c.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("still signed in after logout: %d", rec.Code)
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.login("alice")
	h.clock.Advance(7 * time.Hour)
	if rec := c.get("/leads/board"); rec.Code != http.StatusOK {
		t.Fatalf("signed out before the idle timeout: %d", rec.Code)
	}
	h.clock.Advance(8*time.Hour + time.Minute)
	if rec := c.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("idle session still valid: %d", rec.Code)
	}

	c = h.login("alice")
	for i := 0; i < 8*24; i++ { // active every hour for eight days
		h.clock.Advance(time.Hour)
		if rec := c.get("/leads/board"); rec.Code != http.StatusOK {
			if time.Duration(i+1)*time.Hour <= 7*24*time.Hour {
				t.Fatalf("signed out after %d h of activity", i+1)
			}
			return
		}
	}
	t.Fatal("absolute timeout never ended the session")
}

func TestPasswordChangeEndsOtherSessionsButNotThisOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	laptop, phone := h.login("alice"), h.login("alice")
	rec := laptop.post("/settings/account/password", url.Values{
		"current_password": {password("alice")}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("change password: %d\n%s", rec.Code, rec.Body.String())
	}
	if rec := laptop.get("/leads/board"); rec.Code != http.StatusOK {
		t.Fatalf("own session ended: %d", rec.Code)
	}
	if rec := phone.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("other session survived the password change: %d", rec.Code)
	}
}

func TestOwnPasswordChangeNeedsCurrentPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.login("alice")
	rec := c.post("/settings/account/password", url.Values{
		"current_password": {"not it at all"}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password: %d", rec.Code)
	}
	if c2 := h.anon(); c2.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}}).Code != http.StatusSeeOther {
		t.Fatal("old password no longer works after a refused change")
	}
}

func TestSetupTokenWorksOnceAndOnlyOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withSetupToken("the-setup-token"))
	c := h.anon()
	if rec := c.get("/setup?token=wrong"); rec.Code != http.StatusNotFound {
		t.Fatalf("wrong token page: %d", rec.Code)
	}
	if rec := c.get("/setup?token=the-setup-token"); rec.Code != http.StatusOK {
		t.Fatalf("setup page: %d", rec.Code)
	}
	form := url.Values{"token": {"wrong"}, "username": {"root"}, "password": {"root password 123"}, "password_confirm": {"root password 123"}}
	if rec := c.post("/setup", form); rec.Code != http.StatusNotFound {
		t.Fatalf("wrong token accepted: %d", rec.Code)
	}
	form.Set("token", "the-setup-token")
	form.Set("password_confirm", "different")
	if rec := c.post("/setup", form); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("mismatched confirmation: %d", rec.Code)
	}
	form.Set("password_confirm", "root password 123")
	rec := c.post("/setup", form)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("setup: %d\n%s", rec.Code, rec.Body.String())
	}
	if rec := c.get("/leads/board"); rec.Code != http.StatusOK {
		t.Fatalf("not signed in after setup: %d", rec.Code)
	}
	u, err := h.store.UserByName(context.Background(), "root")
	if err != nil || u.Role != db.RoleAdmin {
		t.Fatalf("admin not created: %+v %v", u, err)
	}
	// Used once: the same token now does nothing, for page and form alike.
	again := h.anon()
	if rec := again.get("/setup?token=the-setup-token"); rec.Code != http.StatusNotFound {
		t.Fatalf("used token still shows the form: %d", rec.Code)
	}
	form.Set("username", "intruder")
	if rec := again.post("/setup", form); rec.Code != http.StatusNotFound {
		t.Fatalf("used token accepted: %d", rec.Code)
	}
	if n, _ := h.store.CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d accounts after a reused token", n)
	}
}

func TestConcurrentSetupCreatesOneAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withSetupToken("tok"))
	var wg sync.WaitGroup
	var created sync.Map
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := h.anon()
			name := "admin" + string(rune('a'+i))
			rec := c.post("/setup", url.Values{"token": {"tok"}, "username": {name}, "password": {"long enough pw"}, "password_confirm": {"long enough pw"}})
			if rec.Code == http.StatusSeeOther {
				created.Store(name, true)
			}
		}(i)
	}
	wg.Wait()
	if n, _ := h.store.CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d administrators created by racing setup requests", n)
	}
}

func TestLanguageFollowsAcceptLanguageThenChoiceIsRememberedPerUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.anon()
	rec := c.get("/login", func(r *http.Request) { r.Header.Set("Accept-Language", "en-US,en;q=0.9") })
	if pageLang(rec.Body.String()) != "en" || !strings.Contains(pageText(rec.Body.String()), "Sign in") {
		t.Fatal("English Accept-Language did not give English")
	}
	if rec := h.anon().get("/login"); pageLang(rec.Body.String()) != "zh-CN" || !strings.Contains(pageText(rec.Body.String()), "登录") {
		t.Fatal("default language is not Chinese")
	}
	c = h.login("alice")
	if rec := c.post("/lang", url.Values{"lang": {"en"}, "next": {"/crowds"}}); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/crowds" {
		t.Fatalf("switch language: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// A new browser, Chinese by its header, still gets the user's choice after sign-in.
	c2 := h.login("alice")
	rec = c2.get("/leads/board", func(r *http.Request) { r.Header.Set("Accept-Language", "zh-CN") })
	if pageLang(rec.Body.String()) != "en" || !strings.Contains(testIDText(rec.Body.String(), "nav-leads"), "Leads") {
		t.Fatal("language choice not remembered for the user")
	}
	if rec := c.post("/lang", url.Values{"lang": {"fr"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("unsupported language: %d", rec.Code)
	}
}

func TestTamperedSessionCookieIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleAdmin)
	c := h.login("alice")
	for _, ck := range c.jar.Cookies(baseURL) {
		ck.Value = ck.Value[:len(ck.Value)-4] + "AAAA"
		c.jar.SetCookies(baseURL, []*http.Cookie{ck})
	}
	if rec := c.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("tampered cookie accepted: %d", rec.Code)
	}
}

func TestForwardedForCannotDodgeTheAddressThrottle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.anon()
	for i := 0; i < 6; i++ {
		spoof := func(r *http.Request) {
			r.Header.Set("X-Forwarded-For", "198.51.100."+itoa(i))
			r.Header.Set("X-Real-IP", "198.51.101."+itoa(i))
		}
		c.post("/login", url.Values{"username": {"user" + itoa(i)}, "password": {"wrong password!"}}, spoof)
	}
	// Six different account names, six different claimed addresses: the real address is locked.
	rec := c.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}},
		func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.7") })
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("spoofed X-Forwarded-For escaped the throttle: %d", rec.Code)
	}
	entries, _ := h.store.ListAudit(context.Background(), db.AuditFilter{Action: "auth.login", Limit: 1})
	if entries[0].RemoteAddr != "192.0.2.10" {
		t.Fatalf("audit recorded the claimed address %q", entries[0].RemoteAddr)
	}
}
