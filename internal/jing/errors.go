package jing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Platform error codes (../shared/jing-api/errors.md).
const (
	CodeOK               = 0
	CodeUnavailable      = 20000
	CodeUnauthorized     = 20001
	CodeRateLimited      = 20002
	CodeMissingParameter = 40001
	CodeInvalidParameter = 40002
	CodeBusinessFailed   = 40004
	CodeServiceException = 40005
	CodeNoPermission     = 40006
)

// Documented sub-messages the client acts on. The platform says which case
// of a code it is only in this text, so the client matches these exact
// phrases (Chinese and English); the sandbox answers with the same ones.
const (
	SubTokenInvalid     = "无效的访问令牌"
	SubTokenExpired     = "访问令牌已过期"
	SubAppTokenInvalid  = "无效的应用授权令牌或token失效"
	SubAppTokenEmpty    = "应用授权令牌不能为空"
	SubAppTokenExpired  = "应用授权令牌已过期"
	SubNotAuthorized    = "商户未授权当前接口"
	SubDailyQuota       = "超出当天请求数量限制"
	SubConcurrency      = "超出请求并发限制"
	SubNoSuchMethod     = "不存在的方法名"
	SubInvalidParameter = "参数无效"
	SubMissingParameter = "缺少必选参数"
	SubUnavailable      = "服务暂不可用"
	SubServiceException = "服务接口调用异常"
)

// tokenProblems are the 20001 cases a renewal can cure.
var tokenProblems = []string{
	SubTokenInvalid, SubTokenExpired, SubAppTokenInvalid, SubAppTokenEmpty, SubAppTokenExpired,
	"Invalid Access Token", "Access token has expired", "Invalid Application Authorization Token",
	"Application authorization token cannot be empty", "Application authorization token has expired",
}

var dailyQuotaProblems = []string{SubDailyQuota, "exceeds the number of requests for the day", "Exceeded the number of requests for the day"}

var noSuchMethod = []string{SubNoSuchMethod, "Non-existent Method Name"}

