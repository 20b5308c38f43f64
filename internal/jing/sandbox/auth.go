package sandbox

import (
	"crypto/rand"
	"fmt"
	"maps"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// tokenBook is the platform's record of the tokens it issued, with their
// expiries. It is kept in the ledger: a console's stored token pair keeps
// working across a sandbox restart, as it would against the platform.
type tokenBook struct {
	Access  map[string]time.Time `json:"access"`  // access token → expiry
	Refresh map[string]time.Time `json:"refresh"` // refresh token → expiry
}

// afterLoad gives a book read from JSON (or none) its maps.
func (b *tokenBook) afterLoad() {
	if b.Access == nil {
		b.Access = map[string]time.Time{}
	}
	if b.Refresh == nil {
		b.Refresh = map[string]time.Time{}
	}
}

// prune forgets expired tokens, so the book stays as small as the live set.
func (b *tokenBook) prune(now time.Time) {
	for _, m := range []map[string]time.Time{b.Access, b.Refresh} {
		maps.DeleteFunc(m, func(_ string, exp time.Time) bool { return !now.Before(exp) })
	}
}

func (b *tokenBook) check(token string, now time.Time) error {
	if token == "" {
		return apiError{jing.CodeUnauthorized, jing.SubAppTokenEmpty}
	}
	exp, ok := b.Access[token]
	if !ok {
		return apiError{jing.CodeUnauthorized, jing.SubTokenInvalid}
	}
	if !now.Before(exp) {
		return apiError{jing.CodeUnauthorized, jing.SubTokenExpired}
	}
	return nil
}

// TokenStats counts what the sandbox's OAuth endpoints did since it was built.
type TokenStats struct {
	Pairs            int // new token pairs (oauth.token)
	Refreshes        int // refreshes that rotated a refresh token (oauth.refresh)
	RefusedRefreshes int // refreshes with a refresh token that is unknown, replaced or expired
}

// TokenStats reports the token counters (tests and the sandbox's own diagnostics).
func (s *Server) TokenStats() TokenStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenStats
}

// Issued counts access tokens handed out, by either endpoint.
func (s *Server) Issued() int {
	st := s.TokenStats()
	return st.Pairs + st.Refreshes
}

func (s *Server) oauthHandlers() map[string]handler {
	return map[string]handler{
		"oauth.token":   s.issueToken,
		"oauth.refresh": s.refreshToken,
	}
}

type credentialsBody struct {
	AppID        string `json:"app_id"`
	AppSecret    string `json:"app_secret"`
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) credentials(c *call) (credentialsBody, error) {
	var b credentialsBody
	if err := c.decode(&b); err != nil {
		return b, err
	}
	if b.AppID == "" {
		return b, apiError{jing.CodeMissingParameter, "缺少appId参数"}
	}
	if b.AppID != s.cfg.AppID {
		return b, apiError{jing.CodeInvalidParameter, "无效的appId参数"}
	}
	if b.AppSecret != s.cfg.AppSecret {
		return b, apiError{jing.CodeUnauthorized, jing.SubAppTokenInvalid}
	}
	return b, nil
}

// issueToken gives a brand-new pair, which expires every earlier refresh
// token (as documented).
func (s *Server) issueToken(c *call) (any, error) {
	if _, err := s.credentials(c); err != nil {
		return nil, err
	}
	clear(s.ledger.Tokens.Refresh)
	s.tokenStats.Pairs++
	return s.newPair(c.now), nil
}

// refreshToken answers a refresh as the platform's public page shows it: a
// new access token and a NEW refresh token (with its own 30 days); the
// refresh token presented stops working at once.
func (s *Server) refreshToken(c *call) (any, error) {
	b, err := s.credentials(c)
	if err != nil {
		return nil, err
	}
	if b.RefreshToken == "" {
		return nil, missing("refresh_token")
	}
	tb := &s.ledger.Tokens
	exp, ok := tb.Refresh[b.RefreshToken]
	if !ok || !c.now.Before(exp) {
		s.tokenStats.RefusedRefreshes++
		return nil, apiError{jing.CodeUnauthorized, jing.SubAppTokenExpired}
	}
	delete(tb.Refresh, b.RefreshToken)
	s.tokenStats.Refreshes++
	return s.newPair(c.now), nil
}

// newPair records (in the ledger, at once) and returns a fresh access and
// refresh token.
func (s *Server) newPair(now time.Time) map[string]any {
	tb := &s.ledger.Tokens
	tb.prune(now)
	access, refresh := tokenUUID(), tokenUUID()
	ttl := s.tokenTTL()
	tb.Access[access] = now.Add(ttl)
	tb.Refresh[refresh] = now.Add(s.cfg.RefreshTTL)
	s.ledger.save("clients holding these tokens will obtain new ones")
	return tokenAnswer(access, refresh, ttl)
}

// tokenUUID is a token as the platform's look: a random 36-character UUID.
func tokenUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tokenTTL is the configured life, or the platform's kind: not a fixed
// number (the documentation's example shows 4511 s).
func (s *Server) tokenTTL() time.Duration {
	if s.cfg.TokenTTL > 0 {
		return s.cfg.TokenTTL
	}
	return time.Duration(4400+s.faultRN.IntN(200)) * time.Second
}

func tokenAnswer(access, refresh string, ttl time.Duration) map[string]any {
	return map[string]any{"access_token": access, "refresh_token": refresh, "scope": "all",
		"token_type": "bearer", "expires_in": int64(ttl / time.Second)}
}

// ExpireAccessTokens makes every issued access token expire now, as when a
// token's life ends mid-run (tests and demonstrations).
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	for tok := range s.ledger.Tokens.Access {
		s.ledger.Tokens.Access[tok] = now
	}
	s.ledger.save("the expired tokens work again after a restart")
}
