package web

import (
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/scores"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// The person page (issue 8): what the console knows of one person (an
// omni_user_uuid): the identities imports resolved to them, the local
// crowds that list them, those imports, and their scores with trends
// (fetched from the platform after the page, ?part=scores).

func (s *Server) showPerson(c echo.Context) error {
	uuid := c.Param("uuid")
	if uuid == "" || len(uuid) > boardIDMax {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	if c.QueryParam("part") == "scores" {
		return s.showPersonScores(c, uuid)
	}
	ctx := c.Request().Context()
	mask := !mayMove(currentUser(c))
	p := scoresview.PersonPage{UUID: uuid, Masked: mask, CardURL: scoresview.PersonPath(uuid) + "?part=scores"}
	imports, err := s.Store.PersonImports(ctx, uuid)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, im := range imports {
		v := im.Value
		if mask {
			v = leads.Mask(v)
		}
		p.Imports = append(p.Imports, scoresview.PersonImport{ID: im.ID, FileName: im.FileName, Crowd: im.CrowdName,
			Value: v, Kind: im.Kind, Created: im.Created, At: im.At})
		if im.Value != "" && !seen[im.Kind+im.Value] {
			seen[im.Kind+im.Value] = true
			p.Identities = append(p.Identities, scoresview.PersonIdentity{Value: v, Kind: im.Kind})
		}
	}
	if known, err := s.Store.ImportedIdentities(ctx, []string{uuid}); err != nil {
		return err
	} else if r, ok := known[uuid]; ok && r.Name != "" {
		// The most recent import's name column names the person.
		for i := range p.Identities {
			p.Identities[i].Name = r.Name
		}
	}
	crowds, err := s.Store.PersonCrowds(ctx, uuid)
	if err != nil {
		return err
	}
	for _, cr := range crowds {
		p.Crowds = append(p.Crowds, scoresview.PersonCrowd{ID: cr.GroupID, Name: cr.Name, Joined: cr.Joined})
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "scores.person.title"), Section: "crowds", Body: scoresview.PersonView(p)})
}

// showPersonScores is the person's scores card: asked of the platform now
// (the cache keeps the history), or the cache with the platform's error.
func (s *Server) showPersonScores(c echo.Context, uuid string) error {
	if s.Scores == nil {
		return s.renderFragment(c, http.StatusOK, scoresview.CardView(scoresview.Card{Error: t(c, "scores.unavailable")}))
	}
	card, err := s.Scores.FetchOne(c.Request().Context(), db.SubjectUser, uuid)
	if err != nil {
		return err
	}
	return s.renderFragment(c, http.StatusOK, scoresview.CardView(scoreCard(c, card)))
}

// scoreCard shapes a service card: one trend per kind and model, in the
// page's kind order, with its history drawn as a sparkline.
func scoreCard(c echo.Context, card scores.Card) scoresview.Card {
	var out scoresview.Card
	if card.Error != nil {
		out.Error = platformMessage(c, card.Error)
	}
	hist := map[[2]string][]float64{}
	for _, p := range card.History {
		k := [2]string{p.Kind, p.Model}
		hist[k] = append(hist[k], p.Score)
	}
	rank := map[string]int{}
	for i, k := range scores.Kinds {
		rank[k] = i
	}
	for _, p := range card.Current {
		vals := hist[[2]string{p.Kind, p.Model}]
		out.Trends = append(out.Trends, scoresview.Trend{Kind: p.Kind, Model: p.Model, Score: p.Score, Band: p.Band, At: p.At,
			Values: vals, Spark: scoresview.SparkGeometry(vals, scoresview.SparkWidth, scoresview.SparkHeight)})
	}
	sort.SliceStable(out.Trends, func(i, j int) bool { return rank[out.Trends[i].Kind] < rank[out.Trends[j].Kind] })
	return out
}

// leadScoresCard shapes a lead's card for the lead page's scores card:
// the current values by kind, each with its trend line.
func leadScoresCard(c echo.Context, card scores.Card) leadsview.Scores {
	var out leadsview.Scores
	if card.Error != nil {
		out.Error = platformMessage(c, card.Error)
		out.Cached = len(card.Current) > 0
	}
	hist := map[[2]string][]float64{}
	for _, p := range card.History {
		k := [2]string{p.Kind, p.Model}
		hist[k] = append(hist[k], p.Score)
	}
	for _, p := range card.Current {
		vals := hist[[2]string{p.Kind, p.Model}]
		row := leadsview.ScoreRow{Model: p.Model, Score: p.Score, Points: len(vals)}
		if len(vals) >= 2 {
			row.Trend = scoresview.Sparkline(scoresview.SparkGeometry(vals, scoresview.SparkWidth, scoresview.SparkHeight),
				p.Kind+" "+p.Model)
		}
		switch p.Kind {
		case db.ScoreIdentity:
			row.Grade = p.Band
			out.Identity = append(out.Identity, row)
		case db.ScoreActive:
			row.Level = p.Band
			out.Activity = append(out.Activity, row)
		default:
			row.Level = p.Band
			out.Intention = append(out.Intention, row)
		}
	}
	sort.SliceStable(out.Intention, func(i, j int) bool { return out.Intention[i].Score > out.Intention[j].Score })
	return out
}
