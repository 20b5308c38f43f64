// Package backup makes and restores backups of a jingdesk data directory:
// a consistent copy of the live database (SQLite's VACUUM INTO, which
// needs no pause of the server) with secret.key and the state files beside
// it, in one .tar.gz with a manifest of checksums, optionally encrypted
// with a passphrase (age, scrypt). session.key is left out unless asked
// for: with it, a backup would let whoever holds it mint a signed-in
// cookie. A restore checks everything (the passphrase first) before it
// replaces anything, and keeps what it replaces.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// DBFile is the database's name in a data directory and in a backup.
const DBFile = "jingdesk.db"

// keyFile is a file kept beside the database, with the size a key must
// have (0: any size; optional files may be missing).
type keyFile struct {
	name     string
	size     int64
	required bool
}

var keyFiles = []keyFile{
	{SessionKeyFile, 96, false}, // only with Options.WithSessionKey
	{"secret.key", 32, true},
	{"sandbox.json", 0, false},
	{"sandbox.ledger.json", 0, false}, // the sandbox's ids handed out and tokens issued
	{"catalog.json", 0, false},
}

// SessionKeyFile signs the session cookies.
const SessionKeyFile = "session.key"

// Options are the choices of one backup.
type Options struct {
	// Passphrase, when set, encrypts the archive (age, scrypt).
	Passphrase string
	// WithSessionKey puts session.key in the backup, so a restore keeps
	// everyone signed in; without it (the default) a restore signs
	// everyone out, and the backup cannot mint a session cookie.
	WithSessionKey bool
}

// MinPassphrase is the shortest passphrase accepted, in characters.
const MinPassphrase = 10

// ErrPassphraseShort, ErrPassphraseNeeded and ErrPassphraseWrong are a
// passphrase's problems.
var (
	ErrPassphraseShort  = fmt.Errorf("backup: the passphrase needs at least %d characters", MinPassphrase)
	ErrPassphraseNeeded = errors.New("backup: the backup is encrypted: give its passphrase")
	ErrPassphraseWrong  = errors.New("backup: wrong passphrase (nothing was changed)")
)

const manifestName = "manifest.json"

// Manifest describes a backup.
type Manifest struct {
	Format    int               `json:"format"`
	Version   string            `json:"version"` // the jingdesk that made it
	Schema    int               `json:"schema"`  // the database's schema version
	CreatedAt time.Time         `json:"created_at"`
	Files     map[string]string `json:"files"` // name → sha256
}

// Dir is where a data directory's own backups go.
func Dir(dataDir string) string { return filepath.Join(dataDir, "backups") }

// CreateFile writes a backup of dataDir to path, mode 0600 (atomically: a
// partial file never has the final name). The server may be running.
func CreateFile(ctx context.Context, dataDir, version, path string, opts Options) (Manifest, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Manifest{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return Manifest{}, err
	}
	defer os.Remove(tmp.Name())
	m, err := Create(ctx, dataDir, version, tmp, opts)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return m, err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return m, err
	}
	return m, os.Rename(tmp.Name(), path)
}

