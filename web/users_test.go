package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// addEnglishAdmin creates an administrator who reads the console in
// English, so tests can look for English sentences, and signs them in.
func (h *harness) addEnglishAdmin(name string) (*client, db.User) {
	h.t.Helper()
	u := h.addUser(name, db.RoleAdmin)
	if err := h.store.SetUserLang(context.Background(), u.ID, "en"); err != nil {
		h.t.Fatal(err)
	}
	return h.login(name), u
}

// signIn tries a username and password in a fresh browser and returns the status.
func (h *harness) signIn(name, pw string) int {
	h.t.Helper()
	return h.anon().post("/login", url.Values{"username": {name}, "password": {pw}}).Code
}

// expectSignIn fails the test, saying why, unless signing in answers want
// (303 when it worked, 401 when refused).
func (h *harness) expectSignIn(name, pw string, want int, why string) {
	h.t.Helper()
	if got := h.signIn(name, pw); got != want {
		h.t.Fatalf("%s: sign-in as %s answered %d, want %d", why, name, got, want)
	}
}

func (h *harness) user(name string) db.User {
	h.t.Helper()
	u, err := h.store.UserByName(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

func userURL(u db.User, action string) string {
	return fmt.Sprintf("/settings/users/%d/%s", u.ID, action)
}

// expectRedirect fails unless rec is a 303 to want.
func expectRedirect(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
		t.Fatalf("got %d → %q, want 303 → %q", rec.Code, rec.Header().Get("Location"), want)
	}
}

func TestAdminCreatesAUserWhoCanSignInWithTheTypedPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	rec := admin.post("/settings/users", url.Values{"username": {"alice"}, "display_name": {"Alice Wang"},
		"role": {"marketer"}, "password": {"alice's chosen passphrase"}})
	expectRedirect(t, rec, "/settings/users")
	page := admin.get("/settings/users").Body.String()
	if !hasTestIDText(page, "flash", "Account alice created.") || !hasTestIDText(page, "user-row", "Alice Wang") {
		t.Fatal("no confirmation or new row on the users page")
	}
	if hasTestID(page, "password-reveal") {
		t.Fatal("a typed password must not be revealed")
	}
	if u := h.user("alice"); u.Role != db.RoleMarketer || u.DisplayName != "Alice Wang" {
		t.Fatalf("stored %+v", u)
	}
	h.expectSignIn("alice", "alice's chosen passphrase", http.StatusSeeOther, "new user cannot sign in")
	if h.countAudit("user.create", db.OutcomeOK) != 1 {
		t.Fatal("creation not audited")
	}
}

func TestGeneratedPasswordIsShownOnceAndWorks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	expectRedirect(t, admin.post("/settings/users", url.Values{"username": {"bob"}, "role": {"viewer"}}), "/settings/users")
	shown := testIDTexts(admin.get("/settings/users").Body.String(), "revealed-password")
	if len(shown) != 1 || len(shown[0]) < 16 {
		t.Fatalf("generated password not shown: %v", shown)
	}
	if again := admin.get("/settings/users").Body.String(); appearsInBytes(again, shown[0]) {
		t.Fatal("the generated password was shown a second time")
	}
	h.expectSignIn("bob", shown[0], http.StatusSeeOther, "generated password does not work")
}

func TestInviteFormErrorsAre422AndKeepWhatWasTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	h.addUser("alice", db.RoleViewer)
	cases := []struct {
		name, username, role, password, wantMessage string
	}{
		{"duplicate name", "Alice", "viewer", "", "The username Alice is taken"},
		{"too short", "a", "viewer", "", "A username has 2 to 64 characters."},
		{"bad characters", "ali ce", "viewer", "", "cannot contain spaces"},
		{"short password", "carol", "viewer", "tiny-pw", "at least 10 characters"},
		{"unknown role", "carol", "owner", "", "Choose a role."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := h.store.CountUsers(context.Background())
			rec := admin.post("/settings/users", url.Values{"username": {tc.username}, "display_name": {"Typed Name"},
				"role": {tc.role}, "password": {tc.password}})
			body := rec.Body.String()
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", rec.Code)
			}
			if !hasTestIDText(body, "invite-form", tc.wantMessage) {
				t.Fatalf("message %q not shown", tc.wantMessage)
			}
			form := parseHTML(body)
			if form.inputValue("username") != tc.username || form.inputValue("display_name") != "Typed Name" {
				t.Fatalf("typed input not kept: %q, %q", form.inputValue("username"), form.inputValue("display_name"))
			}
			if tc.password != "" && appearsInBytes(body, tc.password) {
				t.Fatal("the typed password was sent back")
			}
			if after, _ := h.store.CountUsers(context.Background()); after != before {
				t.Fatal("an account was created from a refused form")
			}
		})
	}
}

