package db

import (
	"context"
	"fmt"
)

// Setting reads one setting; a missing key yields ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	if err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v); err != nil {
		return "", notFound(err, "setting "+key)
	}
	return v, nil
}

// SetSetting writes one setting, replacing any previous value.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings(key, value, updated_at) VALUES(?,?,?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, s.unixNow())
	if err != nil {
		return fmt.Errorf("db: set setting %s: %w", key, err)
	}
	return nil
}
