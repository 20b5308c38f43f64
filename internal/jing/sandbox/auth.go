package sandbox

import (
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// authState is the platform's token book.
type authState struct {
	access  map[string]time.Time // access token → expiry
	refresh map[string]time.Time // refresh token → expiry
	issued  int
}

func newAuthState() authState {
	return authState{access: map[string]time.Time{}, refresh: map[string]time.Time{}}
}

func (a *authState) check(token string, now time.Time) error {
	if token == "" {
		return apiError{jing.CodeUnauthorized, jing.SubAppTokenEmpty}
	}
	exp, ok := a.access[token]
	if !ok {
		return apiError{jing.CodeUnauthorized, jing.SubTokenInvalid}
	}
	if !now.Before(exp) {
		return apiError{jing.CodeUnauthorized, jing.SubTokenExpired}
	}
	return nil
}

// Issued counts token pairs handed out (tests read it).
func (s *Server) Issued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth.issued
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

// issueToken gives a brand-new pair, which expires every earlier refresh token.
func (s *Server) issueToken(c *call) (any, error) {
	if _, err := s.credentials(c); err != nil {
		return nil, err
	}
	s.auth.refresh = map[string]time.Time{}
	return s.newPair(c.now), nil
}

func (s *Server) refreshToken(c *call) (any, error) {
	b, err := s.credentials(c)
	if err != nil {
		return nil, err
	}
	if b.RefreshToken == "" {
		return nil, missing("refresh_token")
	}
	exp, ok := s.auth.refresh[b.RefreshToken]
	if !ok || !c.now.Before(exp) {
		return nil, apiError{jing.CodeUnauthorized, jing.SubAppTokenExpired}
	}
	// The refresh token stays valid until its own expiry; a new access token is issued.
	access := newToken(32)
	ttl := s.tokenTTL()
	s.auth.access[access] = c.now.Add(ttl)
	s.auth.issued++
	return tokenAnswer(access, b.RefreshToken, ttl), nil
}

func (s *Server) newPair(now time.Time) map[string]any {
	access, refresh := newToken(32), newToken(32)
	ttl := s.tokenTTL()
	s.auth.access[access] = now.Add(ttl)
	s.auth.refresh[refresh] = now.Add(s.cfg.RefreshTTL)
	s.auth.issued++
	return tokenAnswer(access, refresh, ttl)
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
	for tok := range s.auth.access {
		s.auth.access[tok] = now
	}
}
