package sandbox

import (
	"fmt"
	mrand "math/rand/v2"
)

// Scores are never stored: each is drawn from the tenant's salt, the id and
// the kind of score (see fate), so every person and lead has stable,
// realistic scores from the first call. Only clearing activity is state.

// scoreSubject is what is scored: persons by omni_user_uuid, or leads by jing_uuid.
type scoreSubject struct {
	name   string // "user" | "lead"
	field  string // the request's list of ids
	exists func(t *tenant, id string) bool
	// identityModel and activityModel name the platform's scoring models.
	identityModel, activityModel string
}

var (
	scoredUsers = scoreSubject{name: "user", field: "omni_user_uuids",
		exists:        func(t *tenant, id string) bool { return t.People.hasPerson(id) },
		identityModel: "目标客户画像", activityModel: "用户行为评分"}
	scoredLeads = scoreSubject{name: "lead", field: "jing_uuids",
		exists:        func(t *tenant, id string) bool { return t.Leads.hasLead(id) },
		identityModel: "线索质量画像", activityModel: "线索行为评分"}
)

// intentProducts are the products intention scoring rates each id for.
var intentProducts = []string{"新能源车型", "旗舰SUV", "金融方案", "售后保养"}

// band is one grade or level of a score: its share of ids and its range.
type band struct {
	name   string
	share  float64
	lo, hi int64
}

var (
	// Identity grades lean to B and C: most contacts fit the profile partly.
	identityBands = []band{{"A", 0.12, 85, 100}, {"B", 0.33, 70, 84}, {"C", 0.38, 50, 69}, {"D", 0.17, 10, 49}}
	// Activity: most are cold, a few hot (points accumulate without a cap).
	activityBands = []band{{"inactive", 0.28, 0, 4}, {"cold", 0.47, 5, 39}, {"warm", 0.18, 40, 79}, {"hot", 0.07, 80, 260}}
	// Intent is low for most products and most people.
	intentBands = []band{{"low", 0.70, 0, 39}, {"medium", 0.22, 40, 69}, {"high", 0.08, 70, 100}}
)

// draw picks a band by its share, then a score inside it.
func draw(r *mrand.Rand, bands []band) (string, int) {
	u := r.Float64()
	for _, b := range bands[:len(bands)-1] {
		if u < b.share {
			return b.name, int(inRange(r, b.lo, b.hi))
		}
		u -= b.share
	}
	b := bands[len(bands)-1]
	return b.name, int(inRange(r, b.lo, b.hi))
}

type scoreItem struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	Score int    `json:"score"`
	Grade string `json:"grade,omitempty"`
	Level string `json:"level,omitempty"`
}

// scorer gives the items of one kind of score for one id at a moment.
type scorer func(st *sendState, sub scoreSubject, id string, now int64) []scoreItem

func identityScore(st *sendState, sub scoreSubject, id string, _ int64) []scoreItem {
	grade, score := draw(fate(st.Salt, "identity", sub.name, id), identityBands)
	return []scoreItem{{ID: id, Model: sub.identityModel, Score: score, Grade: grade}}
}

// activityScore is the points of the seed, moving by a few points a day
// (some ids gain, some lose, most stay), so that a console fetching again
// later sees movers. A cleared person reads 0 / inactive.
func activityScore(st *sendState, sub scoreSubject, id string, now int64) []scoreItem {
	item := scoreItem{ID: id, Model: sub.activityModel, Level: "inactive"}
	if _, cleared := st.ActivityCleared[id]; cleared && sub.name == "user" {
		return []scoreItem{item}
	}
	_, base := draw(fate(st.Salt, "activity", sub.name, id), activityBands)
	days := max(0, (now-peopleSeedEnd)/86400)
	perDay := int(inRange(fate(st.Salt, "activity-drift", sub.name, id), -2, 4))
	item.Score = max(0, base+int(days)*perDay)
	item.Level = bandOf(activityBands, item.Score)
	return []scoreItem{item}
}

// bandOf names the band a score falls in (above the last: the last).
func bandOf(bands []band, score int) string {
	for _, b := range bands {
		if int64(score) <= b.hi {
			return b.name
		}
	}
	return bands[len(bands)-1].name
}

func intentionScores(st *sendState, sub scoreSubject, id string, _ int64) []scoreItem {
	items := make([]scoreItem, len(intentProducts))
	for i, product := range intentProducts {
		level, score := draw(fate(st.Salt, "intention", sub.name, id, product), intentBands)
		items[i] = scoreItem{ID: id, Model: product, Score: score, Level: level}
	}
	return items
}

func (s *Server) scoreHandlers() map[string]handler {
	return map[string]handler{
		"scores.user_identity":     s.scores(scoredUsers, identityScore),
		"scores.user_active":       s.scores(scoredUsers, activityScore),
		"scores.user_intention":    s.scores(scoredUsers, intentionScores),
		"scores.lead_identity":     s.scores(scoredLeads, identityScore),
		"scores.lead_active":       s.scores(scoredLeads, activityScore),
		"scores.lead_intention":    s.scores(scoredLeads, intentionScores),
		"scores.user_active_clear": s.clearActivity,
	}
}

// scores answers a batch query: the items of every known id, in request
// order; unknown ids are left out.
func (s *Server) scores(sub scoreSubject, score scorer) handler {
	return func(c *call) (any, error) {
		ids, err := scoreIDs(c, sub)
		if err != nil {
			return nil, err
		}
		items := []scoreItem{}
		for _, id := range ids {
			if sub.exists(s.tenant, id) {
				items = append(items, score(&s.tenant.Sends, sub, id, c.now.Unix())...)
			}
		}
		return map[string]any{"items": items}, nil
	}
}

// scoreIDs reads the request's ids: at least one, at most the endpoint's batch.
func scoreIDs(c *call, sub scoreSubject) ([]string, error) {
	var req struct {
		Users []string `json:"omni_user_uuids"`
		Leads []string `json:"jing_uuids"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ids := req.Users
	if sub.name == "lead" {
		ids = req.Leads
	}
	if len(ids) == 0 {
		return nil, missing(sub.field)
	}
	if n := c.endpoint.MaxBatch; n > 0 && len(ids) > n {
		return nil, invalid(sub.field, fmt.Sprintf("一次最多 %d 个", n))
	}
	return distinctStrings(ids), nil
}

// clearActivity zeroes the activity score of known persons; it is
// destructive: the points are gone, the person reads 0 / inactive.
func (s *Server) clearActivity(c *call) (any, error) {
	ids, err := scoreIDs(c, scoredUsers)
	if err != nil {
		return nil, err
	}
	st := &s.tenant.Sends
	if st.ActivityCleared == nil {
		st.ActivityCleared = map[string]int64{}
	}
	cleared := 0
	for _, id := range ids {
		if s.tenant.People.hasPerson(id) {
			st.ActivityCleared[id] = c.now.Unix()
			cleared++
		}
	}
	s.markChanged()
	return map[string]int{"cleared": cleared}, nil
}
