package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/sync/singleflight"

	"github.com/jingdesk/jingdesk/internal/refdata"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The board's body costs milliseconds to draw (a hundred cards, each with
// its "Move to…" menu), while what it shows changes only when the copy or
// the reference data does. So the body is kept, rendered once per
// (data, language, role, filter), and the layout — the user, flashes,
// the page's CSRF token — is still drawn per request around it.

const (
	// boardCacheTTL bounds how stale "time in stage" ages may get.
	boardCacheTTL = 20 * time.Second
	// boardCacheMax bounds the entries, boardCacheBytes their size: a
	// board at 100,000 leads is about 290 KB, so 64 of them held 18 MB
	// for good after a burst of filters (issue 18's idle RSS).
	boardCacheMax   = 64
	boardCacheBytes = 6 << 20
)

// boardKey is everything the board's body depends on besides the time.
type boardKey struct {
	version  int64             // db.Store.LeadsVersion when drawn
	resolver *refdata.Resolver // a refresh builds a new one
	lang     string            // names and numbers are translated
	canMove  bool              // viewers get no move controls
	filter   leadsview.Filter  // normalized by boardFilter
}

// boardEntry is a drawn body cut at the CSRF placeholder: the session's
// token goes between the parts.
type boardEntry struct {
	parts [][]byte
	size  int
	at    time.Time
}

type boardCache struct {
	mu      sync.Mutex
	entries map[boardKey]boardEntry
	order   []boardKey // oldest first, for eviction
	size    int        // bytes held
	// sweep empties the cache once its entries have expired, so an idle
	// console holds none of them (nil while none is scheduled).
	sweep *time.Timer
	clock func() time.Time // the server's, for the sweep
	// placeholder stands for the CSRF token in a cached body. It is random
	// per process and never sent, so no user data can contain it.
	placeholder string
	// flight draws a missing body once however many requests ask for it
	// together (after a write, or when an entry expires under load).
	flight singleflight.Group
}

func newBoardCache(clock func() time.Time) *boardCache {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return &boardCache{entries: map[boardKey]boardEntry{}, placeholder: "csrf-placeholder-" + hex.EncodeToString(b), clock: clock}
}

// get is the body for k when drawn less than the TTL before now.
func (bc *boardCache) get(k boardKey, now time.Time) ([][]byte, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	e, ok := bc.entries[k]
	if !ok || now.Sub(e.at) >= boardCacheTTL || now.Before(e.at) {
		return nil, false
	}
	return e.parts, true
}

// put keeps a body, dropping expired entries and then the oldest ones
// beyond the bounds.
func (bc *boardCache) put(k boardKey, parts [][]byte, now time.Time) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	kept := bc.order[:0]
	for _, o := range bc.order {
		if o == k || now.Sub(bc.entries[o].at) >= boardCacheTTL {
			bc.drop(o)
			continue
		}
		kept = append(kept, o)
	}
	e := boardEntry{parts: parts, at: now}
	for _, p := range parts {
		e.size += len(p)
	}
	bc.entries[k] = e
	bc.size += e.size
	kept = append(kept, k)
	for len(kept) > boardCacheMax || bc.size > boardCacheBytes && len(kept) > 1 {
		bc.drop(kept[0])
		kept = kept[1:]
	}
	bc.order = kept
	if bc.sweep == nil {
		bc.sweep = time.AfterFunc(boardCacheTTL, bc.sweepExpired)
	}
}

// drop forgets k's entry (its key stays in order: the caller's to cut).
func (bc *boardCache) drop(k boardKey) {
	bc.size -= bc.entries[k].size
	delete(bc.entries, k)
}

// sweepExpired drops what expired meanwhile, and comes back while
// anything is left.
func (bc *boardCache) sweepExpired() {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	now := bc.clock()
	kept := bc.order[:0]
	for _, o := range bc.order {
		if now.Sub(bc.entries[o].at) >= boardCacheTTL || now.Before(bc.entries[o].at) {
			bc.drop(o)
			continue
		}
		kept = append(kept, o)
	}
	bc.order = kept
	bc.sweep = nil
	if len(kept) > 0 {
		bc.sweep = time.AfterFunc(boardCacheTTL, bc.sweepExpired)
	}
}

// draw runs render once for concurrent misses of k, and keeps its body
// cut at the placeholder.
func (bc *boardCache) draw(k boardKey, now time.Time, render func() ([]byte, error)) ([][]byte, error) {
	v, err, _ := bc.flight.Do(k.String(), func() (any, error) {
		body, err := render()
		if err != nil {
			return nil, err
		}
		parts := bytes.Split(body, []byte(bc.placeholder))
		bc.put(k, parts, now)
		return parts, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([][]byte), nil
}

// String identifies k for the single flight (the resolver by address:
// the flight only spans the drawing, while the resolver is referenced).
// The filter prints with %#v, so every field it has or gains is part of
// the key: two filters must never share one drawing.
func (k boardKey) String() string {
	return fmt.Sprintf("%d|%p|%s|%t|%#v", k.version, k.resolver, k.lang, k.canMove, k.filter)
}

// cachedBody writes a cached body with token in place of the placeholder,
// without drawing it again.
func cachedBody(parts [][]byte, token string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for i, p := range parts {
			if i > 0 {
				if _, err := io.WriteString(w, token); err != nil {
					return err
				}
			}
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
}
