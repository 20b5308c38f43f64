package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

// concretePath fills route parameters so the path can be requested.
func concretePath(p string) string {
	p = strings.ReplaceAll(p, "*", "x")
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, ":") {
			seg = "2"
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/")
}

func isUnsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// The route table is walked, so a route added later is covered without
// anyone remembering to add it here.
func TestEveryProtectedRouteSendsAnonymousToLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, r := range h.srv.Routes() {
		if r.Access == Public {
			continue
		}
		path := concretePath(r.Path)
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			c := h.anon()
			rec := c.send(r.Method, path, nil)
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
				t.Fatalf("browser: %d → %q, want 303 to /login", rec.Code, rec.Header().Get("Location"))
			}
			rec = c.send(r.Method, path, nil, htmx())
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("htmx: %d, want 401", rec.Code)
			}
		})
	}
}

func TestRolesAreEnforcedOnEveryRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	h.addUser("mia", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	clients := map[string]*client{"viewer": h.login("vic"), "marketer": h.login("mia")}
	covered := 0
	for _, r := range h.srv.Routes() {
		for role, c := range clients {
			if rank := map[string]Access{"viewer": Viewer, "marketer": Marketer}[role]; r.Access <= rank {
				continue
			}
			covered++
			t.Run(role+" "+r.Method+" "+r.Path, func(t *testing.T) {
				before := snapshot(t, h)
				rec := c.send(r.Method, concretePath(r.Path), nil)
				if rec.Code != http.StatusForbidden {
					t.Fatalf("%s got %d, want 403", role, rec.Code)
				}
				if !isUnsafe(r.Method) && !hasTestID(rec.Body.String(), "error-page") {
					t.Fatal("no 403 page rendered")
				}
				if after := snapshot(t, h); after != before {
					t.Fatalf("a refused request changed the database")
				}
			})
		}
	}
	if covered == 0 {
		t.Fatal("no role-restricted routes found")
	}
}

func TestStateChangesWithoutTheRightCSRFTokenAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	admin := h.login("root")
	for _, r := range h.srv.Routes() {
		if !isUnsafe(r.Method) || isCSRFExempt(r.Path) {
			continue
		}
		for name, opt := range map[string]reqOption{"missing": noCSRF(), "wrong": csrfTokenOpt("forged-token")} {
			t.Run(name+" "+r.Method+" "+r.Path, func(t *testing.T) {
				before := snapshot(t, h)
				rec := admin.send(r.Method, concretePath(r.Path), nil, opt)
				if rec.Code != http.StatusForbidden {
					t.Fatalf("got %d, want 403", rec.Code)
				}
				if after := snapshot(t, h); after != before {
					t.Fatal("a refused request changed the database")
				}
			})
		}
	}
	// The token from another session is as wrong as a made-up one.
	other := h.login("root")
	if rec := admin.post("/lang", nil, csrfTokenOpt(other.csrf)); rec.Code != http.StatusForbidden {
		t.Fatalf("another session's token accepted: %d", rec.Code)
	}
	// An htmx request may carry the token in the header instead.
	req := func(r *http.Request) { r.Header.Set("X-CSRF-Token", admin.csrf) }
	if rec := admin.send(http.MethodPost, "/lang", map[string][]string{"lang": {"en"}}, noCSRF(), htmx(), req); rec.Code != http.StatusSeeOther {
		t.Fatalf("header token refused: %d", rec.Code)
	}
}

// snapshot renders every row of every table, to prove a refused request wrote nothing.
func snapshot(t *testing.T, h *harness) string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+h.store.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tbl := range tables {
		// ORDER BY every column: WITHOUT ROWID tables (the full-text
		// index's shadow tables) have no rowid to order by.
		rs, err := conn.QueryContext(ctx, `SELECT * FROM "`+tbl+`" LIMIT 0`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		rs.Close()
		order := make([]string, len(cols))
		for i := range cols {
			order[i] = strconv.Itoa(i + 1)
		}
		rs, err = conn.QueryContext(ctx, `SELECT * FROM "`+tbl+`" ORDER BY `+strings.Join(order, ", "))
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			rs.Scan(ptrs...)
			fmt.Fprintf(&b, "%s %v\n", tbl, vals)
		}
		rs.Close()
	}
	return b.String()
}

func TestHealthNeedsNoSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.anon().get("/healthz")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body.String())
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	c := h.login("root")
	for _, path := range []string{"/login", "/leads", "/nope", "/healthz"} {
		rec := c.get(path)
		csp := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline or eval: %q", path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", path)
		}
	}
}

func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	c := h.login("root")
	for _, r := range h.srv.Routes() {
		if r.Method != http.MethodGet || strings.Contains(r.Path, ":") || strings.Contains(r.Path, "*") || r.Path == "/healthz" {
			continue
		}
		if bad := inlineScriptOrStyle(c.get(r.Path).Body.String()); len(bad) > 0 {
			t.Errorf("%s has inline code: %v", r.Path, bad)
		}
	}
}

func TestRenderFragmentForHtmxAndFullPageOtherwise(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	c := h.login("root")
	full := c.get("/leads/board")
	frag := c.get("/leads/board", htmx())
	boosted := c.get("/leads/board", htmx(), func(r *http.Request) { r.Header.Set("HX-Boosted", "true") })
	if !isFullPage(full.Body.String()) || !isFullPage(boosted.Body.String()) {
		t.Fatal("full page or boosted navigation lacks the layout")
	}
	if isFullPage(frag.Body.String()) || !hasTestID(frag.Body.String(), "empty-state") {
		t.Fatal("htmx fragment is not the body alone")
	}
	if !strings.Contains(frag.Header().Get("Vary"), "HX-Request") {
		t.Fatal("no Vary: HX-Request")
	}
}

func TestErrorsShowAPageOrAToastWithoutGoErrorText(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addUser("root", db.RoleAdmin)
	c := h.login("root")
	rec := c.get("/no/such/page")
	if rec.Code != http.StatusNotFound || !hasTestID(rec.Body.String(), "error-page") {
		t.Fatalf("404 page: %d", rec.Code)
	}
	rec = c.get("/no/such/page", htmx())
	if rec.Header().Get("HX-Retarget") != "#toasts" || !hasTestID(rec.Body.String(), "toast") {
		t.Fatalf("htmx error is not a toast: %q", rec.Body.String())
	}
	if appearsInBytes(rec.Body.String(), "Not Found") || appearsInBytes(rec.Body.String(), "code=") {
		t.Fatal("framework error text shown to the user")
	}
}
