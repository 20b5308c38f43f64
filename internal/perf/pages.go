package perf

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode"
)

// Choices are the values the harness fills the pages' filters with, read
// from the console's own copy: what a user could pick.
type Choices struct {
	BusinessTypes []string            // by number of leads, most first
	Statuses      map[string][]string // per business type, those with leads
	Owners        []string
	Sources       []string
	Pools         []string
	Bigrams       []string // two Chinese characters from leads' names and companies
	Trigrams      []string // three
	Leads         []string // uuids
	Crowds        []string // group ids
	Leading       int      // leads not voided
	Zone          *time.Location
	firstDay      time.Time // of the leads' creation and updates
	days          int       // from firstDay to the last
}

// ReadChoices reads the choices from the database file at path (read-only).
func ReadChoices(ctx context.Context, path string, zone *time.Location) (*Choices, error) {
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer ro.Close()
	ch := &Choices{Statuses: map[string][]string{}, Zone: zone}
	strs := func(q string, args ...any) ([]string, error) {
		rows, err := ro.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("perf: %s: %w", q, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
	if ch.BusinessTypes, err = strs(`SELECT business_type FROM lead_counts WHERE voided = 0 GROUP BY 1 ORDER BY sum(n) DESC`); err != nil {
		return nil, err
	}
	for _, bt := range ch.BusinessTypes {
		if ch.Statuses[bt], err = strs(`SELECT status FROM lead_counts WHERE voided = 0 AND business_type = ? AND n > 0`, bt); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		to  *[]string
		col string
	}{{&ch.Owners, "owner"}, {&ch.Sources, "source"}, {&ch.Pools, "lead_pool"}} {
		if *c.to, err = strs(`SELECT DISTINCT ` + c.col + ` FROM leads WHERE voided = 0 AND ` + c.col + ` != '' ORDER BY 1`); err != nil {
			return nil, err
		}
	}
	var first, last int64
	if err := ro.QueryRowContext(ctx, `SELECT count(*), min(created_at), max(updated_at) FROM leads WHERE voided = 0`).
		Scan(&ch.Leading, &first, &last); err != nil {
		return nil, err
	}
	// Every 1/500th lead by rowid, not ORDER BY random(): the leads and
	// words a run draws from are the same in every run of the same copy,
	// so two runs (two builds) with one --seed ask for the same pages (a
	// common two-character word costs several times a rare one).
	every := max(1, ch.Leading/500)
	if ch.Leads, err = strs(`SELECT uuid FROM leads WHERE voided = 0 AND id % ? = 0 ORDER BY id LIMIT 500`, every); err != nil {
		return nil, err
	}
	texts, err := strs(`SELECT name || ' ' || company FROM leads WHERE id % ? = 0 ORDER BY id LIMIT 500`, every)
	if err != nil {
		return nil, err
	}
	for _, t := range texts {
		r := []rune(t)
		for i := 0; i+3 <= len(r); i += 3 {
			if han(r[i]) && han(r[i+1]) {
				ch.Bigrams = append(ch.Bigrams, string(r[i:i+2]))
				if han(r[i+2]) {
					ch.Trigrams = append(ch.Trigrams, string(r[i:i+3]))
				}
			}
		}
	}
	ch.firstDay = time.Unix(first, 0).In(zone)
	ch.days = max(1, int(time.Unix(last, 0).Sub(ch.firstDay).Hours()/24))
	if len(ch.BusinessTypes) == 0 || len(ch.Owners) == 0 || len(ch.Bigrams) == 0 || len(ch.Trigrams) == 0 {
		return nil, fmt.Errorf("perf: the copy at %s has too little to choose from", path)
	}
	return ch, nil
}

func han(r rune) bool { return unicode.Is(unicode.Han, r) }

var crowdLink = regexp.MustCompile(`href="/crowds/(\d+)"`)

// readCrowds takes the crowds the console lists. The first look at the
// list starts its refresh from the platform; the second, after it, lists.
func (ch *Choices) readCrowds(ctx context.Context, con *Console, cl *Client) error {
	if _, _, err := cl.Get(ctx, "/crowds"); err != nil {
		return err
	}
	if err := con.WaitIdle(ctx, 5*time.Minute); err != nil {
		return err
	}
	body, _, err := cl.Get(ctx, "/crowds")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range crowdLink.FindAllSubmatch(body, -1) {
		if id := string(m[1]); !seen[id] {
			seen[id] = true
			ch.Crowds = append(ch.Crowds, id)
		}
	}
	if len(ch.Crowds) == 0 {
		return fmt.Errorf("perf: the console lists no crowd")
	}
	return nil
}

func pick(r *rand.Rand, l []string) string { return l[r.IntN(len(l))] }

// window is a random range of days, of 7 to 90 days.
func (ch *Choices) window(r *rand.Rand) (from, to string) {
	n := 7 + r.IntN(84)
	start := ch.firstDay.AddDate(0, 0, r.IntN(max(1, ch.days-n)))
	return start.Format(time.DateOnly), start.AddDate(0, 0, n).Format(time.DateOnly)
}

// Case is one kind of page request: a path made anew each time.
type Case struct {
	Name   string
	Group  string  // board, list, scores, lead, crowd, static
	Target float64 // ms, whole request, median; 0: none
	Hit    bool    // a cache hit: the same path asked twice, the second timed
	Path   func(r *rand.Rand) string
}

// Targets of issue 18, at 100,000 leads.
const (
	boardTarget  = 15
	listTarget   = 20
	searchTarget = 30
	scoresTarget = 50
	pageTarget   = 10
)

func q(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Cases are the pages measured, each filter of each page alone and in
// combinations.
func (ch *Choices) Cases(static string) []Case {
	bt := func(r *rand.Rand) string { return pick(r, ch.BusinessTypes) }
	board := func(name string, target float64, kv func(r *rand.Rand) []string) Case {
		return Case{Name: "board, " + name, Group: "board", Target: target,
			Path: func(r *rand.Rand) string { return q("/leads/board", kv(r)...) }}
	}
	list := func(name string, target float64, kv func(r *rand.Rand) []string) Case {
		return Case{Name: "list, " + name, Group: "list", Target: target,
			Path: func(r *rand.Rand) string { return q("/leads/list", kv(r)...) }}
	}
	scores := func(name string, kv func(r *rand.Rand) []string) Case {
		return Case{Name: "scores, " + name, Group: "scores", Target: scoresTarget,
			Path: func(r *rand.Rand) string { return q("/scores", kv(r)...) }}
	}
	created := func(r *rand.Rand) []string { f, t := ch.window(r); return []string{"created_from", f, "created_to", t} }
	updated := func(r *rand.Rand) []string { f, t := ch.window(r); return []string{"updated_from", f, "updated_to", t} }
	pages := (ch.Leading + 49) / 50
	cases := []Case{
		{Name: "static file (app.css)", Group: "static", Path: func(*rand.Rand) string { return static }},
		{Name: "board, cache hit (an owner's)", Group: "board", Target: boardTarget, Hit: true,
			Path: func(r *rand.Rand) string { return q("/leads/board", "owner", pick(r, ch.Owners)) }},
		board("a business type, no filter", boardTarget, func(r *rand.Rand) []string { return []string{"business_type", bt(r)} }),
		board("search, 3 Chinese characters", boardTarget, func(r *rand.Rand) []string { return []string{"q", pick(r, ch.Trigrams)} }),
		board("search, 2 Chinese characters", boardTarget, func(r *rand.Rand) []string { return []string{"q", pick(r, ch.Bigrams)} }),
		board("owner", boardTarget, func(r *rand.Rand) []string { return []string{"owner", pick(r, ch.Owners)} }),
		board("source", boardTarget, func(r *rand.Rand) []string { return []string{"source", pick(r, ch.Sources)} }),
		board("lead pool", boardTarget, func(r *rand.Rand) []string {
			return []string{"business_type", bt(r), "lead_pool", pick(r, ch.Pools)}
		}),
		board("created between", boardTarget, created),
		board("updated between", boardTarget, updated),
		board("owner + created between", boardTarget, func(r *rand.Rand) []string {
			return append(created(r), "owner", pick(r, ch.Owners))
		}),
		board("owner + source + pool", boardTarget, func(r *rand.Rand) []string {
			return []string{"owner", pick(r, ch.Owners), "source", pick(r, ch.Sources), "lead_pool", pick(r, ch.Pools)}
		}),
		board("search + owner", boardTarget, func(r *rand.Rand) []string {
			return []string{"q", pick(r, ch.Bigrams), "owner", pick(r, ch.Owners)}
		}),
		board("every filter", boardTarget, func(r *rand.Rand) []string {
			return append(append(created(r), updated(r)...), "q", pick(r, ch.Bigrams), "owner", pick(r, ch.Owners),
				"source", pick(r, ch.Sources), "lead_pool", pick(r, ch.Pools))
		}),
	}
	for _, sort := range []string{"updated", "created", "name", "status_since"} {
		cases = append(cases,
			list("sorted by "+sort, listTarget, func(r *rand.Rand) []string { return []string{"sort", sort, "page", strconv.Itoa(1 + r.IntN(5))} }),
			list("sorted by "+sort+", a deep page", listTarget, func(r *rand.Rand) []string {
				return []string{"sort", sort, "page", strconv.Itoa(pages/4 + r.IntN(pages/2))}
			}))
	}
	cases = append(cases,
		list("the last page", listTarget, func(r *rand.Rand) []string { return []string{"page", strconv.Itoa(pages - r.IntN(3))} }),
		list("business type + status", listTarget, func(r *rand.Rand) []string {
			b := bt(r)
			return []string{"business_type", b, "status", pick(r, ch.Statuses[b])}
		}),
		list("owner", listTarget, func(r *rand.Rand) []string { return []string{"owner", pick(r, ch.Owners)} }),
		list("source", listTarget, func(r *rand.Rand) []string { return []string{"source", pick(r, ch.Sources)} }),
		list("lead pool", listTarget, func(r *rand.Rand) []string { return []string{"lead_pool", pick(r, ch.Pools)} }),
		list("created between", listTarget, created),
		list("updated between", listTarget, updated),
		list("owner, sorted by name, page 3", listTarget, func(r *rand.Rand) []string {
			return []string{"owner", pick(r, ch.Owners), "sort", "name", "page", "3"}
		}),
		list("search, 3 Chinese characters", listTarget, func(r *rand.Rand) []string { return []string{"q", pick(r, ch.Trigrams)} }),
		list("search, 2 Chinese characters", searchTarget, func(r *rand.Rand) []string { return []string{"q", pick(r, ch.Bigrams)} }),
		list("search (2) + business type, sorted by created", searchTarget, func(r *rand.Rand) []string {
			return []string{"q", pick(r, ch.Bigrams), "business_type", bt(r), "sort", "created"}
		}),
	)
	kinds := []string{"identity", "active", "intention"}
	cases = append(cases,
		scores("all leads", func(r *rand.Rand) []string { return []string{"pop", "all", "kind", kinds[r.IntN(3)]} }),
		scores("a business type", func(r *rand.Rand) []string {
			return []string{"pop", "type", "business_type", bt(r), "kind", kinds[r.IntN(3)]}
		}),
		scores("a status", func(r *rand.Rand) []string {
			b := bt(r)
			return []string{"pop", "leads", "business_type", b, "status", pick(r, ch.Statuses[b]), "kind", kinds[r.IntN(3)]}
		}),
		scores("an owner", func(r *rand.Rand) []string {
			return []string{"pop", "leads", "owner", pick(r, ch.Owners), "kind", kinds[r.IntN(3)]}
		}),
		scores("a crowd", func(r *rand.Rand) []string {
			return []string{"pop", "crowd", "crowd", pick(r, ch.Crowds), "kind", kinds[r.IntN(3)]}
		}),
		Case{Name: "a lead's page", Group: "lead", Target: pageTarget,
			Path: func(r *rand.Rand) string { return "/leads/" + url.PathEscape(pick(r, ch.Leads)) }},
		Case{Name: "a crowd's page", Group: "crowd", Target: pageTarget,
			Path: func(r *rand.Rand) string { return "/crowds/" + pick(r, ch.Crowds) }},
		Case{Name: "the crowds", Group: "crowd", Target: pageTarget, Path: func(*rand.Rand) string { return "/crowds" }},
	)
	return cases
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
