package ui

import "context"

// Span says how long a stretch of seconds is, the way people say it:
// "under a minute", "5 minutes", "3 hours", "102 days" (不到 1 分钟, 5 分钟,
// …). A negative span (clocks a little apart) reads as under a minute.
func Span(ctx context.Context, seconds int64) string {
	switch {
	case seconds < 60:
		return T(ctx, "time.span.under_minute")
	case seconds < 3600:
		return plural(ctx, "time.span.minute", "time.span.minutes", seconds/60)
	case seconds < 86400:
		return plural(ctx, "time.span.hour", "time.span.hours", seconds/3600)
	}
	return plural(ctx, "time.span.day", "time.span.days", seconds/86400)
}
