package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/testkit"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

// The embedded sandbox keeps everything a user changed through the
// console: a crowd made by an import, its members and the persons the
// import created are there after a clean restart (SIGTERM) and after a
// kill -9 that came after the save interval; a crowd created in the
// seconds before a kill -9 is lost, but its group_id is never handed out
// again, so the console's link to it cannot open another crowd.
func TestTheEmbeddedSandboxKeepsAnImportAcrossRestartsAndKills(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts the console three times")
	}
	dir := t.TempDir()
	if _, _, err := runCLI(t, "a long password\n", "user", "add", "mia", "--role", "marketer", "--password-stdin", "--data", dir); err != nil {
		t.Fatal(err)
	}
	// The embedded sandbox's tenant is a function of its seed: a copy in
	// this process says which persons it knows.
	const seed = 5
	var file bytes.Buffer
	file.WriteString("姓名,手机号\n")
	var known []string
	taken := map[string]bool{}
	for _, p := range sandbox.New(sandbox.Config{Seed: seed, Leads: 1}).SamplePersons(20000) {
		taken[p.Mobile] = true
		if p.Mobile != "" && len(known) < 40 {
			fmt.Fprintf(&file, "%s,%s\n", p.Name, p.Mobile)
			known = append(known, p.OmniUserUUID)
		}
	}
	var fresh []string
	for i := 0; len(fresh) < 10; i++ {
		if m := fmt.Sprintf("1660123%04d", i); !taken[m] {
			fmt.Fprintf(&file, "新客户%d,%s\n", i, m)
			fresh = append(fresh, m)
		}
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--sandbox-seed", strconv.Itoa(seed),
		"--sandbox-changes-per-minute", "0"}
	store := fixture.StoreAt(t, filepath.Join(dir, "jingdesk.db"))
	ctx := context.Background()

	// 1. Import through the console, into a new crowd, creating the unknown persons.
	c := startConsole(t, args)
	web := c.signIn("mia", "a long password")
	importID := web.importFile("名单.csv", file.Bytes(), "重启测试人群")
	testkit.WaitWithin(t, 60*time.Second, "the import to finish", func() bool {
		im, err := store.Import(ctx, importID)
		return err == nil && im.Finished()
	})
	im, _ := store.Import(ctx, importID)
	if im.JobState != db.JobDone || im.CrowdID == 0 {
		t.Fatalf("import: %+v", im)
	}
	group := im.CrowdID
	want := c.sandboxMembers(group)
	if len(want) != 50 || !containsAll(want, known) {
		t.Fatalf("the crowd holds %d members, want the 40 known persons and the 10 created", len(want))
	}
	c.stop(syscall.SIGTERM)

	// 2. After a clean stop: the crowd, its members and the created persons are there.
	c = startConsole(t, args)
	web = c.signIn("mia", "a long password")
	if got := c.sandboxMembers(group); !slices.Equal(got, want) {
		t.Fatalf("after SIGTERM the crowd holds %d members, want %d", len(got), len(want))
	}
	for _, m := range fresh {
		if p, err := c.platform.QueryPerson(ctx, "mobile", m); err != nil || !slices.Contains(want, p.OmniUserUUID) {
			t.Fatalf("the person the import created for %s, after SIGTERM: %+v %v", m, p, err)
		}
	}
	frag := web.page(fmt.Sprintf("/crowds/%d/members", group))
	if total := attr(byTestID(frag, "members-fragment"), "data-total"); total != "50" {
		t.Fatalf("the console's member list after SIGTERM says %q members", total)
	}
	saved := web.createCrowd("保存后创建")
	if saved <= group {
		t.Fatalf("a crowd created after the restart got group_id %d, the import's was %d", saved, group)
	}
	testkit.WaitWithin(t, 30*time.Second, "the sandbox to save its state", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "sandbox.json"))
		return err == nil && bytes.Contains(b, []byte("保存后创建"))
	})
	unsaved := web.createCrowd("杀进程前创建")
	c.stop(syscall.SIGKILL)

	// 3. After kill -9: what was saved is there; the crowd created in the
	// last seconds is gone, and its id is not handed out again.
	c = startConsole(t, args)
	web = c.signIn("mia", "a long password")
	if got := c.sandboxMembers(group); !slices.Equal(got, want) {
		t.Fatalf("after kill -9 the crowd holds %d members, want %d", len(got), len(want))
	}
	if _, err := c.platform.CrowdDetail(ctx, saved); err != nil {
		t.Fatalf("the crowd saved before the kill: %v", err)
	}
	if _, err := c.platform.CrowdDetail(ctx, unsaved); !jing.IsKind(err, jing.KindBusiness) {
		t.Fatalf("the crowd created just before the kill: %v, want not found on the platform", err)
	}
	if next := web.createCrowd("杀进程后创建"); next <= unsaved {
		t.Fatalf("a crowd created after the kill got group_id %d, at or below %d handed out before it", next, unsaved)
	}
	c.stop(syscall.SIGTERM)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// console is a jingdesk serve child process on its embedded sandbox.
