package sandbox

import (
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// smsMessage is an SMS the tenant wrote on the platform; only approved
// ones are listed and may be sent.
type smsMessage struct {
	SMSID     string `json:"sms_id"`
	Name      string `json:"name"`
	Signature string `json:"signature"`
	Content   string `json:"content"`
	Status    string `json:"status"` // approved | pending | rejected
}

// smsTask is one send of a message to an audience.
type smsTask struct {
	TaskID   string  `json:"task_id"`
	SMSID    string  `json:"sms_id"`
	Name     string  `json:"name"`
	GroupIDs []int64 `json:"group_ids,omitempty"`
	// Mobiles is the audience, fixed when the task is created. Seeded tasks
	// have none: their Total recipients are drawn from the task id.
	Mobiles   []string `json:"mobiles,omitempty"`
	Total     int      `json:"total"`
	SendTime  int64    `json:"send_time"` // requested start, unix seconds; 0: when sent
	CreatedAt int64    `json:"created_timestamp"`
	StartMS   int64    `json:"start_ms"` // unix ms sending begins; 0 until sms.send
}

const smsBrand = "星辰汽车"

var seededSMS = []struct{ name, content, status string }{
	{"新品试驾邀约", "【星辰汽车】{name}您好，全新星辰 X7 新品试驾会本周六在{store}开放报名，回复1预约，回T退订", "approved"},
	{"金融方案推送", "【星辰汽车】{name}您好，11月购车享首付20%起、36期0息金融方案，详询{phone}，回T退订", "approved"},
	{"保养提醒", "【星辰汽车】尊敬的{name}，您的爱车已行驶近{mileage}公里，建议近期到店保养，预约请回复Y，回T退订", "approved"},
	{"会员积分到期", "【星辰汽车】{name}您好，您有{points}积分将于月底到期，可在小程序兑换精美礼品，回T退订", "approved"},
	{"车展邀请函", "【星辰汽车】{name}您好，诚邀您莅临{city}国际车展星辰展台（{hall}），到场即赠定制礼品，回T退订", "approved"},
	{"订单交付通知", "【星辰汽车】{name}您好，您订购的{model}已到店，请于{date}前携带身份证到{store}办理交付", "approved"},
	{"双十二限时优惠", "【星辰汽车】{name}，双十二限时钜惠，旗舰SUV至高优惠3万元，名额有限，详情{link}", "pending"},
	{"老客户转介绍", "【星辰汽车】推荐好友购车，双方各得5000元现金红包！马上推荐{link}", "rejected"},
}

var seededSMSTaskNames = []string{
	"10月试驾会邀约-华东", "金融方案季度推送", "保养提醒-第三批", "积分到期提醒", "广州车展邀请",
	"X7 交付通知", "试驾会二次邀约", "沉睡客户唤醒", "保养提醒-第四批", "车展邀请-补发",
}

func (st *sendState) seedSMS(rng *mrand.Rand) {
	var approved []string
	for _, m := range seededSMS {
		id := uuid22(rng)
		st.SMSMessages = append(st.SMSMessages, &smsMessage{SMSID: id, Name: m.name, Signature: smsBrand, Content: m.content, Status: m.status})
		if m.status == "approved" {
			approved = append(approved, id)
		}
	}
	for i, name := range seededSMSTaskNames {
		created := daysBefore(rng, 3*(len(seededSMSTaskNames)-i)+rng.IntN(3))
		st.SMSTasks = append(st.SMSTasks, &smsTask{
			TaskID: uuid22(rng), SMSID: approved[rng.IntN(len(approved))], Name: name,
			Total: 300 + rng.IntN(4700), CreatedAt: created.Unix(),
			StartMS: created.Add(time.Duration(5+rng.IntN(120)) * time.Minute).UnixMilli(),
		})
	}
}

func (s *Server) smsHandlers() map[string]handler {
	return map[string]handler{
		"sms.list":        s.listSMS,
		"sms.task_create": s.createSMSTask,
		"sms.send":        s.sendSMSTask,
		"sms.send_detail": s.smsSendDetail,
	}
}

// SMSMessageIDs lists the ids of the SMS messages with an approval status
// ("approved", "pending", "rejected"). sms.list shows approved ones only,
// as the platform does; tests and demonstrations reach the others here.
func (s *Server) SMSMessageIDs(status string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, m := range s.tenant.Sends.SMSMessages {
		if m.Status == status {
			ids = append(ids, m.SMSID)
		}
	}
	return ids
}

func (s *Server) listSMS(c *call) (any, error) {
	var req jing.PageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var approved []*smsMessage
	for _, m := range s.tenant.Sends.SMSMessages {
		if m.Status == "approved" {
			approved = append(approved, m)
		}
	}
	return paginate(approved, req)
}

type smsTaskInput struct {
	SMSID    string   `json:"sms_id"`
	Name     string   `json:"name"`
	GroupIDs []int64  `json:"group_ids"`
	Mobiles  []string `json:"mobiles"`
	SendTime int64    `json:"send_time"`
}

// maxTaskMobiles bounds one task's explicit list (a sandbox guard: larger
// audiences go through crowds).
const maxTaskMobiles = 10000

func (s *Server) createSMSTask(c *call) (any, error) {
	var in smsTaskInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := in.check(c.now); err != nil {
		return nil, err
	}
	if err := s.approvedSMS(in.SMSID); err != nil {
		return nil, err
	}
	mobiles := distinctStrings(in.Mobiles)
	if len(in.GroupIDs) > 0 {
		var err error
		if mobiles, err = s.audience(in.GroupIDs, func(p personContact) string { return p.Mobile }); err != nil {
			return nil, err
		}
	}
	if len(mobiles) == 0 {
		return nil, business("所选人群中没有可发送的手机号")
	}
	t := &smsTask{TaskID: s.newUUID(), SMSID: in.SMSID, Name: strings.TrimSpace(in.Name), GroupIDs: in.GroupIDs,
		Mobiles: mobiles, Total: len(mobiles), SendTime: in.SendTime, CreatedAt: c.now.Unix()}
	s.tenant.Sends.SMSTasks = append(s.tenant.Sends.SMSTasks, t)
	s.markChanged()
	return map[string]string{"task_id": t.TaskID}, nil
}

// check is the request's own validation: required fields, then formats.
func (in smsTaskInput) check(now time.Time) error {
	switch {
	case in.SMSID == "":
		return missing("sms_id")
	case strings.TrimSpace(in.Name) == "":
		return missing("name")
	case len(in.GroupIDs) == 0 && len(in.Mobiles) == 0:
		return missing("group_ids 或 mobiles")
	case len(in.GroupIDs) > 0 && len(in.Mobiles) > 0:
		return invalid("mobiles", "不能与 group_ids 同时使用")
	case len(in.Mobiles) > maxTaskMobiles:
		return invalid("mobiles", fmt.Sprintf("一次最多 %d 个", maxTaskMobiles))
	}
	for _, m := range in.Mobiles {
		if !isMobile(m) {
			return invalid("mobiles", fmt.Sprintf("%q 不是有效的手机号", m))
		}
	}
	_, err := startMS(in.SendTime, now)
	return err
}

func (s *Server) approvedSMS(id string) error {
	for _, m := range s.tenant.Sends.SMSMessages {
		if m.SMSID != id {
			continue
		}
		switch m.Status {
		case "approved":
			return nil
		case "pending":
			return business("短信尚在审核中，不能发送")
		}
		return business("短信审核未通过，不能发送")
	}
	return business("短信不存在")
}

// taskRequest names a task; send_detail pages its recipients.
type taskRequest struct {
	TaskID string `json:"task_id"`
	jing.PageRequest
}

func (s *Server) findSMSTask(c *call, req *taskRequest) (*smsTask, error) {
	if err := c.decode(req); err != nil {
		return nil, err
	}
	if req.TaskID == "" {
		return nil, missing("task_id")
	}
	for _, t := range s.tenant.Sends.SMSTasks {
		if t.TaskID == req.TaskID {
			return t, nil
		}
	}
	return nil, business("短信任务不存在")
}

// sendSMSTask starts a task, at once or at its send_time. It is not
// idempotent on the platform; the sandbox refuses a second send, which is
// what protects a user from messaging everyone twice.
func (s *Server) sendSMSTask(c *call) (any, error) {
	var req taskRequest
	t, err := s.findSMSTask(c, &req)
	if err != nil {
		return nil, err
	}
	if t.StartMS != 0 {
		return nil, business("任务已发送")
	}
	t.StartMS = max(t.SendTime*1000, c.now.UnixMilli())
	s.markChanged()
	status := "sending"
	if t.StartMS > c.now.UnixMilli() {
		status = "scheduled"
	}
	return map[string]string{"task_id": t.TaskID, "status": status}, nil
}

type smsRecipient struct {
	Mobile string `json:"mobile"`
	Status string `json:"status"` // pending | sent | delivered | failed
	Error  string `json:"error"`
	Time   int64  `json:"time"` // of the latest status, unix seconds; 0 while pending
}

type smsSendDetail struct {
	Status    string         `json:"status"` // draft | scheduled | sending | sent
	Total     int            `json:"total"`
	Sent      int            `json:"sent"`
	Delivered int            `json:"delivered"`
	Failed    int            `json:"failed"`
	Items     []smsRecipient `json:"items"`
	Meta      jing.Meta      `json:"_meta"`
}

func (s *Server) smsSendDetail(c *call) (any, error) {
	var req taskRequest
	t, err := s.findSMSTask(c, &req)
	if err != nil {
		return nil, err
	}
	d := s.tenant.Sends.smsProgress(t, c.now.UnixMilli())
	page, err := paginate(d.Items, req.PageRequest)
	if err != nil {
		return nil, err
	}
	d.Items, d.Meta = page.Items, page.Meta
	return d, nil
}

// smsProgress is a task's figures at nowMS, with every recipient in Items.
func (st *sendState) smsProgress(t *smsTask, nowMS int64) smsSendDetail {
	d := smsSendDetail{Status: "draft", Total: t.Total, Items: make([]smsRecipient, 0, t.Total)}
	for i, mobile := range st.taskMobiles(t) {
		r := st.smsRecipientAt(t, i, mobile, nowMS)
		switch r.Status {
		case "delivered":
			d.Delivered++
		case "failed":
			d.Failed++
		}
		if r.Status != "pending" {
			d.Sent++
		}
		d.Items = append(d.Items, r)
	}
	if t.StartMS != 0 {
		d.Status = sendProgress(t.StartMS, nowMS, t.Total, d.Delivered+d.Failed)
	}
	return d
}

// taskMobiles is a task's audience: as created, or drawn from the id for a seeded task.
func (st *sendState) taskMobiles(t *smsTask) []string {
	if t.Mobiles != nil {
		return t.Mobiles
	}
	return st.syntheticAudience(t.TaskID, t.Total, randomMobile)
}

// smsRecipientAt is recipient i of a task as it stands at nowMS.
func (st *sendState) smsRecipientAt(t *smsTask, i int, mobile string, nowMS int64) smsRecipient {
	r := smsRecipient{Mobile: mobile, Status: "pending"}
	if t.StartMS == 0 {
		return r
	}
	o := smsFate(st.Salt, t.TaskID, i)
	o.sentMS, o.doneMS = st.span(o.sentMS), st.span(o.doneMS)
	elapsed := nowMS - t.StartMS
	switch {
	case elapsed < o.sentMS:
		return r
	case elapsed < o.doneMS:
		r.Status, r.Time = "sent", unixSeconds(t.StartMS+o.sentMS)
	case o.failure != "":
		r.Status, r.Error, r.Time = "failed", o.failure, unixSeconds(t.StartMS+o.doneMS)
	default:
		r.Status, r.Time = "delivered", unixSeconds(t.StartMS+o.doneMS)
	}
	return r
}

var smsFailures = []string{"空号", "停机", "用户拒收", "关机超时", "运营商拦截"}

// smsOutcome is what happens to one SMS, in milliseconds after the send
// starts: handed to the carrier within 1–3 s; ~94% delivered within ~5 s,
// ~3% delivered late (a slow carrier receipt), ~3% failed.
type smsOutcome struct {
	sentMS, doneMS int64
	failure        string // "" when delivered
}

func smsFate(salt uint64, taskID string, i int) smsOutcome {
	r := fate(salt, "sms", taskID, strconv.Itoa(i))
	o := smsOutcome{sentMS: inRange(r, 1000, 3000)}
	switch u := r.Float64(); {
	case u < 0.03:
		o.failure = oneOf(r, smsFailures)
		o.doneMS = o.sentMS + inRange(r, 500, 3000)
	case u < 0.06:
		o.doneMS = o.sentMS + inRange(r, 5000, 25000)
	default:
		o.doneMS = o.sentMS + inRange(r, 300, 2000)
	}
	return o
}
