package scores

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// Refusals of the actions on a selection.
var (
	ErrEmptySelection = msg.Refuse(msg.Invalid, "scores.err.empty")
	ErrNoCrowdChosen  = msg.Refuse(msg.Invalid, "scores.error.no_crowd").On("crowd")
	ErrNoCrowds       = msg.Refuse(msg.Unavailable, "scores.err.no_crowds")
	ErrNoName         = msg.Refuse(msg.Invalid, "scores.save.name_required").On("name")
	ErrNameTooLong    = msg.Refuse(msg.Invalid, "scores.save.name_long", msg.Int("Max", crowds.CrowdNameMax)).On("name")
	ErrDescTooLong    = msg.Refuse(msg.Invalid, "scores.save.description_long",
		msg.Int("Max", crowds.CrowdDescriptionMax)).On("description")
	ErrNotAdmin      = msg.Refuse(msg.Forbidden, "scores.err.not_admin")
	ErrCountMismatch = msg.Refuse(msg.Invalid, "scores.err.count_mismatch").On("count")
)

// refreshAge is how old a score a refresh asked for on a page asks again.
const refreshAge = time.Hour

// Refresh queues the refresh a user asks for on a view: every kind of
// its population's scores older than an hour (joining the same refresh
// already under way). A crowd view needs its crowd.
func (s *Service) Refresh(ctx context.Context, userID int64, v View) (int64, error) {
	if v.Unchosen() {
		return 0, ErrNoCrowdChosen
	}
	return s.RequestFetch(ctx, userID, v.population(), Kinds, refreshAge)
}

// FetchJob is a refresh's job, for its progress on the page: a job of
// another kind is not found.
func (s *Service) FetchJob(ctx context.Context, id int64) (db.Job, error) {
	j, err := s.cfg.Store.Job(ctx, id)
	if err == nil && j.Kind != FetchJobKind {
		return db.Job{}, db.ErrNotFound
	}
	return j, err
}

// Actor is who acts on a selection.
type Actor struct {
	ID       int64
	Username string
	Role     string
}

// SaveAsCrowd imports the selection's persons into a new crowd named
// name, through the crowd import job (so it is paced, resumable and
// reported like any import). The name and description are checked first,
// by the limits of a crowd, so a refused save leaves nothing behind. It
// returns the import's id.
func (s *Service) SaveAsCrowd(ctx context.Context, who Actor, v View, sel Selection, name, description string) (int64, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	switch {
	case s.cfg.Crowds == nil:
		return 0, ErrNoCrowds
	case name == "":
		return 0, ErrNoName
	case utf8.RuneCountInString(name) > crowds.CrowdNameMax:
		return 0, ErrNameTooLong
	case utf8.RuneCountInString(description) > crowds.CrowdDescriptionMax:
		return 0, ErrDescTooLong
	}
	persons, err := s.selectedPersons(ctx, v, sel)
	if err != nil {
		return 0, err
	}
	fileName := fmt.Sprintf("scores-%s-%d.csv", v.Kind, s.cfg.Now().Unix())
	return s.cfg.Crowds.ImportUUIDs(ctx, who.ID, who.Username, fileName, persons,
		crowds.Target{NewCrowd: name, Description: description})
}

// selectedPersons are the selection's persons; none is a refusal.
func (s *Service) selectedPersons(ctx context.Context, v View, sel Selection) ([]string, error) {
	if v.Unchosen() {
		return nil, ErrNoCrowdChosen
	}
	ds, err := sel.query()
	if err != nil {
		return nil, err
	}
	persons, err := s.cfg.Store.SelectedPersons(ctx, v.query(), ds)
	if err == nil && len(persons) == 0 {
		err = ErrEmptySelection
	}
	return persons, err
}

// --- clearing activity ---

type clearParams struct {
	Persons    []string `json:"persons"`
	Actor      string   `json:"actor"`
	Connection string   `json:"connection"`
}

// clearCountMax bounds the count typed (a count of persons has far fewer digits).
const clearCountMax = 20

// RequestClear queues the clearing of the selection's persons' activity
// scores. It is destructive (the points are gone), so only an
// administrator may, and the count typed ("1,204" or "1204") must be the
// selection's number of persons: the user says how many they will clear.
// It returns the job's id.
func (s *Service) RequestClear(ctx context.Context, who Actor, v View, sel Selection, typed string) (int64, error) {
	if !MayClear(who.Role) {
		return 0, ErrNotAdmin
	}
	persons, err := s.selectedPersons(ctx, v, sel)
	if err != nil {
		return 0, err
	}
	count := strings.ReplaceAll(strings.TrimSpace(typed), ",", "")
	if len(count) > clearCountMax || count != strconv.Itoa(len(persons)) {
		return 0, ErrCountMismatch
	}
	_, conn := s.cfg.Platform.Current()
	job, err := s.cfg.Runner.Enqueue(ctx, jobs.Spec{Kind: ClearJobKind, OwnerID: who.ID, Total: int64(len(persons)),
		Title:  fmt.Sprintf("Clear the activity scores of %d persons", len(persons)),
		Params: clearParams{Persons: persons, Actor: who.Username, Connection: conn}})
	if err != nil {
		return 0, err
	}
	return job.ID, nil
}

// runClear clears 100 persons a call. The platform answers only how many
// it cleared, so a batch with fewer is split until each person's outcome
// is known; every person not cleared is a job item error. Clearing again
// is harmless (a cleared score stays 0), so a resumed batch is re-sent.
func (s *Service) runClear(ctx context.Context, t *jobs.Task) error {
	var p clearParams
	if err := t.Params(&p); err != nil {
		return err
	}
	client, err := s.clientFor(p.Connection)
	if err != nil {
		return err
	}
	next, _ := strconv.Atoi(t.Checkpoint())
	wctx := jing.WithActor(ctx, p.Actor)
	for next < len(p.Persons) {
		end := min(next+batch, len(p.Persons))
		refused, err := s.clearExactly(wctx, client, p.Persons[next:end])
		if err != nil {
			return err
		}
		for _, id := range p.Persons[next:end] {
			if refused[id] {
				t.Fail(id, msg.New("scores.clear.not_cleared").Encode())
			} else {
				t.Did(1)
			}
		}
		// Read the cleared scores back into the cache.
		if got, err := fetch(ctx, client, db.SubjectUser, db.ScoreActive, p.Persons[next:end]); err == nil {
			s.cfg.Store.SaveScores(ctx, db.SubjectUser, db.ScoreActive, p.Persons[next:end], got, s.cfg.Now().Unix())
		}
		next = end
		if err := t.Save(strconv.Itoa(next)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) clearExactly(ctx context.Context, client *jing.Client, ids []string) (map[string]bool, error) {
	n, err := client.ClearUserActivity(ctx, ids)
	if err != nil {
		return nil, err
	}
	refused := map[string]bool{}
	switch {
	case n >= len(ids):
		return refused, nil
	case n == 0 || len(ids) == 1:
		for _, id := range ids {
			refused[id] = true
		}
		return refused, nil
	}
	half := len(ids) / 2
	for _, part := range [][]string{ids[:half], ids[half:]} {
		sub, err := s.clearExactly(ctx, client, part)
		if err != nil {
			return nil, err
		}
		for id := range sub {
			refused[id] = true
		}
	}
	return refused, nil
}
