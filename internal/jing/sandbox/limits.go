package sandbox

import (
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// limitState enforces each endpoint's calls per second (over a sliding
// one-second window) and calls per platform day, answering 20002 as the
// platform does. Refused calls do not count.
type limitState struct {
	recent map[string][]time.Time // endpoint → admitted calls in the last second
	daily  map[string]int         // day + endpoint → admitted calls
}

func newLimitState() limitState {
	return limitState{recent: map[string][]time.Time{}, daily: map[string]int{}}
}

func (l *limitState) admit(ep jing.Endpoint, quota int, now time.Time) error {
	day := jing.QuotaDay(now) + " " + ep.Key
	if l.daily[day] >= quota {
		return apiError{jing.CodeRateLimited, jing.SubDailyQuota}
	}
	window := l.recent[ep.Key]
	cut := 0
	for cut < len(window) && now.Sub(window[cut]) >= time.Second {
		cut++
	}
	window = window[cut:]
	if float64(len(window)) >= ep.RatePerSecond {
		l.recent[ep.Key] = window
		return apiError{jing.CodeRateLimited, jing.SubConcurrency}
	}
	l.recent[ep.Key] = append(window, now)
	l.daily[day]++
	return nil
}

// CallsToday counts the calls of endpoint key admitted today (the platform
// day), faulted ones included: tests see how many calls a job really made.
func (s *Server) CallsToday(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.daily[jing.QuotaDay(s.cfg.Now())+" "+key]
}