func TestRoleChangeTakesEffectOnTheUsersNextRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	mia := h.addUser("mia", db.RoleMarketer)
	miaBrowser := h.login("mia")
	if rec := miaBrowser.get("/settings/audit"); rec.Code != http.StatusForbidden {
		t.Fatalf("marketer on an admin page: %d", rec.Code)
	}
	// htmx swaps the row alone.
	rec := admin.post(userURL(mia, "role"), url.Values{"role": {"admin"}}, htmx())
	body := rec.Body.String()
	if rec.Code != http.StatusOK || isFullPage(body) || !hasTestID(body, "user-row") || !slices.Contains(texts(parseHTML(body).where("span", "class", "badge badge-admin")), "Administrator") {
		t.Fatalf("htmx role change: %d\n%s", rec.Code, body)
	}
	if rec := miaBrowser.get("/settings/audit"); rec.Code != http.StatusOK {
		t.Fatalf("promoted user still refused: %d", rec.Code)
	}
	// A plain form post redirects back with a flash.
	expectRedirect(t, admin.post(userURL(mia, "role"), url.Values{"role": {"viewer"}}), "/settings/users")
	if !hasTestIDText(admin.get("/settings/users").Body.String(), "flash", "mia is now: Viewer.") {
		t.Fatal("no flash after the role change")
	}
	if rec := miaBrowser.get("/settings/audit"); rec.Code != http.StatusForbidden {
		t.Fatalf("demoted user still allowed in: %d", rec.Code)
	}
	if h.countAudit("user.role", db.OutcomeOK) != 2 {
		t.Fatal("role changes not audited")
	}
	if rec := admin.post(userURL(mia, "role"), url.Values{"role": {"owner"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("unknown role: %d", rec.Code)
	}
}

func TestDisablingEndsTheUsersLiveSessionAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	alice := h.addUser("alice", db.RoleMarketer)
	aliceBrowser := h.login("alice")
	rec := admin.post(userURL(alice, "disable"), nil, htmx())
	if rec.Code != http.StatusOK || !hasTestIDText(rec.Body.String(), "user-row", "Disabled") || !hasTestIDText(rec.Body.String(), "user-row", "Re-enable") {
		t.Fatalf("htmx disable: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = aliceBrowser.get("/leads/board")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Fatalf("disabled user's session survived: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	h.expectSignIn("alice", password("alice"), http.StatusUnauthorized, "disabled user signed in")
	expectRedirect(t, admin.post(userURL(alice, "enable"), nil), "/settings/users")
	if !hasTestIDText(admin.get("/settings/users").Body.String(), "flash", "alice is enabled again") {
		t.Fatal("no flash after re-enabling")
	}
	h.expectSignIn("alice", password("alice"), http.StatusSeeOther, "re-enabled user cannot sign in")
	if h.countAudit("user.disable", db.OutcomeOK) != 1 || h.countAudit("user.enable", db.OutcomeOK) != 1 {
		t.Fatal("disable and enable not audited")
	}
}

func TestPasswordResetEndsTheUsersSessionsAndTheNewPasswordWorks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	alice := h.addUser("alice", db.RoleViewer)
	laptop, phone := h.login("alice"), h.login("alice")
	expectRedirect(t, admin.post(userURL(alice, "password"), url.Values{"password": {"reset by the admin"}}), "/settings/users")
	for _, b := range []*client{laptop, phone} {
		if rec := b.get("/leads/board"); rec.Code != http.StatusSeeOther {
			t.Fatalf("a session survived the reset: %d", rec.Code)
		}
	}
	h.expectSignIn("alice", password("alice"), http.StatusUnauthorized, "old password still works")
	h.expectSignIn("alice", "reset by the admin", http.StatusSeeOther, "new password refused")
	if h.countAudit("user.password_reset", db.OutcomeOK) != 1 {
		t.Fatal("reset not audited")
	}
}

func TestPasswordResetCanGenerateOneAndRefusesAWeakOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	alice := h.addUser("alice", db.RoleViewer)
	rec := admin.post(userURL(alice, "password"), url.Values{"password": {"tiny-pw"}})
	if rec.Code != http.StatusUnprocessableEntity || !hasTestIDText(rec.Body.String(), "user-row", "at least 10 characters") {
		t.Fatalf("weak reset password: %d", rec.Code)
	}
	if appearsInBytes(rec.Body.String(), "tiny-pw") {
		t.Fatal("the typed password was sent back")
	}
	h.expectSignIn("alice", password("alice"), http.StatusSeeOther, "a refused reset changed the password")
	expectRedirect(t, admin.post(userURL(alice, "password"), url.Values{"password": {""}}), "/settings/users")
	shown := testIDTexts(admin.get("/settings/users").Body.String(), "revealed-password")
	if len(shown) != 1 {
		t.Fatal("generated password not shown")
	}
	h.expectSignIn("alice", shown[0], http.StatusSeeOther, "generated password refused")
}

