package jing_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/testkit"
)

// answering is a platform that answers every business call with one fixed
// HTTP status and body (OAuth gets a token, so the call itself is tested).
func answering(t *testing.T, status int, body string) *jing.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/oauth2/") {
			io.WriteString(w, `{"code":0,"msg":"success","data":{"access_token":"a","refresh_token":"r","expires_in":4500}}`)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: srv.URL, AppID: "a", AppSecret: "s"},
		Logger: testkit.Quiet(),
		Retry:  jing.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, RateLimitDelay: time.Millisecond, MaxRateLimitWaits: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every answer that is not JSON with a recognised code is an error naming
// the endpoint, the HTTP status and the start of the answer, never a
// success; what kind of error depends on what it says.
func TestAnswersWithoutARecognisedCodeAreNeverSuccesses(t *testing.T) {
	t.Parallel()
	html404 := "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>"
	for _, c := range []struct {
		name     string
		status   int
		body     string
		kind     jing.Kind
		problem  jing.Problem
		excerpt  string
		endpoint string
	}{
		{"200 {}", 200, `{}`, jing.KindUnrecognised, jing.ProblemNoCode, "{}", "leads.update"},
		{"200 without code", 200, `{"request_id":"r1","msg":"success","data":{"jing_uuid":"x"}}`, jing.KindUnrecognised, jing.ProblemNoCode, `"msg":"success"`, "leads.update"},
		{"code null", 200, `{"code":null,"data":{}}`, jing.KindUnrecognised, jing.ProblemNoCode, "", "leads.update"},
		{"empty string code", 200, `{"code":"","data":{}}`, jing.KindUnrecognised, jing.ProblemUnknownCode, "", "leads.update"},
		{"string code 200", 200, `{"code":"200","message":"success","data":{"success_number":3,"error_number":0}}`, jing.KindUnrecognised, jing.ProblemUnknownCode, `"code":"200"`, "crowds.import"},
		{"string code SUCCESS", 200, `{"code":"SUCCESS","data":{}}`, jing.KindUnrecognised, jing.ProblemUnknownCode, "SUCCESS", "leads.update"},
		{"string code 00", 200, `{"code":"00","data":{}}`, jing.KindUnrecognised, jing.ProblemUnknownCode, "", "leads.update"},
		{"numeric code 200", 200, `{"code":200,"msg":"ok","data":{}}`, jing.KindUnrecognised, jing.ProblemUnknownCode, "", "leads.update"},
		{"code 0 with HTTP 500", 500, `{"code":0,"data":{}}`, jing.KindUnrecognised, jing.ProblemHTTPStatus, "", "leads.update"},
		{"HTML 404", 404, html404, jing.KindInvalidPath, "", "404 Not Found 404 Not Found nginx", "leads.update"},
		{"Spring JSON 404", 404, `{"timestamp":"2026-11-21T08:00:00.000+00:00","status":404,"error":"Not Found","path":"/v1/leads/update"}`, jing.KindInvalidPath, "", `"error":"Not Found"`, "leads.update"},
		{"HTML 405", 405, "<html><body>Method Not Allowed</body></html>", jing.KindInvalidPath, "", "Method Not Allowed", "leads.update"},
		{"HTTP 500 JSON without code", 500, `{"status":500,"error":"Internal Server Error"}`, jing.KindUnrecognised, jing.ProblemHTTPStatus, "Internal Server Error", "leads.update"},
		{"HTTP 403 HTML", 403, "<html><body>Forbidden by WAF</body></html>", jing.KindUnrecognised, jing.ProblemNotJSON, "Forbidden by WAF", "leads.update"},
		{"200 HTML", 200, "<!doctype html><html><title>Login</title></html>", jing.KindUnrecognised, jing.ProblemNotJSON, "Login", "leads.update"},
		{"200 plain text", 200, "OK", jing.KindUnrecognised, jing.ProblemNotJSON, "OK", "leads.update"},
		{"200 empty body", 200, "", jing.KindUnrecognised, jing.ProblemNotJSON, "", "leads.update"},
		{"a JSON array", 200, `[1,2]`, jing.KindUnrecognised, jing.ProblemNotJSON, "[1,2]", "leads.update"},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := answering(t, c.status, c.body)
			err := client.Call(context.Background(), c.endpoint, map[string]any{"jing_uuid": "x"}, nil)
			e, ok := jing.AsError(err)
			if !ok || e.Kind != c.kind || e.Problem != c.problem || e.Endpoint != c.endpoint || e.HTTPStatus != c.status {
				t.Fatalf("%s: %v (kind %v, problem %q, status %d)", c.body, err, e.Kind, e.Problem, e.HTTPStatus)
			}
			if !strings.Contains(e.Excerpt, c.excerpt) || len([]rune(e.Excerpt)) > jing.ExcerptLimit+1 {
				t.Errorf("excerpt %q, want it to contain %q", e.Excerpt, c.excerpt)
			}
			if !e.Write {
				t.Error("an error of a write does not say it is one")
			}
			for _, lang := range []string{"zh-CN", "en"} {
				m := render(t, e, lang)
				if !strings.Contains(m, c.endpoint) || (c.status != 200 && !strings.Contains(m, "HTTP "+strconv.Itoa(c.status))) {
					t.Errorf("%s message %q names neither the endpoint nor the status", lang, m)
				}
				notFound := c.kind == jing.KindInvalidPath
				checks := strings.Contains(m, "check on the platform") || strings.Contains(m, "请先在平台上核实")
				if notFound == checks {
					t.Errorf("%s message %q: a path not found must say so, anything else must send the user to the platform", lang, m)
				}
				if notFound && !strings.Contains(m, "Path not found") && !strings.Contains(m, "路径不存在") {
					t.Errorf("%s message %q does not say the path was not found", lang, m)
				}
			}
		})
	}
}

