package testkit

import "testing"

// The token is the head's meta; one written in the body (text a user
// typed, say) is not taken for it.
func TestCSRFTokenReadsTheHeadsMetaOnly(t *testing.T) {
	t.Parallel()
	page := `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="csrf-token" content="tok-1"></head><body></body></html>`
	if tok, ok := CSRFToken(page); !ok || tok != "tok-1" {
		t.Fatalf("token %q, %v", tok, ok)
	}
	if tok, ok := CSRFToken(`<html><head></head><body><meta name="csrf-token" content="typed"></body></html>`); ok {
		t.Fatalf("a meta in the body taken for the token: %q", tok)
	}
	if _, ok := CSRFToken(`a,b` + "\n1,2"); ok {
		t.Fatal("a CSV has a token")
	}
}

func TestTestIDTextIsTheElementsTextNotTheBytes(t *testing.T) {
	t.Parallel()
	page := `<html><body><p>data-testid="x">fake</p><div data-testid="x"> 沙箱 <b>平台</b> </div></body></html>`
	if text, ok := TestIDText(page, "x"); !ok || text != "沙箱 平台" {
		t.Fatalf("text %q, %v", text, ok)
	}
	if _, ok := TestIDText(page, "y"); ok {
		t.Fatal("an element found that is not there")
	}
}
