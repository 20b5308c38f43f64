package jing

import (
	"context"
	"iter"
	"slices"
)

// Crowd is a static crowd (用户群组): an audience the marketing team sends
// to. Its group_id is an integer.
type Crowd struct {
	GroupID          int64  `json:"group_id"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	UserCount        int    `json:"user_count"`
	CreatedTimestamp int64  `json:"created_timestamp"`
	UpdatedTimestamp int64  `json:"updated_timestamp"`
}

// CrowdMember is one person of a crowd and when they joined it.
type CrowdMember struct {
	OmniUserUUID    string `json:"omni_user_uuid"`
	JoinedTimestamp int64  `json:"joined_timestamp"`
}

// CrowdListRequest is crowds.list's body; Keyword filters by name (the
// sandbox also matches the description).
type CrowdListRequest struct {
	PageRequest
	Keyword string `json:"keyword,omitempty"`
}

// CrowdImportResult counts the persons an import added (or found already
// there) and the uuids it could not use.
type CrowdImportResult struct {
	SuccessNumber int `json:"success_number"`
	ErrorNumber   int `json:"error_number"`
}

// crowdRef names one crowd.
type crowdRef struct {
	GroupID int64 `json:"group_id"`
}

type crowdBody struct {
	GroupID     int64  `json:"group_id,omitempty"` // not on create
	Name        string `json:"name"`
	Description string `json:"description"`
}

type crowdPageBody struct {
	GroupID int64 `json:"group_id"`
	PageRequest
}

// ListCrowds returns one page of crowds.
func (c *Client) ListCrowds(ctx context.Context, req CrowdListRequest) (Page[Crowd], error) {
	var p Page[Crowd]
	err := c.Call(ctx, "crowds.list", req, &p)
	return p, err
}

// AllCrowds walks every crowd matching keyword ("" for all).
func (c *Client) AllCrowds(ctx context.Context, keyword string) iter.Seq2[Crowd, error] {
	return Pages[Crowd](ctx, c, "crowds.list", func(p PageRequest) any { return CrowdListRequest{p, keyword} })
}

// CrowdDetail returns one crowd; an unknown group is a 40004 KindBusiness error.
func (c *Client) CrowdDetail(ctx context.Context, groupID int64) (Crowd, error) {
	var cr Crowd
	err := c.Call(ctx, "crowds.detail", crowdRef{groupID}, &cr)
	return cr, err
}

// CrowdUsers returns one page of a crowd's members.
func (c *Client) CrowdUsers(ctx context.Context, groupID int64, page PageRequest) (Page[CrowdMember], error) {
	var p Page[CrowdMember]
	err := c.Call(ctx, "crowds.users", crowdPageBody{groupID, page}, &p)
	return p, err
}

// AllCrowdUsers walks every member of a crowd.
func (c *Client) AllCrowdUsers(ctx context.Context, groupID int64) iter.Seq2[CrowdMember, error] {
	return Pages[CrowdMember](ctx, c, "crowds.users", func(p PageRequest) any { return crowdPageBody{groupID, p} })
}

// CreateCrowd makes an empty crowd and returns its group_id. A name
// already in use is a 40004 KindBusiness error.
func (c *Client) CreateCrowd(ctx context.Context, name, description string) (int64, error) {
	var out struct {
		GroupID int64 `json:"group_id"`
	}
	err := c.Call(ctx, "crowds.create", crowdBody{Name: name, Description: description}, &out)
	return out.GroupID, err
}

// UpdateCrowd renames a crowd and sets its description.
func (c *Client) UpdateCrowd(ctx context.Context, groupID int64, name, description string) error {
	return c.Call(ctx, "crowds.update", crowdBody{GroupID: groupID, Name: name, Description: description}, nil)
}

// DeleteCrowd deletes a crowd (the persons stay).
func (c *Client) DeleteCrowd(ctx context.Context, groupID int64) error {
	return c.Call(ctx, "crowds.delete", crowdRef{groupID}, nil)
}

// ImportToCrowd adds persons to a crowd by omni_user_uuid, in batches of
// the endpoint's MaxBatch, and sums the counts. The platform's import is
// idempotent (a member already there counts as a success and is not
// added twice), so a failed import may simply be run again. On an error
// the result holds the batches done before it.
func (c *Client) ImportToCrowd(ctx context.Context, groupID int64, uuids []string) (CrowdImportResult, error) {
	var total CrowdImportResult
	for batch := range slices.Chunk(uuids, c.batchLimit("crowds.import", len(uuids))) {
		var r CrowdImportResult
		body := struct {
			GroupID       int64    `json:"group_id"`
			OmniUserUUIDs []string `json:"omni_user_uuids"`
		}{groupID, batch}
		if err := c.Call(ctx, "crowds.import", body, &r); err != nil {
			return total, err
		}
		total.SuccessNumber += r.SuccessNumber
		total.ErrorNumber += r.ErrorNumber
	}
	return total, nil
}
