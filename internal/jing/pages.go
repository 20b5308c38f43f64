package jing

import (
	"context"
	"iter"
)

// DefaultPerPage is the page size list iterations ask for.
const DefaultPerPage = 100

// DefaultMaxPages bounds a walk through a list (a million items at 100 a
// page): a platform whose pages never end fails loudly instead of looping.
const DefaultMaxPages = 10000

// PageInfo is what paging needs to know of one page.
type PageInfo struct {
	Items  int  // items on the page
	Meta   Meta // the page's _meta; Meta.Known is false without one
	digest uint64
}

// Paging decides, page after page, whether a list goes on. With a _meta
// that gives the page count, it stops at the last page (or an empty one).
// Without, it asks for the next page until one is empty or shorter than
// the fullest page seen so far: a short first page costs one more call,
// which a platform that serves fewer items than asked for needs. A page
// identical to the one before (a platform ignoring the page asked for)
// and a walk beyond the client's MaxPages are errors, so a copy is never
// taken as complete when it is not. Build one per walk with NewPaging.
type Paging struct {
	c       *Client
	key     string
	fullest int
	last    uint64
}

// NewPaging starts a walk through list endpoint key.
func (c *Client) NewPaging(key string) *Paging { return &Paging{c: c, key: key} }

// More reports whether there is a page after page (1-based), given what
// page held; an error says the walk cannot be trusted to end.
func (p *Paging) More(page int, info PageInfo) (bool, error) {
	if info.Items > 0 && info.digest != 0 && info.digest == p.last {
		return false, &Error{Endpoint: p.key, Kind: KindUnrecognised, Problem: ProblemSamePage, Field: "page"}
	}
	p.last = info.digest
	more := false
	switch {
	case info.Items == 0:
	case info.Meta.Known():
		more = page < info.Meta.PageCount
	default:
		p.c.noteMetaMissing(p.key)
		more = info.Items >= p.fullest
		p.fullest = max(p.fullest, info.Items)
	}
	if more && page >= p.c.cfg.MaxPages {
		return false, &Error{Endpoint: p.key, Kind: KindUnrecognised, Problem: ProblemManyPages, Field: "_meta"}
	}
	return more, nil
}

// noteMetaMissing logs, once per endpoint, that a list answers without _meta.
func (c *Client) noteMetaMissing(key string) {
	if _, seen := c.metaMissing.LoadOrStore(key, true); !seen {
		c.log.Warn("list answer without _meta: asking for pages until a short or empty one", "endpoint", key)
	}
}

// Pages walks every item of a list endpoint. body builds the request for
// one page (the paging fields included); iteration stops at the first error,
// which is yielded with a zero item. See Paging for when the walk ends.
func Pages[T any](ctx context.Context, c *Client, key string, body func(PageRequest) any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		paging := c.NewPaging(key)
		for page := 1; ; page++ {
			var p Page[T]
			if err := c.Call(ctx, key, body(PageRequest{Page: page, PerPage: DefaultPerPage}), &p); err != nil {
				yield(zero, err)
				return
			}
			more, err := paging.More(page, p.Info()) // before the items: a repeated page is not theirs
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}
