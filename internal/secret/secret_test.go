package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestKeyIsCreatedOnceWithPrivateMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k")
	a, err := LoadOrCreateKey(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKey(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("second load returned a different key")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := LoadOrCreateKey(path, 64); err == nil {
		t.Fatal("a key of the wrong size was accepted")
	}
}

func TestBoxRoundTripAndTamper(t *testing.T) {
	t.Parallel()
	key, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "k"), 32)
	box, _ := NewBox(key)
	sealed, err := box.Seal("app-secret-值")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(sealed), []byte("app-secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := box.Open(sealed)
	if err != nil || got != "app-secret-值" {
		t.Fatalf("open = %q, %v", got, err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	if _, err := box.Open(string(tampered)); err != ErrUndecryptable {
		t.Fatalf("tampered value opened: %v", err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{7}, 32))
	if _, err := other.Open(sealed); err != ErrUndecryptable {
		t.Fatal("value opened with another key")
	}
}
