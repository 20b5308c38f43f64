package web

import (
	"testing"

	"github.com/jingdesk/jingdesk/internal/scores"
)

// scoresRig is a server with the crowds and scores services on the
// embedded sandbox (200 persons, 40 leads, the demo crowds).
type scoresRig struct {
	crowdsRig
	scores *scores.Service
}

// newScoresHarness is a server with the crowd list synced and the scores service.
func newScoresHarness(t testing.TB) (*harness, *scoresRig) {
	t.Helper()
	rig := &scoresRig{}
	h := newHarness(t, withCrowds(t, &rig.crowdsRig), func(d *Deps) {
		svc, err := scores.New(scores.Config{Store: d.Store, Platform: d.Platform, Runner: rig.runner, Crowds: d.Crowds,
			Logger: d.Logger, Now: d.Now})
		if err != nil {
			t.Fatal(err)
		}
		rig.scores, d.Scores = svc, svc
	})
	rig.h = h
	rig.sync()
	return h, rig
}