// Create writes a backup of dataDir to w.
func Create(ctx context.Context, dataDir, version string, w io.Writer, opts Options) (Manifest, error) {
	if opts.Passphrase != "" && len([]rune(opts.Passphrase)) < MinPassphrase {
		return Manifest{}, ErrPassphraseShort
	}
	dbPath := filepath.Join(dataDir, DBFile)
	if _, err := os.Stat(dbPath); err != nil {
		return Manifest{}, fmt.Errorf("backup: no database in %s: %w", dataDir, err)
	}
	snap, err := os.MkdirTemp(dataDir, ".snapshot-")
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(snap)
	copyPath := filepath.Join(snap, DBFile)
	if err := snapshot(ctx, dbPath, copyPath); err != nil {
		return Manifest{}, err
	}
	schema, err := SchemaOf(ctx, copyPath)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Format: 1, Version: version, Schema: schema, CreatedAt: time.Now().UTC(), Files: map[string]string{}}
	files := []string{copyPath}
	for _, k := range keyFiles {
		if k.name == SessionKeyFile && !opts.WithSessionKey {
			continue
		}
		p := filepath.Join(dataDir, k.name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		} else if k.required {
			return Manifest{}, fmt.Errorf("backup: %s is missing from %s", k.name, dataDir)
		}
	}
	out := io.WriteCloser(nopCloser{w})
	if opts.Passphrase != "" {
		r, err := age.NewScryptRecipient(opts.Passphrase)
		if err != nil {
			return Manifest{}, err
		}
		if out, err = age.Encrypt(w, r); err != nil {
			return Manifest{}, err
		}
	}
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	for _, p := range files {
		sum, err := addFile(tw, p)
		if err != nil {
			return Manifest{}, err
		}
		m.Files[filepath.Base(p)] = sum
	}
	man, _ := json.MarshalIndent(m, "", "  ")
	if err := addBytes(tw, manifestName, man); err != nil {
		return Manifest{}, err
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, err
	}
	if err := gz.Close(); err != nil {
		return Manifest{}, err
	}
	return m, out.Close() // writes the encryption's last block
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// snapshot copies the live database consistently: VACUUM INTO reads one
// snapshot of it (WAL included) through a read-only connection, without
// migrating it or stopping its writers.
func snapshot(ctx context.Context, dbPath, out string) error {
	conn, err := openRaw(dbPath, true)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		return fmt.Errorf("backup: copy the database: %w", err)
	}
	return nil
}

func openRaw(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		q.Set("mode", "ro")
	}
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// SchemaOf reads a database file's schema version (0 for a new one).
func SchemaOf(ctx context.Context, path string) (int, error) {
	conn, err := openRaw(path, true)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var v int
	err = conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, nil
	}
	return v, err
}

func addFile(tw *tar.Writer, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(path), Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tw, h), f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

// --- restoring ---

// Errors of a restore.
var (
	ErrInUse    = errors.New("backup: jingdesk is running on this data directory: stop it first")
	ErrNewer    = errors.New("backup: the backup was made by a newer jingdesk")
	ErrDamaged  = errors.New("backup: the backup is damaged")
	ErrNotFound = errors.New("backup: not a jingdesk backup")
)

// Restore puts the backup at archive into dataDir, which no server may be
// using. Everything is checked first (the passphrase of an encrypted
// backup, checksums, key sizes, the database's integrity and schema
// version against knownSchema, the newest this binary knows); what the
// directory held is then moved to a "pre-restore-<time>" folder inside
// it, never deleted. A backup without session.key signs everyone out:
// its sessions are deleted and a new key is made at the next start
// (SignsEveryoneOut reports it).
func Restore(ctx context.Context, archive, dataDir string, knownSchema int, passphrase string) (Manifest, error) {
	if pid, inUse := InUse(dataDir); inUse {
		return Manifest{}, fmt.Errorf("%w (process %d)", ErrInUse, pid)
	}
	// The passphrase first: a wrong one changes nothing, not even a folder.
	f, err := open(archive, passphrase)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return Manifest{}, err
	}
	stage, err := os.MkdirTemp(dataDir, ".restore-")
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(stage)
	m, err := extract(f, stage)
	if err != nil {
		return m, err
	}
	if err := check(ctx, stage, m, knownSchema); err != nil {
		return m, err
	}
	if m.SignsEveryoneOut() {
		if err := endSessions(ctx, filepath.Join(stage, DBFile)); err != nil {
			return m, err
		}
	}
	if err := setAside(dataDir, stage, m); err != nil {
		return m, err
	}
	for name := range m.Files {
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(dataDir, name)); err != nil {
			return m, fmt.Errorf("backup: put %s in place: %w", name, err)
		}
	}
	return m, nil
}

// SignsEveryoneOut reports whether restoring the backup ends every
// session: it holds no session.key.
func (m Manifest) SignsEveryoneOut() bool { return m.Files[SessionKeyFile] == "" }

// endSessions deletes the staged database's sessions (a database from
// before server-side sessions has none to delete).
func endSessions(ctx context.Context, dbPath string) error {
	conn, err := openRaw(dbPath, false)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `DELETE FROM sessions`); err != nil && !strings.Contains(err.Error(), "no such table") {
		return fmt.Errorf("backup: end the restored sessions: %w", err)
	}
	return nil
}

