package scores

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// Errors of the actions a user can act on.
var (
	ErrEmptySelection = errors.New("scores: the selection has nobody in it")
	ErrCountMismatch  = errors.New("scores: the count typed is not the selection's size")
	ErrNotAdmin       = errors.New("scores: only an administrator can clear activity scores")
	ErrNoCrowds       = errors.New("scores: saving as a crowd is not available")
)

// SaveAsCrowd imports the selection's persons into a new crowd, through
// the crowd import job (so it is paced, resumable and reported like any
// import). It returns the import's id.
func (s *Service) SaveAsCrowd(ctx context.Context, userID int64, actor string, q db.ScoreQuery, sel db.ScoreSelection,
	name, description string) (int64, error) {
	if s.cfg.Crowds == nil {
		return 0, ErrNoCrowds
	}
	persons, err := s.cfg.Store.SelectedPersons(ctx, q, sel)
	if err != nil {
		return 0, err
	}
	if len(persons) == 0 {
		return 0, ErrEmptySelection
	}
	fileName := fmt.Sprintf("scores-%s-%d.csv", q.Kind, s.cfg.Now().Unix())
	return s.cfg.Crowds.ImportUUIDs(ctx, userID, actor, fileName, persons,
		crowds.Target{NewCrowd: strings.TrimSpace(name), Description: description})
}

// --- clearing activity ---

type clearParams struct {
	Persons    []string `json:"persons"`
	Actor      string   `json:"actor"`
	Connection string   `json:"connection"`
}

// RequestClear queues the clearing of the selection's persons' activity
// scores (destructive: the points are gone). Only an administrator may,
// and the count typed must be the selection's number of persons.
func (s *Service) RequestClear(ctx context.Context, user *db.User, q db.ScoreQuery, sel db.ScoreSelection, typed string) (int64, error) {
	if user == nil || user.Role != db.RoleAdmin {
		return 0, ErrNotAdmin
	}
	persons, err := s.cfg.Store.SelectedPersons(ctx, q, sel)
	if err != nil {
		return 0, err
	}
	if len(persons) == 0 {
		return 0, ErrEmptySelection
	}
	if strings.ReplaceAll(strings.TrimSpace(typed), ",", "") != strconv.Itoa(len(persons)) {
		return 0, ErrCountMismatch
	}
	_, conn := s.cfg.Platform.Current()
	job, err := s.cfg.Runner.Enqueue(ctx, jobs.Spec{Kind: ClearJobKind, OwnerID: user.ID, Total: int64(len(persons)),
		Title:  fmt.Sprintf("Clear the activity scores of %d persons", len(persons)),
		Params: clearParams{Persons: persons, Actor: user.Username, Connection: conn}})
	if err != nil {
		return 0, err
	}
	if err := s.cfg.Store.Audit(ctx, db.AuditEntry{UserID: user.ID, Username: user.Username, Action: "scores.clear",
		Object: fmt.Sprintf("job:%d", job.ID), Summary: fmt.Sprintf("asked to clear the activity scores of %d persons", len(persons)),
		Outcome: db.OutcomeOK}); err != nil {
		s.log.Error("write audit log", "error", err)
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
	client, conn := s.cfg.Platform.Current()
	if conn != p.Connection {
		return errors.New("the platform connection changed since the clearing was asked for")
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