type console struct {
	t        *testing.T
	cmd      *exec.Cmd
	stderr   *syncBuffer
	url      string
	platform *jing.Client // talks to the embedded sandbox directly
}

var embeddedSandboxURL = regexp.MustCompile(`using the embedded sandbox"[^\n]* url=(http://127\.0\.0\.1:\d+)`)

func startConsole(t *testing.T, args []string) *console {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = childEnv("JINGDESK_TEST_AS_MAIN=1")
	c := &console{t: t, cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var sb string
	testkit.WaitWithin(t, 30*time.Second, "the console to start", func() bool {
		out := c.stderr.String()
		if m := listenURL.FindStringSubmatch(out); m != nil {
			c.url = m[1]
		}
		if m := embeddedSandboxURL.FindStringSubmatch(out); m != nil {
			sb = m[1]
		}
		return c.url != "" && sb != ""
	})
	client, err := jing.New(jing.Config{Credentials: jing.Credentials{BaseURL: sb, AppID: "sandbox", AppSecret: "sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	c.platform = client
	return c
}

// stop sends sig and waits for the process to end.
func (c *console) stop(sig syscall.Signal) {
	c.t.Helper()
	c.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if sig == syscall.SIGTERM && err != nil {
			c.t.Fatalf("exit after SIGTERM: %v\n%s", err, c.stderr.String())
		}
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		c.t.Fatalf("the console did not stop on %v", sig)
	}
}

func (c *console) sandboxMembers(groupID int64) []string {
	c.t.Helper()
	var out []string
	for m, err := range c.platform.AllCrowdUsers(context.Background(), groupID) {
		if err != nil {
			c.t.Fatalf("members of crowd %d: %v", groupID, err)
		}
		out = append(out, m.OmniUserUUID)
	}
	slices.Sort(out)
	return out
}

// browser is a signed-in session on the console, over real HTTP.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func (c *console) signIn(user, password string) *browser {
	c.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: c.t, base: c.url, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.page("/login")
	b.expectRedirect(b.post("/login", url.Values{"username": {user}, "password": {password}}), "sign in")
	b.page("/crowds") // the token rotates at sign-in
	return b
}

// page GETs path and parses it, keeping the page's CSRF token.
func (b *browser) page(path string) *html.Node {
	b.t.Helper()
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if meta := find(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "name") == "csrf-token" }); meta != nil {
		b.csrf = attr(meta, "content")
	}
	return doc
}

func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	form.Set("_csrf", b.csrf)
	resp, err := b.http.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

// expectRedirect checks a form's answer is 303 and returns where it leads.
func (b *browser) expectRedirect(resp *http.Response, what string) string {
	b.t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		b.t.Fatalf("%s: %d\n%s", what, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

var importPath = regexp.MustCompile(`^/imports/(\d+)$`)
var crowdPath = regexp.MustCompile(`^/crowds/(\d+)$`)

// importFile uploads a file of names and mobiles and imports it into a
// new crowd, creating the persons the platform does not know.
func (b *browser) importFile(name string, data []byte, crowd string) int64 {
	b.t.Helper()
	b.page("/imports/new")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("_csrf", b.csrf)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(data)
	w.Close()
	resp, err := b.http.Post(b.base+"/imports", w.FormDataContentType(), &body)
	if err != nil {
		b.t.Fatal(err)
	}
	m := importPath.FindStringSubmatch(b.expectRedirect(resp, "upload"))
	if m == nil {
		b.t.Fatalf("the upload did not lead to an import")
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	b.page(m[0])
	b.expectRedirect(b.post(m[0]+"/validate", url.Values{"col_0": {"name"}, "col_1": {"mobile"}, "identity": {"mobile"}}), "validate")
	b.page(m[0])
	b.expectRedirect(b.post(m[0]+"/start", url.Values{"crowd": {"new"}, "new_name": {crowd}, "create_missing": {"1"}}), "start")
	return id
}

// createCrowd creates a crowd on the Crowds page and returns its group_id.
func (b *browser) createCrowd(name string) int64 {
	b.t.Helper()
	b.page("/crowds")
	m := crowdPath.FindStringSubmatch(b.expectRedirect(b.post("/crowds", url.Values{"name": {name}}), "create crowd "+name))
	if m == nil {
		b.t.Fatalf("creating crowd %s did not lead to its page", name)
	}
	doc := b.page(m[0])
	id, err := strconv.ParseInt(text(byTestID(doc, "crowd-group-id")), 10, 64)
	if err != nil || strconv.FormatInt(id, 10) != m[1] {
		b.t.Fatalf("the crowd page of %s shows group_id %q", m[0], text(byTestID(doc, "crowd-group-id")))
	}
	return id
}

// --- a little DOM ---

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func byTestID(doc *html.Node, id string) *html.Node {
	return find(doc, func(n *html.Node) bool { return attr(n, "data-testid") == id })
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}
