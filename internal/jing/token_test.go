package jing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// A refresh rotates the refresh token: the client stores the new one with
// its own 30 days, renews with it next time, and the old one is refused.
func TestARefreshStoresTheRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	first := r.tokens.tok
	r.clock.Jump(10 * 24 * time.Hour) // the access token is long dead, the refresh token is not
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	second := r.tokens.tok
	if second.RefreshToken == first.RefreshToken || r.tokens.saves != 2 {
		t.Fatalf("after a refresh: %d saves, refresh token changed %v", r.tokens.saves, second.RefreshToken != first.RefreshToken)
	}
	if d := second.RefreshExpiresAt.Sub(first.RefreshExpiresAt); d < 9*24*time.Hour {
		t.Fatalf("the rotated refresh token's expiry moved by %v, want its own 30 days", d)
	}
	if n := r.calls.count("/v1/oauth2/token"); n != 1 {
		t.Fatalf("%d new pairs: the refresh failed", n)
	}
	err := r.client.Call(ctx, "oauth.refresh", map[string]string{"app_id": "sandbox", "app_secret": "sandbox",
		"refresh_token": first.RefreshToken}, nil)
	if !jing.IsKind(err, jing.KindAuth) {
		t.Fatalf("the replaced refresh token: %v, want refused", err)
	}

	// The console restarts: a new client on the same store renews with the rotated token.
	restarted, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: r.baseURL, AppID: "sandbox", AppSecret: "sandbox"},
		Now: r.clock.Now, Tokens: r.tokens})
	if err != nil {
		t.Fatal(err)
	}
	r.sb.ExpireAccessTokens()
	if _, err := listMembers(ctx, restarted); err != nil {
		t.Fatal(err)
	}
	if st := r.sb.TokenStats(); st.Pairs != 1 || st.Refreshes != 2 || st.RefusedRefreshes != 1 {
		t.Fatalf("token stats %+v: want one pair and two refreshes", st)
	}
}

// A refresh answer without refresh_token keeps the token in use rather
// than losing it.
func TestARefreshAnswerWithoutARefreshTokenKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/oauth2/token":
			w.Write([]byte(`{"code":0,"msg":"success","data":{"access_token":"a1","refresh_token":"r1","expires_in":4500}}`))
		case "/v1/oauth2/token/refresh":
			w.Write([]byte(`{"code":0,"msg":"success","data":{"access_token":"a2","expires_in":4500}}`))
		default:
			w.Write([]byte(`{"code":0,"msg":"success","data":{"items":[],"_meta":{"totalCount":0,"pageCount":0,"currentPage":1,"perPage":5}}}`))
		}
	}))
	defer srv.Close()
	clock := &testkit.OffsetClock{}
	tokens := &memTokens{}
	c, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: srv.URL, AppID: "x", AppSecret: "y"}, Now: clock.Now, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := listMembers(ctx, c); err != nil {
		t.Fatal(err)
	}
	clock.Jump(2 * time.Hour)
	if _, err := listMembers(ctx, c); err != nil {
		t.Fatal(err)
	}
	if tokens.tok.AccessToken != "a2" || tokens.tok.RefreshToken != "r1" {
		t.Fatalf("stored %+v, want a2 with r1 kept", tokens.tok)
	}
}
