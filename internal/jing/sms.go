package jing

import "context"

// SMSMessage is an SMS the tenant wrote and the platform approved (短信管理).
// Only approved messages are listed, and only they can be sent.
type SMSMessage struct {
	SMSID     string `json:"sms_id"`
	Name      string `json:"name"`
	Signature string `json:"signature"`
	// Content may hold {name}-style variables the platform fills per recipient.
	Content string `json:"content"`
	Status  string `json:"status"`
}

// ListSMS returns one page of the approved SMS messages.
func (c *Client) ListSMS(ctx context.Context, page PageRequest) (Page[SMSMessage], error) {
	return onePage[SMSMessage](ctx, c, "sms.list", page)
}

// onePage calls a list endpoint for one page.
func onePage[T any](ctx context.Context, c *Client, key string, body any) (Page[T], error) {
	var p Page[T]
	err := c.Call(ctx, key, body, &p)
	return p, err
}

// SMSTaskInput is a send to prepare: one message to either crowds or an
// explicit list of mobiles, never both.
type SMSTaskInput struct {
	SMSID    string   `json:"sms_id"`
	Name     string   `json:"name"`
	GroupIDs []int64  `json:"group_ids,omitempty"`
	Mobiles  []string `json:"mobiles,omitempty"`
	// SendTime is when sending begins, in Unix seconds; 0 begins it as
	// soon as the task is sent (SendSMSTask).
	SendTime int64 `json:"send_time"`
}

// CreateSMSTask prepares a send and returns its task id. Nothing is sent
// until SendSMSTask. Creating is not idempotent (a repeat makes a second
// task), so it is not retried after an unknown outcome either.
func (c *Client) CreateSMSTask(ctx context.Context, in SMSTaskInput) (string, error) {
	var out struct {
		TaskID string `json:"task_id"`
	}
	err := c.Call(ctx, "sms.task_create", in, &out)
	return out.TaskID, err
}

// SMSSendResult is what sms.send answers.
type SMSSendResult struct {
	TaskID string `json:"task_id"`
	// Status is "sending", or "scheduled" for a task whose send_time is ahead.
	Status string `json:"status"`
}

// SendSMSTask starts sending a task's messages.
//
// Sending is not idempotent: a repeated call may message everyone again.
// So this call is never retried, whatever happens. When the connection
// fails after the request went out (a timeout, a dropped connection, a
// gateway error) the error is KindOutcomeUnknown: the task may well be
// sending. Check it with SMSSendDetail before anything is sent again;
// never loop on this call. (The sandbox refuses a second send of a task
// with 40004 "任务已发送"; the real platform may not.)
func (c *Client) SendSMSTask(ctx context.Context, taskID string) (SMSSendResult, error) {
	var out SMSSendResult
	err := c.Call(ctx, "sms.send", taskRef{TaskID: taskID}, &out)
	return out, err
}

type taskRef struct {
	TaskID string `json:"task_id"`
}

type taskPage struct {
	TaskID string `json:"task_id"`
	PageRequest
}

// SMSSendDetail is a task's progress and one page of its recipients.
type SMSSendDetail struct {
	// Status is draft (not sent yet), scheduled, sending or sent.
	Status string `json:"status"`
	Total  int    `json:"total"`
	// Sent counts messages handed to the carriers, delivered and failed
	// ones included: when all is done, Sent = Delivered + Failed = Total.
	Sent      int           `json:"sent"`
	Delivered int           `json:"delivered"`
	Failed    int           `json:"failed"`
	Items     []SMSDelivery `json:"items"`
	Meta      Meta          `json:"_meta"`
}

// Info is what paging needs to know of the page of recipients.
func (d SMSSendDetail) Info() PageInfo { return PageInfo{Items: len(d.Items), Meta: d.Meta} }

// Done reports a task every recipient of which has a final outcome.
func (d SMSSendDetail) Done() bool { return d.Status == "sent" }

// SMSDelivery is one recipient's outcome.
type SMSDelivery struct {
	Mobile string `json:"mobile"`
	Status string `json:"status"` // pending | sent | delivered | failed
	Error  string `json:"error"`  // why it failed, e.g. 空号, 停机, 用户拒收
	Time   int64  `json:"time"`   // of the latest status, Unix seconds
}

// SMSSendDetail returns a task's progress with one page of recipients.
func (c *Client) SMSSendDetail(ctx context.Context, taskID string, page PageRequest) (SMSSendDetail, error) {
	var out SMSSendDetail
	err := c.Call(ctx, "sms.send_detail", taskPage{TaskID: taskID, PageRequest: page}, &out)
	return out, err
}
