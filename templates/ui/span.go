package ui

import "context"

// Span says how long a stretch of seconds is, the way people say it:
// "under a minute", "5 minutes", "3 hours", "102 days" (不到 1 分钟, 5 分钟,
// …). A negative span (clocks a little apart) reads as under a minute.
func Span(ctx context.Context, seconds int64) string {
	if seconds < 60 {
		return T(ctx, "time.span.under_minute")
	}
	return inUnits(ctx, "time.span.", seconds)
}
