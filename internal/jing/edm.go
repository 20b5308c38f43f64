package jing

import (
	"context"
	"iter"
)

// Mailbox is a sender address of email sends (EDM). Only a verified one
// can send.
type Mailbox struct {
	MailboxID  string `json:"mailbox_id"`
	Address    string `json:"address"`
	SenderName string `json:"sender_name"`
	Verified   bool   `json:"verified"`
}

// Mailboxes lists the tenant's sender addresses, verified or not.
func (c *Client) Mailboxes(ctx context.Context) ([]Mailbox, error) {
	var out struct {
		Items []Mailbox `json:"items"`
	}
	err := c.Call(ctx, "edm.mailboxes", struct{}{}, &out)
	return out.Items, err
}

// EDMInput is an email send as created or updated.
type EDMInput struct {
	Name      string  `json:"name"`
	Subject   string  `json:"subject"`
	MailboxID string  `json:"mailbox_id"`
	HTML      string  `json:"html"`
	GroupIDs  []int64 `json:"group_ids"`
	// SendTime is when sending begins, in Unix seconds; 0 begins it at
	// once. A future one schedules the send, which can then be updated or
	// deleted until it begins.
	SendTime int64 `json:"send_time"`
}

// CreateEDM creates an email send and returns its id. With SendTime 0 it
// starts at once. It is not idempotent (a repeat may email everyone
// again), so it is never retried: an unknown outcome is KindOutcomeUnknown,
// to be checked with ListEDM before trying again.
func (c *Client) CreateEDM(ctx context.Context, in EDMInput) (string, error) {
	var out edmRef
	err := c.Call(ctx, "edm.create", in, &out)
	return out.EDMID, err
}

// EDMSend is an email send as lists show it. Delivered counts opened
// emails too, and Opened counts clicked ones.
type EDMSend struct {
	EDMID     string `json:"edm_id"`
	Name      string `json:"name"`
	Subject   string `json:"subject"`
	Status    string `json:"status"` // draft | scheduled | sending | sent | failed
	Total     int    `json:"total"`
	Delivered int    `json:"delivered"`
	Opened    int    `json:"opened"`
	Clicked   int    `json:"clicked"`
	Bounced   int    `json:"bounced"`
	SendTime  int64  `json:"send_time"` // Unix seconds; 0 for a draft
}

// EDMSendDetail is one send with its content and audience.
type EDMSendDetail struct {
	EDMSend
	MailboxID        string  `json:"mailbox_id"`
	HTML             string  `json:"html"`
	GroupIDs         []int64 `json:"group_ids"`
	Failed           int     `json:"failed"`
	CreatedTimestamp int64   `json:"created_timestamp"`
	UpdatedTimestamp int64   `json:"updated_timestamp"`
}

// Editable reports a send that has not started: only such a send can be
// updated or deleted.
func (d EDMSend) Editable() bool { return d.Status == "draft" || d.Status == "scheduled" }

type edmRef struct {
	EDMID string `json:"edm_id"`
}

// EDMDetail returns one send.
func (c *Client) EDMDetail(ctx context.Context, edmID string) (EDMSendDetail, error) {
	var out EDMSendDetail
	err := c.Call(ctx, "edm.detail", edmRef{edmID}, &out)
	return out, err
}

// UpdateEDM replaces a send's content, audience and time. Only a send not
// yet started can change; the platform answers 40004 (KindBusiness) for
// one that has. As on creation, SendTime 0 starts the send at once (a
// draft included): keep a future time to keep it scheduled.
func (c *Client) UpdateEDM(ctx context.Context, edmID string, in EDMInput) error {
	body := struct {
		edmRef
		EDMInput
	}{edmRef{edmID}, in}
	return c.Call(ctx, "edm.update", body, nil)
}

// DeleteEDM deletes a send not yet started (40004 for one that has).
func (c *Client) DeleteEDM(ctx context.Context, edmID string) error {
	return c.Call(ctx, "edm.delete", edmRef{edmID}, nil)
}

// EDMListRequest pages the sends, newest first; Status keeps one status.
type EDMListRequest struct {
	PageRequest
	Status string `json:"status,omitempty"`
}

// ListEDM returns one page of email sends.
func (c *Client) ListEDM(ctx context.Context, req EDMListRequest) (Page[EDMSend], error) {
	return onePage[EDMSend](ctx, c, "edm.list", req)
}

// EDMRecord is one recipient's outcome.
type EDMRecord struct {
	Email  string `json:"email"`
	Status string `json:"status"` // delivered | opened | clicked | bounced | failed
	Time   int64  `json:"time"`   // of that status, Unix seconds
}

type edmPage struct {
	EDMID string `json:"edm_id"`
	PageRequest
}

// EDMRecords returns one page of a send's recipients that have an outcome.
func (c *Client) EDMRecords(ctx context.Context, edmID string, page PageRequest) (Page[EDMRecord], error) {
	return onePage[EDMRecord](ctx, c, "edm.records", edmPage{EDMID: edmID, PageRequest: page})
}

// AllEDMRecords walks every record of a send. Walk a finished send: while
// one is in progress, records are still being added.
func (c *Client) AllEDMRecords(ctx context.Context, edmID string) iter.Seq2[EDMRecord, error] {
	return Pages[EDMRecord](ctx, c, "edm.records", func(p PageRequest) any {
		return edmPage{EDMID: edmID, PageRequest: p}
	})
}
