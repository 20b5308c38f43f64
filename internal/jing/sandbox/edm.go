package sandbox

import (
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// mailbox is a sender address; only a verified one may send.
type mailbox struct {
	MailboxID  string `json:"mailbox_id"`
	Address    string `json:"address"`
	SenderName string `json:"sender_name"`
	Verified   bool   `json:"verified"`
}

// edmSend is one email send (a campaign) to an audience.
type edmSend struct {
	EDMID     string  `json:"edm_id"`
	Name      string  `json:"name"`
	Subject   string  `json:"subject"`
	MailboxID string  `json:"mailbox_id"`
	HTML      string  `json:"html"`
	GroupIDs  []int64 `json:"group_ids"`
	// Emails is the audience, fixed when the send is saved. Seeded sends
	// have none: their Total recipients are drawn from the id.
	Emails []string `json:"emails,omitempty"`
	Total  int      `json:"total"`
	// Draft marks a send saved on the platform's own console and never
	// scheduled; FailReason one the platform gave up on.
	Draft      bool   `json:"draft,omitempty"`
	FailReason string `json:"fail_reason,omitempty"`
	StartMS    int64  `json:"start_ms"` // unix ms sending begins; 0 for a draft
	CreatedAt  int64  `json:"created_timestamp"`
	UpdatedAt  int64  `json:"updated_timestamp"`

	settled *edmStats // the final figures, once nothing can change any more
}

var seededMailboxes = []mailbox{
	{Address: "marketing@xingchen-auto.com.cn", SenderName: "星辰汽车", Verified: true},
	{Address: "newsletter@xingchen-auto.com.cn", SenderName: "星辰汽车资讯", Verified: true},
	{Address: "service@xingchen-auto.com.cn", SenderName: "星辰汽车客户服务", Verified: true},
	{Address: "events@xingchen-auto.cn", SenderName: "星辰汽车活动中心", Verified: false},
}

// seededEDM is the history, oldest first: the unverified mailbox's send
// failed, and the newest is a draft.
var seededEDM = []struct{ name, subject string }{
	{"9月品牌月刊", "星辰汽车 9 月月刊：新车、活动与用车小贴士"},
	{"X7 预售通知", "星辰 X7 旗舰SUV 预售开启，前 500 名订车享专属礼遇"},
	{"试驾会邀请-上海", "诚邀您参加本周六星辰汽车上海试驾会"},
	{"金融方案介绍", "首付 20% 起，36 期 0 息：星辰汽车 10 月金融方案"},
	{"车展邀请-活动中心", "广州国际车展 | 星辰展台邀您共赏"},
	{"车主保养季", "秋冬保养季：工时费 8 折，预约即送空调滤芯"},
	{"新能源补贴解读", "2026 新能源购车补贴政策解读"},
	{"10月品牌月刊", "星辰汽车 10 月月刊：X7 上市、车主故事"},
	{"客户满意度调研", "邀请您参加星辰汽车客户满意度调研，完成即得 200 积分"},
	{"11月品牌月刊", "星辰汽车 11 月月刊：冬季用车指南"},
}

func (st *sendState) seedEDM(rng *mrand.Rand) {
	for _, m := range seededMailboxes {
		m.MailboxID = uuid22(rng)
		st.Mailboxes = append(st.Mailboxes, &m)
	}
	last := len(seededEDM) - 1
	for i, e := range seededEDM {
		created := daysBefore(rng, 6*(last-i)+rng.IntN(4))
		send := &edmSend{EDMID: uuid22(rng), Name: e.name, Subject: e.subject, HTML: edmHTML(e.subject),
			MailboxID: st.Mailboxes[rng.IntN(3)].MailboxID, Total: 800 + rng.IntN(5200),
			CreatedAt: created.Unix(), UpdatedAt: created.Unix()}
		switch {
		case i == last:
			send.Draft, send.Total = true, 0 // no audience chosen yet
		case strings.Contains(e.name, "活动中心"):
			send.MailboxID, send.FailReason = st.Mailboxes[3].MailboxID, "发件邮箱验证已失效"
			fallthrough
		default:
			send.StartMS = created.Add(time.Duration(30+rng.IntN(600)) * time.Minute).UnixMilli()
		}
		st.EDMSends = append(st.EDMSends, send)
	}
}

func edmHTML(subject string) string {
	return `<html><body style="font-family:sans-serif"><h1>` + subject + `</h1>` +
		`<p>{name}您好，</p><p>感谢您一直以来对星辰汽车的关注。点击下方按钮了解详情。</p>` +
		`<p><a href="https://www.xingchen-auto.com.cn/?utm_source=edm">查看详情</a></p>` +
		`<p style="color:#999">如不希望再收到此类邮件，请<a href="{unsubscribe}">退订</a>。</p></body></html>`
}

func (s *Server) edmHandlers() map[string]handler {
	return map[string]handler{
		"edm.mailboxes": s.listMailboxes,
		"edm.create":    s.createEDM,
		"edm.detail":    s.edmDetail,
		"edm.update":    s.updateEDM,
		"edm.delete":    s.deleteEDM,
		"edm.list":      s.listEDM,
		"edm.records":   s.edmRecords,
	}
}

func (s *Server) listMailboxes(c *call) (any, error) {
	return map[string]any{"items": s.tenant.Sends.Mailboxes}, nil
}

type edmInput struct {
	Name      string  `json:"name"`
	Subject   string  `json:"subject"`
	MailboxID string  `json:"mailbox_id"`
	HTML      string  `json:"html"`
	GroupIDs  []int64 `json:"group_ids"`
	SendTime  int64   `json:"send_time"`
}

// prepareEDM validates a send as created or updated: required fields and
// formats, then the mailbox, then the crowds. It returns when sending
// begins and the audience.
func (s *Server) prepareEDM(in edmInput, now time.Time) (int64, []string, error) {
	for _, f := range []struct{ name, value string }{
		{"name", in.Name}, {"subject", in.Subject}, {"mailbox_id", in.MailboxID}, {"html", in.HTML}} {
		if strings.TrimSpace(f.value) == "" {
			return 0, nil, missing(f.name)
		}
	}
	if len(in.GroupIDs) == 0 {
		return 0, nil, missing("group_ids")
	}
	start, err := startMS(in.SendTime, now)
	if err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(s.tenant.Sends.Mailboxes, func(m *mailbox) bool { return m.MailboxID == in.MailboxID })
	switch {
	case i < 0:
		return 0, nil, business("发件邮箱不存在")
	case !s.tenant.Sends.Mailboxes[i].Verified:
		return 0, nil, business("发件邮箱未通过验证，不能用于发送")
	}
	emails, err := s.audience(in.GroupIDs, func(p personContact) string { return p.Email })
	if err == nil && len(emails) == 0 {
		err = business("所选人群中没有可发送的邮箱地址")
	}
	return start, emails, err
}

func (s *Server) createEDM(c *call) (any, error) {
	var in edmInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	start, emails, err := s.prepareEDM(in, c.now)
	if err != nil {
		return nil, err
	}
	e := &edmSend{EDMID: s.newUUID(), CreatedAt: c.now.Unix()}
	e.apply(in, start, emails, c.now)
	s.tenant.Sends.EDMSends = append(s.tenant.Sends.EDMSends, e)
	s.markChanged()
	return map[string]string{"edm_id": e.EDMID}, nil
}

func (e *edmSend) apply(in edmInput, start int64, emails []string, now time.Time) {
	e.Name, e.Subject, e.MailboxID, e.HTML = strings.TrimSpace(in.Name), in.Subject, in.MailboxID, in.HTML
	e.GroupIDs, e.Emails, e.Total, e.StartMS, e.UpdatedAt = in.GroupIDs, emails, len(emails), start, now.Unix()
}

// input is the send as a request would give it (update overlays the request on it).
func (e *edmSend) input() edmInput {
	return edmInput{Name: e.Name, Subject: e.Subject, MailboxID: e.MailboxID, HTML: e.HTML,
		GroupIDs: e.GroupIDs, SendTime: unixSeconds(e.StartMS)}
}

// editable reports a send not yet started: a draft, or one scheduled later.
func (e *edmSend) editable(nowMS int64) bool {
	return e.Draft || (e.FailReason == "" && nowMS < e.StartMS)
}

type edmRef struct {
	EDMID string `json:"edm_id"`
	// SendTime is only looked at to tell whether an update carries one.
	SendTime *int64 `json:"send_time"`
	jing.PageRequest
}

func (s *Server) findEDM(c *call, ref *edmRef) (int, *edmSend, error) {
	if err := c.decode(ref); err != nil {
		return 0, nil, err
	}
	if ref.EDMID == "" {
		return 0, nil, missing("edm_id")
	}
	for i, e := range s.tenant.Sends.EDMSends {
		if e.EDMID == ref.EDMID {
			return i, e, nil
		}
	}
	return 0, nil, business("邮件不存在")
}

// unstartedEDM finds the send a request names, refusing one that has
// started: it can no longer be changed (verb: 修改, 删除).
func (s *Server) unstartedEDM(c *call, ref *edmRef, verb string) (int, *edmSend, error) {
	i, e, err := s.findEDM(c, ref)
	if err == nil && !e.editable(c.now.UnixMilli()) {
		err = business("邮件已开始发送，不能" + verb)
	}
	return i, e, err
}

// updateEDM changes a send not yet started. Fields absent from the request
// keep their value; a draft stays a draft unless the request sets send_time.
func (s *Server) updateEDM(c *call) (any, error) {
	var ref edmRef
	_, e, err := s.unstartedEDM(c, &ref, "修改")
	if err != nil {
		return nil, err
	}
	in := e.input()
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	start, emails, err := s.prepareEDM(in, c.now)
	if err != nil {
		return nil, err
	}
	e.Draft = e.Draft && ref.SendTime == nil
	if e.Draft {
		start = 0
	}
	e.apply(in, start, emails, c.now)
	s.markChanged()
	return map[string]string{"edm_id": e.EDMID}, nil
}

func (s *Server) deleteEDM(c *call) (any, error) {
	var ref edmRef
	i, e, err := s.unstartedEDM(c, &ref, "删除")
	if err != nil {
		return nil, err
	}
	s.tenant.Sends.EDMSends = slices.Delete(s.tenant.Sends.EDMSends, i, i+1)
	s.markChanged()
	return map[string]string{"edm_id": e.EDMID}, nil
}

// edmStats are a send's figures; delivered counts opened ones, and opened clicked ones.
type edmStats struct {
	Total     int `json:"total"`
	Delivered int `json:"delivered"`
	Opened    int `json:"opened"`
	Clicked   int `json:"clicked"`
	Bounced   int `json:"bounced"`
	Failed    int `json:"-"`
}

func (st *edmStats) count(status string) {
	switch status {
	case "clicked":
		st.Clicked++
		fallthrough
	case "opened":
		st.Opened++
		fallthrough
	case "delivered":
		st.Delivered++
	case "bounced":
		st.Bounced++
	case "failed":
		st.Failed++
	}
}

type edmView struct {
	EDMID   string `json:"edm_id"`
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Status  string `json:"status"` // draft | scheduled | sending | sent | failed
	edmStats
	SendTime int64 `json:"send_time"`
}

type edmDetailView struct {
	edmView
	MailboxID        string  `json:"mailbox_id"`
	HTML             string  `json:"html"`
	GroupIDs         []int64 `json:"group_ids"`
	Failed           int     `json:"failed"`
	CreatedTimestamp int64   `json:"created_timestamp"`
	UpdatedTimestamp int64   `json:"updated_timestamp"`
}

func (s *Server) edmDetail(c *call) (any, error) {
	var ref edmRef
	_, e, err := s.findEDM(c, &ref)
	if err != nil {
		return nil, err
	}
	v := s.tenant.Sends.edmView(e, c.now.UnixMilli())
	return edmDetailView{edmView: v, MailboxID: e.MailboxID, HTML: e.HTML, GroupIDs: e.GroupIDs,
		Failed: v.Failed, CreatedTimestamp: e.CreatedAt, UpdatedTimestamp: e.UpdatedAt}, nil
}

var edmStatuses = []string{"draft", "scheduled", "sending", "sent", "failed"}

func (s *Server) listEDM(c *call) (any, error) {
	var req struct {
		jing.PageRequest
		Status string `json:"status"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Status != "" && !slices.Contains(edmStatuses, req.Status) {
		return nil, invalid("status", "必须是 "+strings.Join(edmStatuses, "、")+" 之一")
	}
	var views []edmView
	for _, e := range s.tenant.Sends.EDMSends {
		if v := s.tenant.Sends.edmView(e, c.now.UnixMilli()); req.Status == "" || v.Status == req.Status {
			views = append(views, v)
		}
	}
	slices.Reverse(views) // newest first
	return paginate(views, req.PageRequest)
}

// edmView is a send as lists show it at nowMS.
func (st *sendState) edmView(e *edmSend, nowMS int64) edmView {
	v := edmView{EDMID: e.EDMID, Name: e.Name, Subject: e.Subject, SendTime: unixSeconds(e.StartMS)}
	v.edmStats = st.edmFigures(e, nowMS)
	switch {
	case e.Draft:
		v.Status = "draft"
	case e.FailReason != "":
		v.Status = "failed"
	default:
		v.Status = sendProgress(e.StartMS, nowMS, v.Total, v.Delivered+v.Bounced+v.Failed)
	}
	return v
}

// edmSettleMS is when every outcome of a send is final, opens and clicks included.
const edmSettleMS = 12000

// edmFigures counts the recipients' outcomes, remembering them once final
// (lists show every send, and seeded ones have thousands of recipients).
func (st *sendState) edmFigures(e *edmSend, nowMS int64) edmStats {
	if e.settled != nil {
		return *e.settled
	}
	figures := edmStats{Total: e.Total}
	if e.Draft || nowMS < e.StartMS {
		return figures
	}
	for i := range e.Total {
		status, _ := st.edmOutcome(e, i).at(nowMS - e.StartMS)
		figures.count(status)
	}
	if nowMS >= e.StartMS+st.span(edmSettleMS) {
		e.settled = &figures
	}
	return figures
}

type edmRecord struct {
	Email  string `json:"email"`
	Status string `json:"status"` // delivered | opened | clicked | bounced | failed
	Time   int64  `json:"time"`   // of that status, unix seconds
}

// edmRecords pages the recipients that have an outcome so far, in audience
// order: while a send is in progress the list grows.
func (s *Server) edmRecords(c *call) (any, error) {
	var ref edmRef
	_, e, err := s.findEDM(c, &ref)
	if err != nil {
		return nil, err
	}
	st := &s.tenant.Sends
	var records []edmRecord
	if !e.Draft {
		for i, email := range st.edmEmails(e) {
			if status, atMS := st.edmOutcome(e, i).at(c.now.UnixMilli() - e.StartMS); status != "" {
				records = append(records, edmRecord{Email: email, Status: status, Time: unixSeconds(e.StartMS + atMS)})
			}
		}
	}
	return paginate(records, ref.PageRequest)
}

// edmEmails is a send's audience: as saved, or drawn from the id for a seeded send.
func (st *sendState) edmEmails(e *edmSend) []string {
	if e.Emails != nil {
		return e.Emails
	}
	return st.syntheticAudience(e.EDMID, e.Total, func(r *mrand.Rand) string {
		return seedEmail(r, chineseName(r), -1)
	})
}

// edmOutcome is what happens to one email, in milliseconds after the send
// starts, over about ten seconds: ~96% delivered (a quarter of those
// opened, a fifth of the openers clicking), ~2% bounced, ~2% failed.
type edmOutcome struct {
	result          string // delivered | bounced | failed
	doneMS          int64
	openMS, clickMS int64 // 0: never
}

func (st *sendState) edmOutcome(e *edmSend, i int) edmOutcome {
	r := fate(st.Salt, "edm", e.EDMID, strconv.Itoa(i))
	u := r.Float64()
	switch {
	case e.FailReason != "" || u < 0.02:
		return edmOutcome{result: "failed", doneMS: st.span(inRange(r, 300, 2000))}
	case u < 0.04:
		return edmOutcome{result: "bounced", doneMS: st.span(inRange(r, 1000, 5000))}
	}
	o := edmOutcome{result: "delivered", doneMS: inRange(r, 500, 6000)}
	if r.Float64() < 0.26 {
		o.openMS = o.doneMS + inRange(r, 500, 4000)
		if r.Float64() < 0.2 {
			o.clickMS = o.openMS + inRange(r, 200, 1500)
		}
	}
	o.doneMS, o.openMS, o.clickMS = st.span(o.doneMS), st.span(o.openMS), st.span(o.clickMS)
	return o
}

// at is the outcome's latest status elapsedMS after the start, and when it
// happened; "" before anything did.
func (o edmOutcome) at(elapsedMS int64) (string, int64) {
	switch {
	case elapsedMS < o.doneMS:
		return "", 0
	case o.clickMS > 0 && elapsedMS >= o.clickMS:
		return "clicked", o.clickMS
	case o.openMS > 0 && elapsedMS >= o.openMS:
		return "opened", o.openMS
	}
	return o.result, o.doneMS
}
