package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/secret"
)

// dataDir is an opened data directory: the database and the keys beside it.
type dataDir struct {
	path  string
	store *db.Store
}

// openData creates the directory (0700) if needed and opens the database.
func openData(ctx context.Context, dir string) (*dataDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	// MkdirAll leaves an existing directory's mode alone; tighten ours only
	// if nobody else can reach it through group/other anyway.
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("restrict data directory %s: %w", dir, err)
		}
	}
	dbPath := filepath.Join(dir, "jingdesk.db")
	store, err := db.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	// SQLite creates the file 0644; accounts and sealed secrets are in it.
	if err := os.Chmod(dbPath, 0o600); err != nil {
		store.Close()
		return nil, fmt.Errorf("restrict %s: %w", dbPath, err)
	}
	return &dataDir{path: dir, store: store}, nil
}

// sessionKeys returns the cookie authentication (64 B) and encryption (32 B) keys.
func (d *dataDir) sessionKeys() (hash, block []byte, err error) {
	key, err := secret.LoadOrCreateKey(filepath.Join(d.path, "session.key"), 96)
	if err != nil {
		return nil, nil, err
	}
	return key[:64], key[64:], nil
}

// secretBox encrypts secrets stored in the database (platform credentials).
func (d *dataDir) secretBox() (*secret.Box, error) {
	key, err := secret.LoadOrCreateKey(filepath.Join(d.path, "secret.key"), 32)
	if err != nil {
		return nil, err
	}
	return secret.NewBox(key)
}

func (d *dataDir) Close() error { return d.store.Close() }
