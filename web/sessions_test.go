package web

import (
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// copyBrowser is an attacker who copied the browser's cookies.
func copyBrowser(c *client) *client {
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(baseURL, c.jar.Cookies(baseURL))
	return &client{h: c.h, jar: jar, csrf: c.csrf, ip: "198.51.100.9"}
}

// Audit finding 2: a cookie copied before signing out kept working (and
// each replay extended it). Signing out now ends the session server-side.
func TestACookieReplayedAfterSignOutIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.login("alice")
	stolen := copyBrowser(c)
	if rec := stolen.get("/leads/board"); rec.Code != http.StatusOK {
		t.Fatalf("the copy does not work before sign-out: %d", rec.Code)
	}
	if rec := c.post("/logout", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	for i := 0; i < 3; i++ {
		h.clock.Advance(2 * time.Minute) // a replay a minute later would have refreshed the idle clock
		if rec := stolen.get("/leads/board"); rec.Code != http.StatusSeeOther {
			t.Fatalf("replay %d after sign-out: %d, want 303 to /login", i, rec.Code)
		}
	}
}

// Replaying a cookie cannot push the absolute timeout back: it counts from
// the sign-in kept server-side.
func TestReplaysDoNotOutliveTheAbsoluteTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	stolen := copyBrowser(h.login("alice"))
	for elapsed := time.Duration(0); elapsed < 7*24*time.Hour; elapsed += 4 * time.Hour {
		h.clock.Advance(4 * time.Hour)
		stolen.get("/leads/board")
	}
	h.clock.Advance(4 * time.Hour)
	if rec := stolen.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("a replayed cookie outlived the absolute timeout: %d", rec.Code)
	}
}

func TestTheAccountPageListsSessionsAndEndsOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	h.addUser("bob", db.RoleViewer)
	laptop := h.login("alice")
	phone := h.anon()
	phone.ip = "192.0.2.77"
	phoneUA := func(r *http.Request) {
		r.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1")
	}
	if rec := phone.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}}, phoneUA); rec.Code != http.StatusSeeOther {
		t.Fatalf("phone login: %d", rec.Code)
	}
	bob := h.login("bob")

	page := laptop.get("/settings/account").Body.String()
	rows := parsePage(t, page).all("session-row")
	if len(rows) != 2 {
		t.Fatalf("%d sessions listed, want alice's 2", len(rows))
	}
	// This browser first.
	if len(within(rows[0], "session-current")) != 1 || len(within(rows[1], "session-current")) != 0 {
		t.Fatal("this browser is not the one marked current")
	}
	if got := nodeText(within(rows[1], "session-device")[0]); got != "Safari 18, iOS" {
		t.Errorf("phone's device = %q", got)
	}
	if got := nodeText(within(rows[1], "session-address")[0]); got != "192.0.2.77" {
		t.Errorf("phone's address = %q", got)
	}
	phoneID := attrOf(rows[1], "data-session-id")

	// Bob cannot end Alice's session by its id.
	bob.get("/settings/account")
	if rec := bob.post("/settings/account/sessions/"+phoneID+"/end", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("another user's session: %d, want 404", rec.Code)
	}
	if rec := phone.get("/leads/board"); rec.Code != http.StatusOK {
		t.Fatalf("the phone was signed out by someone else: %d", rec.Code)
	}
	if rec := laptop.post("/settings/account/sessions/"+phoneID+"/end", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("end the phone's session: %d", rec.Code)
	}
	if rec := phone.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("the ended session still works: %d", rec.Code)
	}
	if rec := laptop.get("/settings/account"); len(parsePage(t, rec.Body.String()).all("session-row")) != 1 {
		t.Fatal("the ended session is still listed")
	}
	if h.countAudit("auth.session_end", "") != 1 {
		t.Fatal("ending a session was not audited")
	}
}

func TestSignOutEverywhereElseKeepsThisBrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	a, b, c := h.login("alice"), h.login("alice"), h.login("alice")
	if rec := a.post("/settings/account/sessions/end-others", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("end others: %d", rec.Code)
	}
	if a.get("/leads/board").Code != http.StatusOK || b.get("/leads/board").Code != http.StatusSeeOther ||
		c.get("/leads/board").Code != http.StatusSeeOther {
		t.Fatal("want only this browser signed in")
	}
}

func TestAnAdministratorSignsAUserOutEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	mia := h.addUser("mia", db.RoleMarketer)
	admin := h.login("root")
	m1, m2 := h.login("mia"), h.login("mia")
	page := admin.get("/settings/users").Body.String()
	if len(parsePage(t, page).all("end-sessions-form")) == 0 {
		t.Fatal("no sign-out-everywhere button on the users page")
	}
	rec := admin.post("/settings/users/"+itoa64(mia.ID)+"/sessions/end", nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", rec.Code)
	}
	if m1.get("/leads/board").Code != http.StatusSeeOther || m2.get("/leads/board").Code != http.StatusSeeOther {
		t.Fatal("a session survived sign out everywhere")
	}
	if admin.get("/leads/board").Code != http.StatusOK {
		t.Fatal("the administrator was signed out too")
	}
	if h.login("mia").get("/leads/board").Code != http.StatusOK {
		t.Fatal("the account cannot sign in again")
	}
}

// Disabling and a password reset end every session server-side, so even
// a copied cookie is refused.
func TestDisableAndPasswordResetEndCopiedSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	mia := h.addUser("mia", db.RoleMarketer)
	admin := h.login("root")
	stolen := copyBrowser(h.login("mia"))
	admin.post("/settings/users/"+itoa64(mia.ID)+"/password", url.Values{"password": {"a whole new passphrase"}})
	if rec := stolen.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("copied session survived the password reset: %d", rec.Code)
	}
	fresh := h.anon()
	if rec := fresh.post("/login", url.Values{"username": {"mia"}, "password": {"a whole new passphrase"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", rec.Code)
	}
	stolen = copyBrowser(fresh)
	admin.post("/settings/users/"+itoa64(mia.ID)+"/disable", nil)
	if rec := stolen.get("/leads/board"); rec.Code != http.StatusSeeOther {
		t.Fatalf("copied session survived disabling: %d", rec.Code)
	}
}

// Served over TLS, every answer asks browsers to keep to https; over
// plain HTTP (127.0.0.1 by default) none does (audit finding 8).
func TestHSTSOnlyUnderTLS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.anon()
	if got := c.get("/login").Header().Get("Strict-Transport-Security"); got != "" {
		t.Fatalf("HSTS over plain HTTP: %q", got)
	}
	got := c.get("/login", func(r *http.Request) { r.TLS = &tls.ConnectionState{} }).Header().Get("Strict-Transport-Security")
	if got != "max-age=31536000" {
		t.Fatalf("HSTS under TLS: %q", got)
	}
}

// The browser's User-Agent is the visitor's to choose: the sessions list
// shows it as text.
func TestTheSessionsListEscapesTheUserAgent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("alice", db.RoleViewer)
	c := h.anon()
	hostile := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	rec := c.post("/login", url.Values{"username": {"alice"}, "password": {password("alice")}},
		func(r *http.Request) { r.Header.Set("User-Agent", hostile) })
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", rec.Code)
	}
	page := c.get("/settings/account").Body.String()
	table := parsePage(t, page).all("sessions-table")
	if len(table) != 1 {
		t.Fatal("no sessions table")
	}
	if got := nodeText(within(table[0], "session-device")[0]); got != hostile {
		t.Fatalf("device shown as %q", got)
	}
	if appearsInBytes(page, "<script>alert") || appearsInBytes(page, "<img src=x") {
		t.Fatal("the User-Agent reached the page as markup")
	}
}
