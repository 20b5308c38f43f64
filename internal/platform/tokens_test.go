package platform

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// refreshWith asks pf to refresh with token, as another client would.
func refreshWith(t *testing.T, pf *sandbox.Running, appID, appSecret, token string) error {
	t.Helper()
	c, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: pf.URL, AppID: appID, AppSecret: appSecret}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Call(context.Background(), "oauth.refresh",
		map[string]string{"app_id": appID, "app_secret": appSecret, "refresh_token": token}, nil)
}

// A refresh answers a new refresh token, as the platform's public page
// shows: the console stores it (encrypted) and, after a restart, renews
// with it; the refresh token it replaced is refused.
func TestARotatedRefreshTokenIsKeptAcrossARestart(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	pf := startPlatform(t, "app-r", "secret-r")
	ctx := context.Background()
	tokens := &tokenStore{store: store, box: box, scope: pf.URL + " app-r"}
	first := open(t, store, box)
	if _, err := first.Save(ctx, SettingsInput{BaseURL: pf.URL, AppID: "app-r", AppSecret: "secret-r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := listMembers(ctx, first.Client()); err != nil {
		t.Fatal(err)
	}
	issued, err := tokens.LoadToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pf.ExpireAccessTokens()
	if _, err := listMembers(ctx, first.Client()); err != nil {
		t.Fatalf("after the access token expired: %v", err)
	}
	rotated, err := tokens.LoadToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.RefreshToken == "" || rotated.RefreshToken == issued.RefreshToken || rotated.AccessToken == issued.AccessToken {
		t.Fatalf("the stored pair after a refresh: %+v, before %+v", rotated, issued)
	}
	if len(rotated.RefreshToken) != 36 {
		t.Errorf("refresh token %q: the platform's are 36-character UUIDs", rotated.RefreshToken)
	}
	if st := pf.TokenStats(); st.Pairs != 1 || st.Refreshes != 1 {
		t.Fatalf("token stats %+v: want one pair, then one refresh", st)
	}
	first.Close()

	if err := refreshWith(t, pf, "app-r", "secret-r", issued.RefreshToken); !jing.IsKind(err, jing.KindAuth) {
		t.Fatalf("the replaced refresh token: %v, want refused (20001)", err)
	}

	second := open(t, store, box) // the console restarted
	pf.ExpireAccessTokens()
	if _, err := listMembers(ctx, second.Client()); err != nil {
		t.Fatalf("after a restart and an expiry: %v", err)
	}
	st := pf.TokenStats()
	if st.Pairs != 1 || st.Refreshes != 2 || st.RefusedRefreshes != 1 {
		t.Fatalf("token stats %+v: the restarted console should refresh with the rotated token, not ask for a new pair", st)
	}
	again, _ := tokens.LoadToken(ctx)
	if again.RefreshToken == rotated.RefreshToken {
		t.Fatal("the second refresh's new refresh token was not stored")
	}
}

// The embedded sandbox keeps the tokens it issued in its state: a console
// restart reuses its stored pair instead of asking for a new one.
func TestTheEmbeddedSandboxHonoursTheStoredTokenAfterARestart(t *testing.T) {
	t.Parallel()
	store, box := fixture.Store(t), newBox(t)
	state := filepath.Join(t.TempDir(), "sandbox.json")
	withState := func(c *Config) { c.Sandbox.StatePath = state }
	ctx := context.Background()
	first := open(t, store, box, withState)
	if _, err := listMembers(ctx, first.Client()); err != nil {
		t.Fatal(err)
	}
	if st := first.SandboxServer().TokenStats(); st.Pairs != 1 {
		t.Fatalf("first start: %+v", st)
	}
	first.Close()
	second := open(t, store, box, withState)
	if _, err := listMembers(ctx, second.Client()); err != nil {
		t.Fatal(err)
	}
	if st := second.SandboxServer().TokenStats(); st != (sandbox.TokenStats{}) {
		t.Fatalf("after a restart the embedded sandbox issued tokens again: %+v", st)
	}
}
