package ui

import "context"

// Ago says how long before now a moment was, the way people say it:
// "just now", "5 minutes ago", "3 hours ago", "2 days ago" (or 刚刚,
// 5 分钟前, …). Both are Unix seconds; now comes from the request's clock,
// so a page and its tests agree on the time. A moment "after" now (clocks
// a little apart) reads as just now; 0 reads as "—".
func Ago(ctx context.Context, now, then int64) string {
	if then == 0 {
		return "—"
	}
	d := now - then
	switch {
	case d < 60:
		return T(ctx, "time.ago.now")
	case d < 3600:
		return plural(ctx, "time.ago.minute", "time.ago.minutes", d/60)
	case d < 86400:
		return plural(ctx, "time.ago.hour", "time.ago.hours", d/3600)
	}
	return plural(ctx, "time.ago.day", "time.ago.days", d/86400)
}

func plural(ctx context.Context, one, other string, n int64) string {
	if n == 1 {
		return T(ctx, one)
	}
	return T(ctx, other, "Count", Num(ctx, n))
}