// A gateway in trouble is transient: a read is retried, a write that is
// not safe to repeat becomes "outcome unknown" with what the gateway said.
func TestGatewayErrorsAreTransientAndRateLimitsWait(t *testing.T) {
	t.Parallel()
	for _, status := range []int{502, 503, 504} {
		client := answering(t, status, "<html><body>Bad Gateway</body></html>")
		err := client.Call(context.Background(), "members.list", jing.PageRequest{Page: 1, PerPage: 1}, nil)
		if e, ok := jing.AsError(err); !ok || e.Kind != jing.KindTransient || e.HTTPStatus != status || e.Excerpt != "Bad Gateway" {
			t.Fatalf("read, HTTP %d: %v", status, err)
		}
		err = client.Call(context.Background(), "sms.send", map[string]any{"task_id": "t"}, nil)
		if e, ok := jing.AsError(err); !ok || e.Kind != jing.KindOutcomeUnknown || e.HTTPStatus != status {
			t.Fatalf("sms.send, HTTP %d: %v", status, err)
		}
	}
	client := answering(t, 429, "Too Many Requests")
	if err := client.Call(context.Background(), "sms.send", map[string]any{"task_id": "t"}, nil); !jing.IsKind(err, jing.KindRateLimited) {
		t.Fatalf("HTTP 429: %v", err)
	}
}

