package web

import (
	"context"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/scores"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// The persons area (issue 8): a person's page, what the console knows of
// one person (an omni_user_uuid): the identities imports resolved to
// them, the local crowds that list them, those imports, and their scores
// with trends (asked of the platform after the page, ?part=scores).
type personsArea struct {
	*kit
	people personReader
}

// personReader is what a person's page asks of internal/scores.
type personReader interface {
	Person(ctx context.Context, uuid string, r scores.Reader) (scores.Person, error)
	FetchOne(ctx context.Context, subject, id string) (scores.Card, error)
}

func (a *personsArea) showPerson(c echo.Context) error {
	uuid := c.Param("uuid")
	if uuid == "" || len(uuid) > boardIDMax {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	if c.QueryParam("part") == "scores" {
		return a.showPersonScores(c, uuid)
	}
	r := scores.Reader{}
	if u := currentUser(c); u != nil {
		r.Role = u.Role
	}
	p, err := a.people.Person(c.Request().Context(), uuid, r)
	if err != nil {
		return err
	}
	v := scoresview.PersonPage{UUID: uuid, Masked: p.Masked, CardURL: scoresview.PersonPath(uuid) + "?part=scores"}
	for _, id := range p.Identities {
		v.Identities = append(v.Identities, scoresview.PersonIdentity{Value: id.Value, Kind: id.Kind, Name: id.Name})
	}
	for _, im := range p.Imports {
		v.Imports = append(v.Imports, scoresview.PersonImport{ID: im.ID, FileName: im.FileName, Crowd: im.CrowdName,
			Value: im.Value, Kind: im.Kind, Created: im.Created, At: im.At})
	}
	for _, cr := range p.Crowds {
		v.Crowds = append(v.Crowds, scoresview.PersonCrowd{ID: cr.GroupID, Name: cr.Name, Joined: cr.Joined})
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "scores.person.title"), Section: "crowds", Body: scoresview.PersonView(v)})
}

// showPersonScores is the person's scores card: asked of the platform now
// (the cache keeps the history), or the cache with the platform's error.
func (a *personsArea) showPersonScores(c echo.Context, uuid string) error {
	card, err := a.people.FetchOne(c.Request().Context(), db.SubjectUser, uuid)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, scoresview.CardView(scoreCard(c, card)))
}

// scoreCard draws a person's card: one trend per kind and model, in the
// kinds' order, its history as a sparkline.
func scoreCard(c echo.Context, card scores.Card) scoresview.Card {
	var out scoresview.Card
	if card.Error != nil {
		out.Error = platformMessage(c, card.Error)
	}
	for _, tr := range card.Trends() {
		out.Trends = append(out.Trends, scoresview.Trend{Kind: tr.Kind, Model: tr.Model, Score: tr.Score, Band: tr.Band, At: tr.At,
			Values: tr.Values, Spark: scoresview.SparkGeometry(tr.Values, scoresview.SparkWidth, scoresview.SparkHeight)})
	}
	return out
}

// leadScoresCard draws a lead's card on the lead page: the current
// values by kind (intention highest first), each with its trend line.
func leadScoresCard(c echo.Context, card scores.Card) leadsview.Scores {
	var out leadsview.Scores
	if card.Error != nil {
		out.Error = platformMessage(c, card.Error)
		out.Cached = len(card.Current) > 0
	}
	for _, tr := range card.Trends() {
		row := leadsview.ScoreRow{Model: tr.Model, Score: tr.Score, Points: len(tr.Values)}
		if len(tr.Values) >= 2 {
			row.Trend = scoresview.Sparkline(scoresview.SparkGeometry(tr.Values, scoresview.SparkWidth, scoresview.SparkHeight),
				tr.Kind+" "+tr.Model)
		}
		switch tr.Kind {
		case db.ScoreIdentity:
			row.Grade = tr.Band
			out.Identity = append(out.Identity, row)
		case db.ScoreActive:
			row.Level = tr.Band
			out.Activity = append(out.Activity, row)
		default:
			row.Level = tr.Band
			out.Intention = append(out.Intention, row)
		}
	}
	sort.SliceStable(out.Intention, func(i, j int) bool { return out.Intention[i].Score > out.Intention[j].Score })
	return out
}