func TestAdminResettingTheirOwnPasswordStaysSignedIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, root := h.addEnglishAdmin("root")
	other := h.login("root")
	expectRedirect(t, admin.post(userURL(root, "password"), url.Values{"password": {"my own new passphrase"}}), "/settings/users")
	if rec := admin.get("/settings/users"); rec.Code != http.StatusOK {
		t.Fatalf("own session ended: %d", rec.Code)
	}
	if rec := other.get("/settings/users"); rec.Code != http.StatusSeeOther {
		t.Fatalf("other session survived: %d", rec.Code)
	}
}

func TestTheLastAdminCannotDemoteOrDisableThemself(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, root := h.addEnglishAdmin("root")
	before := snapshotUsers(t, h)
	const msg = "Nothing was changed: root is the last active administrator."
	rec := admin.post(userURL(root, "role"), url.Values{"role": {"viewer"}}, htmx())
	if rec.Code != http.StatusConflict || !hasTestIDText(rec.Body.String(), "row-error", msg) || !hasTestID(rec.Body.String(), "user-row") {
		t.Fatalf("htmx demotion: %d\n%s", rec.Code, rec.Body.String())
	}
	expectRedirect(t, admin.post(userURL(root, "disable"), nil), "/settings/users")
	page := admin.get("/settings/users")
	if page.Code != http.StatusOK || !hasTestIDText(page.Body.String(), "flash", msg) {
		t.Fatalf("refusal not shown after a plain post: %d", page.Code)
	}
	if after := snapshotUsers(t, h); after != before {
		t.Fatalf("the refused changes altered the account: %s → %s", before, after)
	}
	if h.countAudit("user.role", db.OutcomeDenied) != 1 || h.countAudit("user.disable", db.OutcomeDenied) != 1 {
		t.Fatal("refusals not audited as denied")
	}
}

// snapshotUsers renders what the last-admin guard protects.
func snapshotUsers(t *testing.T, h *harness) string {
	t.Helper()
	users, err := h.store.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%s:%s:%v:%d ", u.Username, u.Role, u.Disabled, u.SessionEpoch)
	}
	return b.String()
}

func TestAnAdminWhoDemotesThemselfLandsOnTheirOwnAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, root := h.addEnglishAdmin("root")
	h.addUser("ada", db.RoleAdmin)
	rec := admin.post(userURL(root, "role"), url.Values{"role": {"marketer"}}, htmx())
	if rec.Code != http.StatusNoContent || rec.Header().Get("HX-Redirect") != "/settings/account" {
		t.Fatalf("self-demotion over htmx: %d %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	if rec := admin.get("/settings/account"); rec.Code != http.StatusOK || !hasTestIDText(rec.Body.String(), "flash", "root is now: Marketer.") {
		t.Fatalf("account page after self-demotion: %d", rec.Code)
	}
}

func TestUserActionsOnAnUnknownAccountAre404(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	for _, path := range []string{"/settings/users/999/role", "/settings/users/999/disable", "/settings/users/abc/enable", "/settings/users/0/password"} {
		if rec := admin.post(path, url.Values{"role": {"viewer"}}); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, rec.Code)
		}
	}
}

func TestUsersPageEscapesWhatAdminsTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin, _ := h.addEnglishAdmin("root")
	expectRedirect(t, admin.post("/settings/users", url.Values{"username": {"<b>eve"}, "display_name": {"<script>alert(1)</script>"},
		"role": {"viewer"}, "password": {"a long enough password"}}), "/settings/users")
	body := admin.get("/settings/users").Body.String()
	if appearsInBytes(body, "<script>alert") || appearsInBytes(body, "<b>eve") {
		t.Fatal("typed HTML reached the page unescaped")
	}
	if !hasTestIDText(body, "user-row", "<script>alert(1)</script>") || !hasTestIDText(body, "user-row", "<b>eve") {
		t.Fatal("escaped text missing")
	}
}

var messageID = regexp.MustCompile(`^(users|audit|role)\.[a-z_.]+$`)

// untranslatedText is the first text of body that is a message id of these
// pages (an element's whole text) or a missing placeholder ("" if none).
func untranslatedText(body string) string {
	for _, n := range parseHTML(body).where("") {
		if text := nodeText(n); messageID.MatchString(text) || strings.Contains(text, "<no value>") {
			return text
		}
	}
	return ""
}

// Message ids built at run time (roles, outcomes, groups) escape the
// catalog's literal-id check; rendering both languages catches a gap.
func TestAdminPagesShowNoUntranslatedIDs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, lang := range []string{"en", "zh-CN"} {
		u := h.addUser("root-"+lang, db.RoleAdmin)
		h.store.SetUserLang(context.Background(), u.ID, lang)
		c := h.login(u.Username)
		h.signIn("ghost", "wrong password")
		for _, path := range []string{"/settings/users", "/settings/audit", "/settings/audit?action=auth&outcome=failed"} {
			body := c.get(path).Body.String()
			if m := untranslatedText(body); m != "" {
				t.Errorf("%s in %s shows an untranslated id or a missing placeholder: %s", path, lang, m)
			}
		}
	}
}
