package jing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
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

// Sub-messages the sandbox answers with, as seed 003 writes them.
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
	SubNoPermission     = "没有当前接口权限"
	SubIPNoAccess       = "IP无权访问"
)

// Case is which documented case of a code an answer is. The platform says
// it only in the text of msg, so the client recognises the exact phrases
// of seed 003 (its Chinese and its English page); a case decides what the
// client does (renew, pause until the quota resets, give up) and which
// sentence the user reads.
type Case string

const (
	CaseNone            Case = ""
	CaseToken           Case = "token"           // 20001: renew the token once
	CaseNotAuthorized   Case = "not_authorized"  // 20001: the merchant may not use this interface
	CaseNoProduct       Case = "no_product"      // 20001: the merchant has signed up for no product
	CaseServiceExpired  Case = "service_expired" // 20001: the paid service period is over
	CaseDayUsedUp       Case = "day_used_up"     // 20001: the service available for the day is used up
	CaseConcurrency     Case = "concurrency"     // 20002: too many calls at once (the interface's or the platform's)
	CaseDailyQuota      Case = "daily_quota"     // 20002: the day's number of requests
	CaseInterfaceTotal  Case = "interface_total" // 20002: the interface's total number of requests
	CaseTotalLimit      Case = "total_limit"     // 20002: the total number of requests
	CaseNoSuchMethod    Case = "no_such_method"  // 40002: the path is wrong
	CasePermissionIP    Case = "ip"              // 40006: this server's IP address may not call
	CasePermissionOther Case = "denied"          // 40006: the account or the proxied merchant lacks the interface
)

// phrases are a case's sub-messages in both languages, from seed 003.
type phrases struct {
	c     Case
	texts []string
}

// cases20001 are 20001's sub-messages. The English page alone lists the
// last two (the day's service used up, the service period over).
var cases20001 = []phrases{
	{CaseToken, []string{SubTokenInvalid, SubTokenExpired, SubAppTokenInvalid, SubAppTokenEmpty, SubAppTokenExpired,
		"Invalid Access Token", "Access token has expired", "Invalid Application Authorization Token",
		"Application authorization token cannot be empty", "Application authorization token has expired"}},
	{CaseNotAuthorized, []string{SubNotAuthorized, "Merchant not authorized for current interface"}},
	{CaseNoProduct, []string{"商户未签约任何产品", "The merchant has not signed up for any products"}},
	{CaseDayUsedUp, []string{"The service available for the day has been used up"}},
	{CaseServiceExpired, []string{"The service time is used up"}},
}

// cases20002 are 20002's sub-messages (the English page lists none; the
// English day-quota phrases are the wording of the platform's English
// gateway messages elsewhere, kept so an English tenant pauses too).
var cases20002 = []phrases{
	{CaseInterfaceTotal, []string{"超出当前接口请求总量限制"}},
	{CaseTotalLimit, []string{"超出请求总量限制"}},
	{CaseDailyQuota, []string{SubDailyQuota, "exceeds the number of requests for the day", "Exceeded the number of requests for the day"}},
	{CaseConcurrency, []string{SubConcurrency, "超出平台请求并发限制"}},
}

var cases40006 = []phrases{
	{CasePermissionIP, []string{SubIPNoAccess, "IP does not have access"}},
}

var cases40002 = []phrases{
	{CaseNoSuchMethod, []string{SubNoSuchMethod, "Non-existent Method Name"}},
}

// caseOf is the first case of list whose phrase text mentions.
func caseOf(text string, list []phrases) Case {
	lower := strings.ToLower(text)
	for _, p := range list {
		for _, t := range p.texts {
			if strings.Contains(lower, strings.ToLower(t)) {
				return p.c
			}
		}
	}
	return CaseNone
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
	// KindQuota: a quota is used up; nothing succeeds before Until.
	KindQuota
	// KindPermission: the tenant or this server is not allowed this interface.
	KindPermission
	// KindInvalidPath: the platform has no such method: the catalog path is
	// wrong (40002 "non-existent method name", or an HTTP 404 answer).
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
	// KindUnrecognised: the answer is not one the client understands: not
	// JSON, no code or an unknown one, an HTTP error status, or a data block
	// without a field the console relies on (Field). It is never taken for
	// a success nor for a refusal: a write's effect is unknown (Write).
	KindUnrecognised
)

