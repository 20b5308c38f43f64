package sandbox

import (
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"
)

// sendState holds SMS messages and tasks, mailboxes and EDM sends, and the
// little scoring state there is. Large derived data is never stored: the
// per-recipient outcome of a send and every score are drawn from Salt and
// ids (see fate), so a tenant of 20,000 persons seeds in microseconds and
// its JSON stays small.
type sendState struct {
	// Salt makes derived data differ between seeds and stay the same for one.
	Salt        uint64        `json:"salt"`
	SMSMessages []*smsMessage `json:"sms_messages"`
	SMSTasks    []*smsTask    `json:"sms_tasks"`
	Mailboxes   []*mailbox    `json:"mailboxes"`
	EDMSends    []*edmSend    `json:"edm_sends"`
	// ActivityCleared maps an omni_user_uuid to when its activity score was
	// cleared (unix seconds): from then on it reads 0 / inactive.
	ActivityCleared map[string]int64 `json:"activity_cleared,omitempty"`

	// speed is Config.SendSpeed (not stored: it is the server's, not the tenant's).
	speed float64
}

// span is how long something that takes ms on the platform takes here (SendSpeed).
func (st *sendState) span(ms int64) int64 {
	if st.speed <= 1 {
		return ms
	}
	return int64(float64(ms) / st.speed)
}

// sendsEpoch anchors the seeded history: seeding does not read the clock,
// so the same seed always gives the same tenant, timestamps included.
var sendsEpoch = time.Date(2026, 11, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

func (t *tenant) seedSends(rng *mrand.Rand) {
	st := &t.Sends
	st.Salt = rng.Uint64()
	st.seedSMS(rng)
	st.seedEDM(rng)
}

// daysBefore is a seeded moment d days (plus some office hours) before the epoch.
func daysBefore(rng *mrand.Rand, d int) time.Time {
	return sendsEpoch.AddDate(0, 0, -d).Add(time.Duration(rng.IntN(9*3600)) * time.Second)
}

// fate is a deterministic random stream for one thing: one recipient of
// one send, or one score of one id. The same salt and parts always draw the
// same numbers, on any machine, so none of it needs storing.
func fate(salt uint64, parts ...string) *mrand.Rand {
	// FNV-1a over the parts (separated, so "ab"+"c" differs from "a"+"bc").
	h := uint64(14695981039346656037) ^ salt
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h = (h ^ uint64(p[i])) * 1099511628211
		}
		h = (h ^ 0xff) * 1099511628211
	}
	src := splitmix(h)
	return mrand.New(&src)
}

// splitmix is splitmix64 as a rand.Source: well mixed even from similar
// FNV states, and cheap to build.
type splitmix uint64

func (s *splitmix) Uint64() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// inRange is uniform in [lo, hi].
func inRange(r *mrand.Rand, lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

func oneOf(r *mrand.Rand, options []string) string { return options[r.IntN(len(options))] }

// sendTimeGrace tolerates clocks a little apart: a send_time up to this much
// in the past means "now" rather than an error.
const sendTimeGrace = 60 * time.Second

// startMS turns a requested send_time (0: now; unix seconds) into the
// moment sending begins, in unix milliseconds.
func startMS(sendTime int64, now time.Time) (int64, error) {
	switch {
	case sendTime < 0:
		return 0, invalid("send_time", "必须是 0 或 Unix 秒")
	case sendTime == 0:
		return now.UnixMilli(), nil
	case time.Unix(sendTime, 0).Before(now.Add(-sendTimeGrace)):
		return 0, invalid("send_time", "不能早于当前时间")
	}
	return max(sendTime*1000, now.UnixMilli()), nil
}

// audience resolves crowds to distinct contact addresses (a mobile or an
// email, as contact picks), in crowd order. A crowd that does not exist is
// a business error; persons without that address are left out. The
// audience is fixed when a send is saved.
func (s *Server) audience(groupIDs []int64, contact func(personContact) string) ([]string, error) {
	var all []string
	for _, id := range groupIDs {
		members, ok := s.tenant.People.crowdMembers(id)
		if !ok {
			return nil, business(fmt.Sprintf("人群不存在: %d", id))
		}
		for _, m := range members {
			if a := contact(m); a != "" {
				all = append(all, a)
			}
		}
	}
	return distinctStrings(all), nil
}

// sendProgress is a send's overall state from its recipients' outcomes.
func sendProgress(startMS, nowMS int64, total, finished int) string {
	switch {
	case nowMS < startMS:
		return "scheduled"
	case finished < total:
		return "sending"
	}
	return "sent"
}

// unixSeconds turns a unix-millisecond moment into the API's seconds (0 stays 0).
func unixSeconds(ms int64) int64 {
	if ms <= 0 {
		return 0
	}
	return ms / 1000
}

// distinctStrings keeps the first of each value, in order.
func distinctStrings(values []string) []string {
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// syntheticAudience draws n distinct addresses for a seeded send, the same
// every time for the same salt and id (draw makes one from a stream). The
// draws are bounded: a generator short of distinct values gives fewer.
func (st *sendState) syntheticAudience(id string, n int, draw func(*mrand.Rand) string) []string {
	out := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for i := 0; len(out) < n && i < 2*n+100; i++ {
		a := draw(fate(st.Salt, "audience", id, strconv.Itoa(i)))
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