// Encrypted reports whether the file at path is an encrypted backup.
func Encrypted(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(ageMagic))
	n, _ := io.ReadFull(f, head)
	return string(head[:n]) == ageMagic, nil
}

const ageMagic = "age-encryption.org/v1"

// open reads an archive, decrypting it when it is encrypted: a wrong or
// missing passphrase fails here, before anything is unpacked.
func open(archive, passphrase string) (io.ReadCloser, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	enc, err := Encrypted(archive)
	if err != nil || !enc {
		return f, err
	}
	if passphrase == "" {
		f.Close()
		return nil, ErrPassphraseNeeded
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := age.Decrypt(f, id)
	if err != nil {
		f.Close()
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) || errors.Is(err, age.ErrIncorrectIdentity) {
			return nil, ErrPassphraseWrong
		}
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

// extract unpacks the archive's known files into dir and reads the manifest.
func extract(f io.Reader, dir string) (Manifest, error) {
	gz, err := gzip.NewReader(f)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	tr := tar.NewReader(gz)
	var m Manifest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		name := h.Name
		if name == manifestName {
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
				return m, fmt.Errorf("%w: manifest: %v", ErrDamaged, err)
			}
			continue
		}
		if !known(name) {
			return m, fmt.Errorf("%w: unexpected file %q", ErrDamaged, name)
		}
		out, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return m, err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return m, fmt.Errorf("%w: %s: %v", ErrDamaged, name, err)
		}
	}
	if m.Format == 0 || m.Files[DBFile] == "" {
		return m, fmt.Errorf("%w: no manifest or no database", ErrNotFound)
	}
	return m, nil
}

func known(name string) bool {
	if name == DBFile {
		return true
	}
	return slices.ContainsFunc(keyFiles, func(k keyFile) bool { return k.name == name })
}

// check verifies the staged files against the manifest and the database
// itself.
func check(ctx context.Context, dir string, m Manifest, knownSchema int) error {
	for name, want := range m.Files {
		got, err := fileSum(filepath.Join(dir, name))
		if err != nil || got != want {
			return fmt.Errorf("%w: %s does not match its checksum", ErrDamaged, name)
		}
	}
	for _, k := range keyFiles {
		st, err := os.Stat(filepath.Join(dir, k.name))
		switch {
		case err != nil && k.required:
			return fmt.Errorf("%w: %s is missing", ErrDamaged, k.name)
		case err == nil && k.size > 0 && st.Size() != k.size:
			return fmt.Errorf("%w: %s has %d bytes, not %d", ErrDamaged, k.name, st.Size(), k.size)
		}
	}
	dbPath := filepath.Join(dir, DBFile)
	schema, err := SchemaOf(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("%w: the database cannot be read: %v", ErrDamaged, err)
	}
	if schema > knownSchema {
		return fmt.Errorf("%w (schema %d; this one knows up to %d): upgrade jingdesk first", ErrNewer, schema, knownSchema)
	}
	conn, err := openRaw(dbPath, true)
	if err != nil {
		return err
	}
	defer conn.Close()
	var ok string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		return fmt.Errorf("%w: the database fails its integrity check (%s)", ErrDamaged, ok)
	}
	return nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// setAside moves the files a restore replaces (and the database's WAL
// and shared-memory files) into a pre-restore folder.
func setAside(dataDir, stage string, m Manifest) error {
	aside := filepath.Join(dataDir, "pre-restore-"+time.Now().UTC().Format("20060102-150405"))
	names := []string{DBFile + "-wal", DBFile + "-shm"}
	for name := range m.Files {
		names = append(names, name)
	}
	for _, k := range keyFiles {
		names = append(names, k.name) // also those the backup does not have
	}
	for _, name := range names {
		src := filepath.Join(dataDir, name)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := os.MkdirAll(aside, 0o700); err != nil {
			return err
		}
		if err := os.Rename(src, filepath.Join(aside, name)); err != nil {
			return fmt.Errorf("backup: set %s aside: %w", name, err)
		}
	}
	return nil
}