func mentionsAny(text string, phrases []string) bool {
	lower := strings.ToLower(text)
	for _, p := range phrases {
		if strings.Contains(lower, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

// Kind says what a caller should do about an error.
type Kind int

const (
	// KindTransient: the platform or the network failed; retrying later may work.
	KindTransient Kind = iota + 1
	// KindAuth: credentials are wrong, or a token could not be renewed.
	KindAuth
	// KindRateLimited: too many calls now; the client already waited and retried.
	KindRateLimited
	// KindQuota: the day's quota is used up; nothing succeeds before Until.
	KindQuota
	// KindPermission: the tenant or this server is not allowed this interface.
	KindPermission
	// KindInvalidPath: the platform has no such method: the catalog path is wrong.
	KindInvalidPath
	// KindInvalid: a parameter was missing or invalid (a bug or bad input).
	KindInvalid
	// KindBusiness: the platform refused the request for a business reason.
	KindBusiness
	// KindOutcomeUnknown: a call that is not safe to repeat failed in a way
	// that leaves open whether the platform acted on it. It was not retried.
	KindOutcomeUnknown
	// KindDisabled: the catalog entry is disabled in this deployment.
	KindDisabled
)

var kindNames = map[Kind]string{
	KindTransient: "transient", KindAuth: "auth", KindRateLimited: "rate_limited", KindQuota: "quota",
	KindPermission: "permission", KindInvalidPath: "invalid_path", KindInvalid: "invalid",
	KindBusiness: "business", KindOutcomeUnknown: "outcome_unknown", KindDisabled: "disabled",
}

func (k Kind) String() string { return kindNames[k] }

// Error is every failure the client returns.
type Error struct {
	Endpoint  string // catalog key
	Kind      Kind
	Code      int    // platform code; 0 when the failure was not an answer
	Msg       string // the platform's own text
	RequestID string
	Until     time.Time // KindQuota: when calls may succeed again
	Err       error     // underlying transport or decoding error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jing %s: %s", e.Endpoint, e.Kind)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d", e.Code)
		if e.Msg != "" {
			fmt.Fprintf(&b, ": %s", e.Msg)
		}
		b.WriteString(")")
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " request_id=%s", e.RequestID)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether a later retry of the same call may succeed.
func (e *Error) Transient() bool {
	return e.Kind == KindTransient || e.Kind == KindRateLimited
}

// AsError extracts a *Error from err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err is a platform error of kind k.
func IsKind(err error, k Kind) bool {
	e, ok := AsError(err)
	return ok && e.Kind == k
}

// classify maps a platform answer to a Kind.
func classify(code int, msg string) Kind {
	switch code {
	case CodeUnavailable, CodeServiceException:
		return KindTransient
	case CodeUnauthorized:
		// An empty text is treated as a token problem: one renewal is cheap,
		// and a second 20001 then shows it was not.
		if msg == "" || mentionsAny(msg, tokenProblems) {
			return KindAuth
		}
		return KindPermission
	case CodeRateLimited:
		if mentionsAny(msg, dailyQuotaProblems) {
			return KindQuota
		}
		return KindRateLimited
	case CodeMissingParameter:
		return KindInvalid
	case CodeInvalidParameter:
		if mentionsAny(msg, noSuchMethod) {
			return KindInvalidPath
		}
		return KindInvalid
	case CodeBusinessFailed:
		return KindBusiness
	case CodeNoPermission:
		return KindPermission
	}
	return KindBusiness
}

// Message is a human sentence for e in lang ("zh-CN" or "en"): what
// happened and what to do, with the platform's own text and request id.
func (e *Error) Message(lang string) string {
	zh := lang != "en"
	var s string
	switch e.Kind {
	case KindTransient:
		s = pick(zh, "平台暂时不可用，操作未完成。请稍后重试。", "The platform is temporarily unavailable; nothing was done. Try again shortly.")
	case KindAuth:
		s = pick(zh, "平台拒绝了本控制台的凭据。请管理员在“设置 → 平台”中检查 app_id 和 app_secret。", "The platform refused this console's credentials. An administrator should check app_id and app_secret under Settings → Platform.")
	case KindRateLimited:
		s = pick(zh, "平台当前请求过多，已自动等待重试但仍未成功。请稍后再试。", "The platform is limiting requests; the console waited and retried without success. Try again later.")
	case KindQuota:
		until := e.Until.In(chinaZone).Format("2006-01-02 15:04")
		s = pick(zh, "此接口今天的调用额度已用完，"+until+" 之前无法继续。任务已暂停，不会重复发送。", "Today's quota for this interface is used up; nothing more can run before "+until+". Work is paused, and nothing will be sent twice.")
	case KindPermission:
		s = pick(zh, "平台未授权本租户或本服务器的 IP 使用此接口（"+e.Endpoint+"）。请联系管理员开通。", "The platform does not allow this tenant or this server's IP to use this interface ("+e.Endpoint+"). Ask an administrator to have it granted.")
	case KindInvalidPath:
		s = pick(zh, "平台上不存在此接口路径（"+e.Endpoint+"）。请管理员在接口目录中更正路径。", "The platform has no such method ("+e.Endpoint+"): an administrator should correct its path in the endpoint catalog.")
	case KindInvalid:
		s = pick(zh, "请求参数缺失或无效，平台未处理。", "A parameter was missing or invalid; the platform did not act on the request.")
	case KindBusiness:
		s = pick(zh, "平台拒绝了此操作。", "The platform refused this operation.")
	case KindOutcomeUnknown:
		s = pick(zh, "与平台的通信中断，无法确认操作是否已执行。为避免重复发送，系统没有自动重试；请先在平台上核实结果。", "The connection to the platform failed and it is not known whether the operation took effect. To avoid sending twice it was not retried; check the result on the platform first.")
	case KindDisabled:
		s = pick(zh, "此部署的平台不提供该接口（"+e.Endpoint+"）。", "This interface ("+e.Endpoint+") is not available on this deployment's platform.")
	default:
		s = pick(zh, "平台调用失败。", "The platform call failed.")
	}
	if e.Msg != "" {
		s += pick(zh, " 平台返回：", " Platform said: ") + e.Msg
	}
	if e.Code != 0 {
		s += fmt.Sprintf(pick(zh, "（错误码 %d）", " (code %d)"), e.Code)
	}
	if e.RequestID != "" {
		s += pick(zh, " 请求编号：", " Request id: ") + e.RequestID
	}
	return s
}

func pick(zh bool, chinese, english string) string {
	if zh {
		return chinese
	}
	return english
}

// chinaZone is the platform's zone: daily quotas reset at its midnight.
var chinaZone = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return z
}

// QuotaDay is the platform day a moment belongs to, e.g. "2026-11-21".
func QuotaDay(t time.Time) string { return t.In(chinaZone).Format(time.DateOnly) }

// nextQuotaReset is the next midnight in China after t.
func nextQuotaReset(t time.Time) time.Time {
	c := t.In(chinaZone)
	return time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, chinaZone)
}
