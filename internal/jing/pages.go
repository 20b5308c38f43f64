package jing

import (
	"context"
	"iter"
)

// DefaultPerPage is the page size list iterations ask for.
const DefaultPerPage = 100

// Pages walks every item of a list endpoint. body builds the request for
// one page (the paging fields included); iteration stops at the first error,
// which is yielded with a zero item.
func Pages[T any](ctx context.Context, c *Client, key string, body func(PageRequest) any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for page := 1; ; page++ {
			var p Page[T]
			if err := c.Call(ctx, key, body(PageRequest{Page: page, PerPage: DefaultPerPage}), &p); err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			if len(p.Items) == 0 || page >= p.Meta.PageCount {
				return
			}
		}
	}
}