// Each sub-message of seed 003, in both languages, is the case it names:
// what the client does about it and the sentence the user reads.
func TestEverySubMessageOfSeed003IsClassified(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code int
		msg  string
		kind jing.Kind
		cs   jing.Case
	}{
		{20000, "服务暂不可用", jing.KindTransient, jing.CaseNone},
		{20000, "服务不可用", jing.KindTransient, jing.CaseNone},
		{20000, "网关响应超时", jing.KindTransient, jing.CaseNone},
		{20000, "Service Temporarily Unavailable", jing.KindTransient, jing.CaseNone},
		{20000, "Gateway response overtime", jing.KindTransient, jing.CaseNone},
		{20000, "Server Busy", jing.KindTransient, jing.CaseNone},
		{20001, "商户未授权当前接口", jing.KindPermission, jing.CaseNotAuthorized},
		{20001, "Merchant not authorized for current interface", jing.KindPermission, jing.CaseNotAuthorized},
		{20001, "商户未签约任何产品", jing.KindPermission, jing.CaseNoProduct},
		{20001, "The merchant has not signed up for any products", jing.KindPermission, jing.CaseNoProduct},
		{20001, "The service available for the day has been used up", jing.KindQuota, jing.CaseDayUsedUp},
		{20001, "The service time is used up, please purchase the service in time", jing.KindPermission, jing.CaseServiceExpired},
		{20002, "超出请求并发限制", jing.KindRateLimited, jing.CaseConcurrency},
		{20002, "超出平台请求并发限制", jing.KindRateLimited, jing.CaseConcurrency},
		{20002, "超出当天请求数量限制", jing.KindQuota, jing.CaseDailyQuota},
		{20002, "超出当前接口请求总量限制", jing.KindQuota, jing.CaseInterfaceTotal},
		{20002, "超出请求总量限制", jing.KindQuota, jing.CaseTotalLimit},
		{40001, "缺少方法名参数", jing.KindInvalid, jing.CaseNone},
		{40002, "不存在的方法名", jing.KindInvalidPath, jing.CaseNoSuchMethod},
		{40002, "Non-existent Method Name", jing.KindInvalidPath, jing.CaseNoSuchMethod},
		{40002, "参数无效", jing.KindInvalid, jing.CaseNone},
		{40004, "线索不存在", jing.KindBusiness, jing.CaseNone},
		{40005, "服务接口调用异常", jing.KindTransient, jing.CaseNone},
		{40006, "", jing.KindPermission, jing.CasePermissionOther},
		{40006, "请检查配置的账户是否有当前接口权限", jing.KindPermission, jing.CasePermissionOther},
		{40006, "代理的商户没有当前接口权限", jing.KindPermission, jing.CasePermissionOther},
		{40006, "没有当前接口权限", jing.KindPermission, jing.CasePermissionOther},
		{40006, "无权访问", jing.KindPermission, jing.CasePermissionOther},
		{40006, "No Access", jing.KindPermission, jing.CasePermissionOther},
		{40006, "IP无权访问", jing.KindPermission, jing.CasePermissionIP},
		{40006, "IP does not have access", jing.KindPermission, jing.CasePermissionIP},
	} {
		body := `{"code":` + strconv.Itoa(c.code) + `,"msg":"` + c.msg + `","request_id":"rid"}`
		client := answering(t, 200, body)
		start := time.Now()
		err := client.Call(context.Background(), "members.list", jing.PageRequest{Page: 1, PerPage: 1}, nil)
		e, ok := jing.AsError(err)
		if !ok || e.Kind != c.kind || e.Case != c.cs || e.Code != c.code || e.Msg != c.msg {
			t.Errorf("%d %q: %v (kind %v, case %q)", c.code, c.msg, err, e.Kind, e.Case)
			continue
		}
		if c.kind == jing.KindQuota {
			// A quota condition pauses until the reset: no minutes of retries.
			if time.Since(start) > time.Second || e.Until.IsZero() || !e.Until.After(time.Now()) {
				t.Errorf("%d %q: until %v after %v", c.code, c.msg, e.Until, time.Since(start))
			}
		}
		zh, en := render(t, e, "zh-CN"), render(t, e, "en")
		if zh == en || !strings.Contains(zh, c.msg) || !strings.Contains(en, "rid") {
			t.Errorf("%d %q: messages %q / %q", c.code, c.msg, zh, en)
		}
	}
}

// 40006 is a refusal of permission with a message of its own, not 20001's.
func TestPermissionRefusalsSayWhichOne(t *testing.T) {
	t.Parallel()
	say := func(code int, msg string) string {
		err := answering(t, 200, `{"code":`+strconv.Itoa(code)+`,"msg":"`+msg+`"}`).Call(context.Background(), "members.list", jing.PageRequest{}, nil)
		e, _ := jing.AsError(err)
		return render(t, e, "en")
	}
	notAuthorized, denied, ip := say(20001, "商户未授权当前接口"), say(40006, "没有当前接口权限"), say(40006, "IP无权访问")
	if notAuthorized == denied || !strings.Contains(denied, "Insufficient permissions") || !strings.Contains(ip, "IP address") {
		t.Fatalf("20001: %q\n40006: %q\n40006 IP: %q", notAuthorized, denied, ip)
	}
}

