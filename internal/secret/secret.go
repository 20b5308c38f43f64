// Package secret keeps jingdesk's keys in the data directory and encrypts
// secrets (such as the platform's app_secret) before they reach SQLite.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
)

// LoadOrCreateKey returns the key stored at path, creating it with size
// random bytes (mode 0600) on first use. A key of the wrong size is an error,
// never silently replaced: replacing it would lose every secret it protects.
func LoadOrCreateKey(path string, size int) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != size {
			return nil, fmt.Errorf("secret: key file %s holds %d bytes, want %d; restore it from a backup", path, len(key), size)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret: read key: %w", err)
	}
	key = make([]byte, size)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// O_EXCL: if another process created it meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path, size)
	}
	if err != nil {
		return nil, fmt.Errorf("secret: create key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret: write key: %w", err)
	}
	return key, f.Close()
}

// Box seals and opens short secrets with AES-256-GCM.
type Box struct{ aead cipher.AEAD }

// NewBox builds a Box from a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext into a printable string (nonce + ciphertext, base64).
func (b *Box) Seal(plaintext string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return base64.RawStdEncoding.EncodeToString(sealed), nil
}

// ErrUndecryptable means a sealed value was tampered with or sealed with another key.
var ErrUndecryptable = errors.New("secret: value cannot be decrypted with this data directory's key")

// Open reverses Seal.
func (b *Box) Open(sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrUndecryptable
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrUndecryptable
	}
	return string(plain), nil
}

// Token returns n random bytes as URL-safe text, for setup links and CSRF tokens.
func Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("secret: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
