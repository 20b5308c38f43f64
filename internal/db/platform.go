package db

import (
	"context"
	"fmt"
)

// PlatformToken is the stored token pair. The two tokens arrive sealed:
// this package never sees them in clear.
type PlatformToken struct {
	Scope            string // which platform and app_id the pair belongs to
	AccessToken      string // sealed
	RefreshToken     string // sealed
	ExpiresAt        int64  // Unix seconds
	RefreshExpiresAt int64  // Unix seconds
	UpdatedAt        int64
}

// PlatformToken returns the stored pair, or ErrNotFound.
func (s *Store) PlatformToken(ctx context.Context) (PlatformToken, error) {
	var t PlatformToken
	err := s.read.QueryRowContext(ctx, `SELECT scope, access_token, refresh_token, expires_at, refresh_expires_at, updated_at
		FROM platform_token WHERE id = 1`).Scan(&t.Scope, &t.AccessToken, &t.RefreshToken, &t.ExpiresAt, &t.RefreshExpiresAt, &t.UpdatedAt)
	if err != nil {
		return PlatformToken{}, notFound(err, "platform token")
	}
	return t, nil
}

// SavePlatformToken replaces the stored pair.
func (s *Store) SavePlatformToken(ctx context.Context, t PlatformToken) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO platform_token(id, scope, access_token, refresh_token, expires_at, refresh_expires_at, updated_at)
		VALUES(1,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, access_token = excluded.access_token,
			refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
			refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at`,
		t.Scope, t.AccessToken, t.RefreshToken, t.ExpiresAt, t.RefreshExpiresAt, s.unixNow())
	if err != nil {
		return fmt.Errorf("db: save platform token: %w", err)
	}
	return nil
}

// DeletePlatformToken forgets the stored pair (when the credentials change).
func (s *Store) DeletePlatformToken(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM platform_token`); err != nil {
		return fmt.Errorf("db: delete platform token: %w", err)
	}
	return nil
}

// CountPlatformCall adds one call to endpoint's count for day and returns
// the new count. One statement, so concurrent callers never lose a count.
func (s *Store) CountPlatformCall(ctx context.Context, day, endpoint string) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx, `INSERT INTO platform_usage(day, endpoint, calls) VALUES(?,?,1)
		ON CONFLICT(day, endpoint) DO UPDATE SET calls = calls + 1
		RETURNING calls`, day, endpoint).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count platform call %s: %w", endpoint, err)
	}
	return n, nil
}

// PlatformCallsOn returns each endpoint's calls on day.
func (s *Store) PlatformCallsOn(ctx context.Context, day string) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT endpoint, calls FROM platform_usage WHERE day = ?`, day)
	if err != nil {
		return nil, fmt.Errorf("db: platform calls on %s: %w", day, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var ep string
		var n int
		if err := rows.Scan(&ep, &n); err != nil {
			return nil, fmt.Errorf("db: platform calls on %s: %w", day, err)
		}
		out[ep] = n
	}
	return out, rows.Err()
}

// PrunePlatformUsage drops the counts of days before day ("2006-01-02"
// sorts as text): only today's count matters to the quota.
func (s *Store) PrunePlatformUsage(ctx context.Context, before string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM platform_usage WHERE day < ?`, before); err != nil {
		return fmt.Errorf("db: prune platform usage: %w", err)
	}
	return nil
}

// DeleteSetting removes one setting; a missing key is not an error.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return fmt.Errorf("db: delete setting %s: %w", key, err)
	}
	return nil
}
