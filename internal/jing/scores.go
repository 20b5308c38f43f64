package jing

import (
	"context"
	"fmt"
	"slices"
)

// ScoreKind is one of the platform's scorings (评分管理).
type ScoreKind string

const (
	// ScoreIdentity grades how well a person or lead fits the target
	// profile: Grade A (best) to D.
	ScoreIdentity ScoreKind = "identity"
	// ScoreActivity totals behaviour points: Level hot, warm, cold or inactive.
	ScoreActivity ScoreKind = "active"
	// ScoreIntention rates intent per product: several Scores per id, with
	// Model naming the product and Level high, medium or low.
	ScoreIntention ScoreKind = "intention"
)

// Score is one score of one id.
type Score struct {
	ID    string  `json:"id"`
	Model string  `json:"model"` // the scoring model, or the product for intention
	Score float64 `json:"score"`
	Grade string  `json:"grade,omitempty"` // identity
	Level string  `json:"level,omitempty"` // activity, intention
}

// UserScores returns the kind of score of persons (omni_user_uuids),
// asking in batches of the endpoint's MaxBatch (100). Persons the
// platform does not know are left out. On an error, the scores of the
// batches done so far are returned with it.
func (c *Client) UserScores(ctx context.Context, kind ScoreKind, omniUserUUIDs []string) ([]Score, error) {
	return c.scores(ctx, "user", kind, "omni_user_uuids", omniUserUUIDs)
}

// LeadScores is UserScores for leads (jing_uuids).
func (c *Client) LeadScores(ctx context.Context, kind ScoreKind, jingUUIDs []string) ([]Score, error) {
	return c.scores(ctx, "lead", kind, "jing_uuids", jingUUIDs)
}

func (c *Client) scores(ctx context.Context, subject string, kind ScoreKind, field string, ids []string) ([]Score, error) {
	if !slices.Contains([]ScoreKind{ScoreIdentity, ScoreActivity, ScoreIntention}, kind) {
		return nil, fmt.Errorf("jing: unknown score kind %q", kind)
	}
	key := "scores." + subject + "_" + string(kind)
	var all []Score
	err := c.inBatches(ctx, key, ids, func(batch []string) error {
		var out struct {
			Items []Score `json:"items"`
		}
		err := c.Call(ctx, key, map[string][]string{field: batch}, &out)
		all = append(all, out.Items...)
		return err
	})
	return all, err
}

// ClearUserActivity sets the activity score of persons back to zero and
// returns how many the platform cleared (unknown ids are not counted).
// It is destructive: the points cannot be restored.
func (c *Client) ClearUserActivity(ctx context.Context, omniUserUUIDs []string) (int, error) {
	const key = "scores.user_active_clear"
	cleared := 0
	err := c.inBatches(ctx, key, omniUserUUIDs, func(batch []string) error {
		var out struct {
			Cleared int `json:"cleared"`
		}
		err := c.Call(ctx, key, map[string][]string{"omni_user_uuids": batch}, &out)
		cleared += out.Cleared
		return err
	})
	return cleared, err
}

// inBatches calls do with the distinct ids, at most the endpoint's
// MaxBatch at a time, stopping at the first error.
func (c *Client) inBatches(ctx context.Context, key string, ids []string, do func([]string) error) error {
	ids = distinctValues(ids)
	for batch := range slices.Chunk(ids, c.batchLimit(key, len(ids))) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := do(batch); err != nil {
			return err
		}
	}
	return nil
}
