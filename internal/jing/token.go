package jing

import (
	"context"
	"sync"
	"time"
)

// RefreshTokenLifetime is the documented life of a refresh token.
const RefreshTokenLifetime = 30 * 24 * time.Hour

// Token is the pair the platform issues, with the moments it stops working.
type Token struct {
	AccessToken      string
	RefreshToken     string
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
}

// TokenStore keeps the token pair across restarts (the caller encrypts it).
type TokenStore interface {
	LoadToken(ctx context.Context) (Token, error) // a zero Token when none is stored
	SaveToken(ctx context.Context, t Token) error
}

// tokenManager serialises renewals: however many callers find the token
// stale at once, one renewal is in flight and the others wait for it.
type tokenManager struct {
	store TokenStore

	mu       sync.Mutex
	loaded   bool
	current  Token
	renewing chan struct{} // closed when the renewal in flight ends
	lastErr  error
	renewals int
}

// tokenData is the data of the OAuth answers.
type tokenData struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// Renewals counts token renewals since start (tests and the Platform page read it).
func (c *Client) Renewals() int {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.renewals
}

// accessToken returns a token that is valid for a while yet, renewing if needed.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	tm := &c.tokens
	tm.mu.Lock()
	if !tm.loaded && tm.store != nil {
		if t, err := tm.store.LoadToken(ctx); err == nil {
			tm.current = t
		} else {
			c.log.Warn("load stored platform token", "error", err)
		}
		tm.loaded = true
	}
	t := tm.current
	tm.mu.Unlock()
	if t.AccessToken != "" && c.cfg.Now().Add(c.cfg.RenewBefore).Before(t.ExpiresAt) {
		return t.AccessToken, nil
	}
	return c.renewToken(ctx, t.AccessToken)
}

// renewToken replaces the token the caller found stale. If another caller
// already replaced it, the new one is returned without another renewal.
func (c *Client) renewToken(ctx context.Context, stale string) (string, error) {
	tm := &c.tokens
	for {
		tm.mu.Lock()
		if tm.current.AccessToken != "" && tm.current.AccessToken != stale &&
			c.cfg.Now().Before(tm.current.ExpiresAt) {
			tok := tm.current.AccessToken
			tm.mu.Unlock()
			return tok, nil
		}
		if wait := tm.renewing; wait != nil {
			tm.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			tm.mu.Lock()
			err := tm.lastErr
			tm.mu.Unlock()
			if err != nil {
				return "", err
			}
			continue
		}
		done := make(chan struct{})
		tm.renewing = done
		previous := tm.current
		tm.mu.Unlock()

		// The renewal serves every waiter: it must not die with the first caller.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel() // after the save below, which needs rctx alive
		fresh, err := c.obtainToken(rctx, previous)

		tm.mu.Lock()
		tm.lastErr = err
		if err == nil {
			tm.current = fresh
			tm.renewals++
		}
		tm.renewing = nil
		close(done)
		tm.mu.Unlock()
		if err != nil {
			return "", err
		}
		if tm.store != nil {
			if err := tm.store.SaveToken(rctx, fresh); err != nil {
				c.log.Warn("store platform token", "error", err)
			}
		}
		return fresh.AccessToken, nil
	}
}

// obtainToken refreshes while the refresh token lives, else asks for a new pair.
func (c *Client) obtainToken(ctx context.Context, previous Token) (Token, error) {
	now := c.cfg.Now()
	// A deployment whose platform lacks the refresh call disables it in
	// catalog.json: every renewal is then a new pair.
	refresh, _ := c.cfg.Catalog.Get("oauth.refresh")
	if previous.RefreshToken != "" && now.Before(previous.RefreshExpiresAt) && !refresh.Disabled {
		t, err := c.oauth(ctx, "oauth.refresh", map[string]string{
			"app_id": c.cfg.AppID, "app_secret": c.cfg.AppSecret, "refresh_token": previous.RefreshToken})
		if err == nil {
			// The platform answers a new refresh token with a life of its
			// own, and the one presented stops working: the caller stores
			// the new pair. A refresh token answered again, or not at all,
			// keeps the life it had.
			switch t.RefreshToken {
			case "":
				c.log.Warn("the refresh answer carries no refresh_token; keeping the one in use", "endpoint", "oauth.refresh")
				t.RefreshToken, t.RefreshExpiresAt = previous.RefreshToken, previous.RefreshExpiresAt
			case previous.RefreshToken:
				t.RefreshExpiresAt = previous.RefreshExpiresAt
			}
			return t, nil
		}
		if !IsKind(err, KindAuth) && !IsKind(err, KindPermission) {
			return Token{}, err
		}
		c.log.Info("refresh token refused; requesting a new token pair", "error", err)
	}
	return c.oauth(ctx, "oauth.token", map[string]string{"app_id": c.cfg.AppID, "app_secret": c.cfg.AppSecret})
}

func (c *Client) oauth(ctx context.Context, key string, body map[string]string) (Token, error) {
	var d tokenData
	if err := c.Call(ctx, key, body, &d); err != nil {
		return Token{}, err
	}
	if d.ExpiresIn <= 0 { // the shape asks for it; a negative life is no token either
		return Token{}, &Error{Endpoint: key, Kind: KindUnrecognised, Problem: ProblemEmpty, Field: "expires_in"}
	}
	now := c.cfg.Now()
	return Token{
		AccessToken:      d.AccessToken,
		RefreshToken:     d.RefreshToken,
		ExpiresAt:        now.Add(time.Duration(d.ExpiresIn) * time.Second),
		RefreshExpiresAt: now.Add(RefreshTokenLifetime),
	}, nil
}

// TestConnection obtains a fresh token: the cheapest proof that the base
// URL and credentials work.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.renewToken(ctx, c.currentToken())
	return err
}

func (c *Client) currentToken() string {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.current.AccessToken
}
