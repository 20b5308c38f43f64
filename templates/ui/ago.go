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
	if d < 60 {
		return T(ctx, "time.ago.now")
	}
	return inUnits(ctx, "time.ago.", d)
}

// inUnits says a stretch of at least a minute in whole minutes, hours or
// days, with the messages prefix+"minute"/"minutes", "hour"/"hours",
// "day"/"days".
func inUnits(ctx context.Context, prefix string, seconds int64) string {
	switch {
	case seconds < 3600:
		return plural(ctx, prefix+"minute", prefix+"minutes", seconds/60)
	case seconds < 86400:
		return plural(ctx, prefix+"hour", prefix+"hours", seconds/3600)
	}
	return plural(ctx, prefix+"day", prefix+"days", seconds/86400)
}

func plural(ctx context.Context, one, other string, n int64) string {
	if n == 1 {
		return T(ctx, one)
	}
	return T(ctx, other, "Count", Num(ctx, n))
}