var kindNames = map[Kind]string{
	KindTransient: "transient", KindAuth: "auth", KindRateLimited: "rate_limited", KindQuota: "quota",
	KindPermission: "permission", KindInvalidPath: "invalid_path", KindInvalid: "invalid",
	KindBusiness: "business", KindOutcomeUnknown: "outcome_unknown", KindDisabled: "disabled",
	KindUnrecognised: "unrecognised",
}

func (k Kind) String() string { return kindNames[k] }

// Problem says what was wrong with an unrecognised answer.
type Problem string

const (
	ProblemNotJSON     Problem = "not_json"     // HTML, text, an empty body
	ProblemNoCode      Problem = "no_code"      // JSON without a code
	ProblemUnknownCode Problem = "unknown_code" // a code that is neither 0 nor a documented error
	ProblemHTTPStatus  Problem = "http_status"  // HTTP 4xx/5xx without a platform code
	ProblemMissing     Problem = "missing"      // Field is absent or null
	ProblemWrongType   Problem = "wrong_type"   // Field has another type than the console reads
	ProblemEmpty       Problem = "empty"        // Field, an id, is empty
	ProblemSamePage    Problem = "same_page"    // a list answered the same page twice (see Paging)
	ProblemManyPages   Problem = "many_pages"   // a list's pages went beyond the client's MaxPages
)

