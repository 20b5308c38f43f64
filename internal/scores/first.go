package scores

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// The first fetch: a console just connected has no scores, and the
// schedule's first refresh would come a whole RefreshEvery later. So
// once the lead copy of a platform connection is filled (its first full
// sync ended), one fetch of every lead's scores starts by itself: the
// same paced, resumable job as any refresh. Its record (which connection,
// which job, when) is kept in the settings, so it runs once per
// connection, across restarts.

// firstFetchKey is the setting that records the first fetch.
const firstFetchKey = "scores.first_fetch"

// FirstFetchLook is how often the schedule looks whether the first fetch
// can start (a settings read and the lead sync state: cheap).
const FirstFetchLook = 10 * time.Second

// FirstFetch is the state of the first fetch on the live connection.
type FirstFetch struct {
	Job     int64 // the fetch's job, once started (0: not yet)
	At      int64 // when it started
	Pending bool  // it will start by itself once the lead copy is filled
}

type firstFetchRecord struct {
	Connection string `json:"connection"`
	Job        int64  `json:"job"`
	At         int64  `json:"at"`
}

// FirstFetchState says whether the first fetch of the live connection
// ran (and its job), or waits for the lead copy. Without the schedule
// (RefreshEvery 0: only on demand) it never starts by itself.
func (s *Service) FirstFetchState(ctx context.Context) (FirstFetch, error) {
	_, conn := s.cfg.Platform.Current()
	rec, err := s.firstFetchRecord(ctx)
	if err != nil {
		return FirstFetch{}, err
	}
	if rec.Connection == conn && rec.Job != 0 {
		return FirstFetch{Job: rec.Job, At: rec.At}, nil
	}
	return FirstFetch{Pending: s.cfg.RefreshEvery > 0}, nil
}

// StartFirstFetch starts the first fetch of every lead's scores if the
// live connection has not had it and its lead copy is filled. It returns
// the job started (0: none now).
func (s *Service) StartFirstFetch(ctx context.Context) (int64, error) {
	_, conn := s.cfg.Platform.Current()
	rec, err := s.firstFetchRecord(ctx)
	if err != nil || (rec.Connection == conn && rec.Job != 0) {
		return 0, err
	}
	st, err := s.cfg.Store.LeadSync(ctx)
	if err != nil || st.Connection != conn || st.FullSyncedAt == 0 {
		return 0, err
	}
	id, err := s.RequestFetch(ctx, 0, db.ScorePopulation{}, Kinds, DefaultMaxAge)
	if err != nil {
		return 0, err
	}
	raw, err := json.Marshal(firstFetchRecord{Connection: conn, Job: id, At: s.cfg.Now().Unix()})
	if err == nil {
		err = s.cfg.Store.SetSetting(ctx, firstFetchKey, string(raw))
	}
	if err != nil {
		return id, err
	}
	s.log.Info("first fetch of every lead's scores started", "job", id, "connection", conn)
	return id, nil
}

func (s *Service) firstFetchRecord(ctx context.Context) (firstFetchRecord, error) {
	var rec firstFetchRecord
	raw, err := s.cfg.Store.Setting(ctx, firstFetchKey)
	if errors.Is(err, db.ErrNotFound) || (err == nil && raw == "") {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		s.log.Warn("the record of the first score fetch cannot be read: it runs again", "error", err)
		return firstFetchRecord{}, nil
	}
	return rec, nil
}