// A successful answer that lacks a field the console relies on is an error
// naming the endpoint and the field: never an empty list, never a zero.
func TestAnswersLackingAFieldNameTheField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		endpoint, data, field string
		problem               jing.Problem
	}{
		{"crowds.list", `{"list":[{"group_id":1}],"_meta":{"totalCount":1}}`, "items", jing.ProblemMissing},
		{"crowds.list", `{"items":null}`, "items", jing.ProblemMissing},
		{"crowds.list", `{"items":{}}`, "items", jing.ProblemWrongType},
		{"crowds.list", `{"items":[{"group_id":1,"name":"a","user_count":3},{"group_id":2,"name":"b"}]}`, "items[1].user_count", jing.ProblemMissing},
		{"crowds.list", `{"items":[{"group_id":0,"name":"a","user_count":3}]}`, "items[0].group_id", jing.ProblemEmpty},
		{"crowds.list", `{"items":[{"group_id":"20541","name":"a","user_count":3}]}`, "items.group_id", jing.ProblemWrongType},
		{"crowds.create", `{}`, "group_id", jing.ProblemMissing},
		{"crowds.import", `{"success_number":3}`, "error_number", jing.ProblemMissing},
		{"leads.create", `{"jing_uuid":""}`, "jing_uuid", jing.ProblemEmpty},
		{"leads.list", `{"items":[{"jing_uuid":"a","business_type":"b","lead_status":"s"}]}`, "items[0].updated_timestamp", jing.ProblemMissing},
		{"users.create", `{}`, "success", jing.ProblemMissing},
		{"users.create", `{"success":[{"leads_info":{}}]}`, "success[0].identities", jing.ProblemMissing},
		{"users.identity_batch", `{"items":[{"identity_value":"13800138000"}]}`, "items[0].omni_user_uuid", jing.ProblemMissing},
		{"sms.send_detail", `{"status":"sent","total":3,"sent":3,"delivered":3,"failed":0}`, "items", jing.ProblemMissing},
		{"privacy.status", `{"items":[{"jing_uuid":"p","title":"t","policy_infos":[{"version":1}]}]}`, "items[0].policy_infos[0].required", jing.ProblemMissing},
		{"objects.fields", `{"items":[{"code":"name","name":"姓名"}]}`, "items[0].type", jing.ProblemMissing},
		{"oauth.token", `{"access_token":"a"}`, "expires_in", jing.ProblemMissing},
		{"members.list", `null`, "data", jing.ProblemMissing},
	} {
		err := jing.CheckAnswer(c.endpoint, []byte(c.data))
		if c.problem == jing.ProblemWrongType && err == nil {
			continue // a type the shape accepts is caught when decoding (next test)
		}
		e, ok := jing.AsError(err)
		if !ok || e.Kind != jing.KindUnrecognised || e.Field != c.field || e.Problem != c.problem || e.Endpoint != c.endpoint {
			t.Errorf("%s %s: %v", c.endpoint, c.data, err)
		}
	}
	// The same through the client, with the type decoded.
	client := answering(t, 200, `{"code":0,"data":{"items":[{"group_id":"20541","name":"a","user_count":3}]}}`)
	_, err := client.ListCrowds(context.Background(), jing.CrowdListRequest{})
	if e, ok := jing.AsError(err); !ok || e.Kind != jing.KindUnrecognised || e.Problem != jing.ProblemWrongType || !strings.Contains(e.Field, "group_id") {
		t.Fatalf("a string group_id: %v", err)
	}
	client = answering(t, 200, `{"code":0,"data":{"list":[]}}`)
	if _, err := client.ListCrowds(context.Background(), jing.CrowdListRequest{}); !jing.IsKind(err, jing.KindUnrecognised) {
		t.Fatalf("a list named list: %v", err)
	}
	// Every documented shape passes: the sandbox answers are checked in
	// every other test of this package.
}

func TestExcerptsAreBoundedAndHoldNoCredentialsOrContacts(t *testing.T) {
	t.Parallel()
	body := `{"access_token":"8c1e9a4e-secret","refresh_token":"r-secret","app_secret":"shh","mobile":"13800138000","email":"wang.fang@example.cn","x":"` +
		strings.Repeat("长", 500) + `"}`
	ex := jing.Excerpt([]byte(body))
	for _, leak := range []string{"8c1e9a4e", "r-secret", "shh", "13800138000", "wang.fang"} {
		if strings.Contains(ex, leak) {
			t.Errorf("excerpt %q holds %q", ex, leak)
		}
	}
	if !strings.Contains(ex, "138****8000") || len([]rune(ex)) != jing.ExcerptLimit+1 {
		t.Errorf("excerpt %q (%d runes)", ex, len([]rune(ex)))
	}
	if got := jing.Excerpt([]byte("<html><head><style>p{}</style><title>502 Bad Gateway</title></head>\n<body>  bad </body></html>")); got != "502 Bad Gateway bad" {
		t.Errorf("HTML excerpt %q", got)
	}
	if got := jing.Excerpt([]byte{0xff, 'a'}); got != "�a" {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

// The documented answers (the seeds' examples, verbatim in testdata) have
// every field the console relies on: the shapes ask nothing the platform
// does not document.
func TestTheDocumentedAnswersPassTheirShapes(t *testing.T) {
	t.Parallel()
	for file, key := range map[string]string{
		"crowd_import_response.json":   "crowds.import",
		"lead_create_response.json":    "leads.create",
		"privacy_status_response.json": "privacy.status",
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		if err := jing.CheckAnswer(key, env.Data); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	// The public example of users.create's answer: no omni_user_uuid.
	public := `{"success":[{"identities":[{"type":"mobile","value":"19667348978","name":"手机号"}],"leads_info":{"stage_name":"MQL"}}],"failure":[]}`
	if err := jing.CheckAnswer("users.create", []byte(public)); err != nil {
		t.Errorf("users.create public example: %v", err)
	}
}