// Error is every failure the client returns.
type Error struct {
	Endpoint  string // catalog key
	Kind      Kind
	Code      int    // platform code; 0 when the failure was not an answer
	Msg       string // the platform's own text
	Case      Case   // which documented case of Code Msg names
	RequestID string
	Until     time.Time // KindQuota: when calls may succeed again
	// Write is set when the endpoint changes the platform: after an
	// unrecognised answer its effect is unknown, and the user is told to
	// check on the platform.
	Write bool
	// HTTPStatus, Problem, Field and Excerpt describe an answer that was not
	// a platform envelope or not the shape the console reads (KindUnrecognised,
	// and KindInvalidPath/KindTransient/KindRateLimited from HTTP statuses).
	HTTPStatus int
	Problem    Problem
	Field      string // e.g. "items", "items[3].group_id"
	Excerpt    string // the start of the answer, bounded, credentials removed
	Err        error  // underlying transport or decoding error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jing %s: %s", e.Endpoint, e.Kind)
	if e.Case != CaseNone {
		fmt.Fprintf(&b, "/%s", e.Case)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d", e.Code)
		if e.Msg != "" {
			fmt.Fprintf(&b, ": %s", e.Msg)
		}
		b.WriteString(")")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " HTTP %d", e.HTTPStatus)
	}
	if e.Problem != "" {
		fmt.Fprintf(&b, " %s", e.Problem)
		if e.Field != "" {
			fmt.Fprintf(&b, " %s", e.Field)
		}
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

// PauseUntil says until when nothing can succeed: a quota's reset (jobs
// pause until then rather than fail; jobs.Pauser).
func (e *Error) PauseUntil() (time.Time, bool) {
	return e.Until, e.Kind == KindQuota && !e.Until.IsZero()
}

// EffectUnknown reports a write after which nobody can say whether the
// platform acted: no clear answer, or an answer not understood. The user
// is told to check on the platform; nothing repeats it by itself.
func (e *Error) EffectUnknown() bool {
	return e.Kind == KindOutcomeUnknown || (e.Kind == KindUnrecognised && e.Write)
}

// Unrecognised reports an answer the client did not understand, a path not
// found included: what the Usage page lists as "answers not understood".
func (e *Error) Unrecognised() bool {
	return e.Kind == KindUnrecognised || (e.Kind == KindInvalidPath && e.HTTPStatus != 0)
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

// documentedCodes are the codes of seed 003; any other is not understood.
var documentedCodes = map[int]bool{
	CodeUnavailable: true, CodeUnauthorized: true, CodeRateLimited: true, CodeMissingParameter: true,
	CodeInvalidParameter: true, CodeBusinessFailed: true, CodeServiceException: true, CodeNoPermission: true,
}

// classify maps a platform error answer (code ≠ 0) to a Kind and its case.
func classify(code int, msg string) (Kind, Case) {
	switch code {
	case CodeUnavailable, CodeServiceException:
		return KindTransient, CaseNone
	case CodeUnauthorized:
		switch c := caseOf(msg, cases20001); c {
		case CaseDayUsedUp:
			return KindQuota, c
		case CaseToken:
			return KindAuth, c
		case CaseNone:
			// An empty text is treated as a token problem: one renewal is
			// cheap, and a second 20001 then shows it was not.
			if strings.TrimSpace(msg) == "" {
				return KindAuth, CaseToken
			}
			return KindPermission, CaseNotAuthorized
		default:
			return KindPermission, c
		}
	case CodeRateLimited:
		switch c := caseOf(msg, cases20002); c {
		case CaseDailyQuota, CaseInterfaceTotal, CaseTotalLimit:
			return KindQuota, c
		default:
			return KindRateLimited, CaseConcurrency
		}
	case CodeMissingParameter:
		return KindInvalid, CaseNone
	case CodeInvalidParameter:
		if c := caseOf(msg, cases40002); c == CaseNoSuchMethod {
			return KindInvalidPath, c
		}
		return KindInvalid, CaseNone
	case CodeBusinessFailed:
		return KindBusiness, CaseNone
	case CodeNoPermission:
		if c := caseOf(msg, cases40006); c != CaseNone {
			return KindPermission, c
		}
		return KindPermission, CasePermissionOther
	}
	return KindUnrecognised, CaseNone
}

// Message is what happened and what to do, as a message of the i18n
// catalogs (jing.error.*) with the platform's own text, code and request
// id, and for an answer not understood its HTTP status and excerpt. The
// page that shows it renders it in the reader's language.
func (e *Error) Message() msg.Message {
	check := msg.Message{}
	if e.Write && e.Kind == KindUnrecognised {
		check = msg.New("jing.error.check_platform")
	}
	status := ""
	if e.HTTPStatus != 0 {
		status = strconv.Itoa(e.HTTPStatus)
	}
	code := ""
	if e.Code != 0 {
		code = strconv.Itoa(e.Code)
	}
	return msg.New("jing.error",
		msg.Nested("Sentence", e.sentence()),
		msg.Nested("Check", check),
		msg.Str("Said", e.Msg),
		msg.Str("Code", code),
		msg.Str("Status", status),
		msg.Str("Excerpt", e.Excerpt),
		msg.Str("RequestID", e.RequestID))
}

// sentence is the message of e's kind and case.
func (e *Error) sentence() msg.Message {
	ep := msg.Str("Endpoint", e.Endpoint)
	switch e.Kind {
	case KindQuota:
		id := "jing.error.quota"
		if e.Case != CaseNone && e.Case != CaseDailyQuota {
			id += "." + string(e.Case)
		}
		return msg.New(id, ep, msg.Time("Until", e.Until))
	case KindPermission:
		c := e.Case
		if c == CaseNone {
			c = CaseNotAuthorized
		}
		return msg.New("jing.error.permission."+string(c), ep)
	case KindInvalidPath:
		if e.HTTPStatus != 0 {
			return msg.New("jing.error.not_found", ep)
		}
		return msg.New("jing.error.invalid_path", ep)
	case KindUnrecognised:
		p := e.Problem
		if p == "" {
			p = ProblemNoCode
		}
		return msg.New("jing.error.unrecognised."+string(p), ep, msg.Str("Field", e.Field))
	case KindTransient, KindAuth, KindRateLimited, KindInvalid, KindBusiness, KindOutcomeUnknown, KindDisabled:
		return msg.New("jing.error."+e.Kind.String(), ep)
	}
	return msg.New("jing.error.failed", ep)
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
