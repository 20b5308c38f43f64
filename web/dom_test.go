package web

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// page is a rendered page parsed, to assert through the DOM (data-testid).
type page struct {
	t   testing.TB
	doc *html.Node
}

func parsePage(t testing.TB, body string) page {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return page{t: t, doc: doc}
}

// all are the elements whose data-testid is id, in document order.
func (p page) all(id string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attrOf(n, "data-testid") == id {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.doc)
	return out
}

// has reports an element with data-testid id.
func (p page) has(id string) bool { return len(p.all(id)) > 0 }

// text is the text of the first element with data-testid id ("" if none).
func (p page) text(id string) string {
	if n := p.all(id); len(n) > 0 {
		return nodeText(n[0])
	}
	return ""
}

// textIn is the text of the first element of class class inside the first
// element with data-testid id.
func (p page) textIn(id, class string) string {
	n := p.all(id)
	if len(n) == 0 {
		return ""
	}
	var found string
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		if n.Type == html.ElementNode && slices.Contains(strings.Fields(attrOf(n, "class")), class) {
			found = nodeText(n)
			return true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c) {
				return true
			}
		}
		return false
	}
	walk(n[0])
	return found
}

// attr is an attribute of the first element with data-testid id.
func (p page) attr(id, key string) string {
	if n := p.all(id); len(n) > 0 {
		return attrOf(n[0], key)
	}
	return ""
}

// inputValue is the value of the form control named name ("" if none).
func (p page) inputValue(name string) string {
	var val string
	var walk func(*html.Node) bool
	walk = func(n *html.Node) bool {
		if n.Type == html.ElementNode && (n.Data == "input" || n.Data == "textarea") && attrOf(n, "name") == name {
			val = attrOf(n, "value")
			if n.Data == "textarea" {
				val = nodeText(n)
			}
			return true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if walk(c) {
				return true
			}
		}
		return false
	}
	walk(p.doc)
	return val
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
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
	return strings.Join(strings.Fields(b.String()), " ")
}

// one is the single element with data-testid id (the test fails unless
// there is exactly one).
func (p page) one(id string) *html.Node {
	p.t.Helper()
	m := p.all(id)
	if len(m) != 1 {
		p.t.Fatalf("%d elements with data-testid %q, want 1", len(m), id)
	}
	return m[0]
}

// count is the number the element with data-testid id shows.
func (p page) count(id string) int64 {
	p.t.Helper()
	text := nodeText(p.one(id))
	n, err := strconv.ParseInt(strings.ReplaceAll(text, ",", ""), 10, 64)
	if err != nil {
		p.t.Fatalf("%s shows %q", id, text)
	}
	return n
}

// selectedValue is the value of a select's selected option.
func selectedValue(sel *html.Node) string {
	for _, o := range options(sel) {
		for _, a := range o.Attr {
			if a.Key == "selected" {
				return attrOf(o, "value")
			}
		}
	}
	return ""
}

// optionValues are a select's option values, in order.
func optionValues(sel *html.Node) []string {
	var out []string
	for _, o := range options(sel) {
		out = append(out, attrOf(o, "value"))
	}
	return out
}

func options(sel *html.Node) []*html.Node {
	var out []*html.Node
	for c := sel.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "option" {
			out = append(out, c)
		}
	}
	return out
}

// within returns the elements under n with data-testid id.
func within(n *html.Node, id string) []*html.Node { return page{doc: n}.all(id) }

// parseHTML parses a rendered page, or an htmx fragment, for the DOM
// queries below, which need no test to fail (the parser accepts any input).
// A fragment is parsed as a <template>'s content, where a lone <tr> or
// <option> is kept as it is (in a page's body the parser would drop it).
func parseHTML(body string) page {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(body)), "<!doctype") {
		doc, _ := html.Parse(strings.NewReader(body))
		return page{doc: doc}
	}
	root := &html.Node{Type: html.DocumentNode}
	nodes, _ := html.ParseFragment(strings.NewReader(body), &html.Node{Type: html.ElementNode, Data: "template", DataAtom: atom.Template})
	for _, n := range nodes {
		root.AppendChild(n)
	}
	return page{doc: root}
}

// hasTestID reports whether the page or fragment body has an element with
// data-testid id: an element, not the words in some text or attribute.
func hasTestID(body, id string) bool { return parseHTML(body).has(id) }

// countTestID is how many elements of body have data-testid id.
func countTestID(body, id string) int { return len(parseHTML(body).all(id)) }

// testIDText is the text of body's first element with data-testid id ("" if none).
func testIDText(body, id string) string { return parseHTML(body).text(id) }

// The queries find what a page and a fragment hold, rows and options too.
func TestParseHTMLFindsElementsOfPagesAndFragments(t *testing.T) {
	t.Parallel()
	rows := `<tr data-testid="row"><td data-testid="cell">a</td></tr><tr data-testid="row"><td>b</td></tr>`
	if n := countTestID(rows, "row"); n != 2 {
		t.Errorf("a fragment of two rows: %d rows found", n)
	}
	if got := testIDText(rows, "cell"); got != "a" {
		t.Errorf("cell text %q, want a", got)
	}
	if !hasTestID(`<option data-testid="o" value="1">x</option>`, "o") {
		t.Error("a lone option not found")
	}
	full := `<!DOCTYPE html><html><body><table><tr data-testid="row"></tr></table><p>data-testid="fake"</p></body></html>`
	if countTestID(full, "row") != 1 || hasTestID(full, "fake") {
		t.Error("a page: want its one row, and no element for text that looks like an attribute")
	}
}

// hasTestIDText reports whether an element of body with data-testid id
// shows want in its text (white space folded as a reader sees it).
func hasTestIDText(body, id, want string) bool {
	for _, n := range parseHTML(body).all(id) {
		if strings.Contains(nodeText(n), want) {
			return true
		}
	}
	return false
}

var attrPair = regexp.MustCompile(`^([a-zA-Z:-]+)="([^"]*)"$`)

// hasAttrOn reports whether an element of body with data-testid id has the
// attribute pair, written as in HTML (`data-count="7"`, value escaped).
func hasAttrOn(body, id, pair string) bool {
	m := attrPair.FindStringSubmatch(pair)
	if m == nil {
		return false
	}
	for _, n := range parseHTML(body).all(id) {
		if attrOf(n, m[1]) == html.UnescapeString(m[2]) {
			return true
		}
	}
	return false
}

// testIDAttrs is the attribute key of every element of body with
// data-testid id, in document order.
func testIDAttrs(body, id, key string) []string {
	var out []string
	for _, n := range parseHTML(body).all(id) {
		out = append(out, attrOf(n, key))
	}
	return out
}

// testIDTexts is the text of every element of body with data-testid id, in
// document order.
func testIDTexts(body, id string) []string {
	var out []string
	for _, n := range parseHTML(body).all(id) {
		out = append(out, nodeText(n))
	}
	return out
}

// isFullPage reports whether body is a whole document (a doctype or an
// <html> element) rather than an htmx fragment.
func isFullPage(body string) bool {
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.DoctypeToken:
			return true
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "html" {
				return true
			}
		}
	}
}

// appearsInBytes reports whether s occurs anywhere in a response's raw
// bytes: text, attributes, scripts and comments alike. It is the check for
// "this secret, token or phone number is never sent": stronger than any DOM
// query, so those checks stay on the bytes, under this name.
func appearsInBytes(body, s string) bool { return strings.Contains(body, s) }

// where are the elements named tag ("" for any) that have every attribute
// pair in kv (key, value, key, value...; a value of "*" only asks for the
// attribute), in document order.
func (p page) where(tag string, kv ...string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "" || n.Data == tag) && hasAttrs(n, kv...) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.doc)
	return out
}

// hasAttrs reports whether n has every attribute pair in kv (a value of "*"
// only asks for the attribute).
func hasAttrs(n *html.Node, kv ...string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, a := range n.Attr {
			if a.Key == kv[i] && (kv[i+1] == "*" || a.Val == kv[i+1]) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// allWith are the elements with data-testid id that have every attribute
// pair in kv.
func (p page) allWith(id string, kv ...string) []*html.Node {
	return p.where("", append([]string{"data-testid", id}, kv...)...)
}

// textWith is the text of the first element with data-testid id and the
// attribute pairs kv ("" if none).
func (p page) textWith(id string, kv ...string) string {
	if n := p.allWith(id, kv...); len(n) > 0 {
		return nodeText(n[0])
	}
	return ""
}

// tagsIn are the elements named tag under n.
func tagsIn(n *html.Node, tag string) []*html.Node { return page{doc: n}.where(tag) }

// linksTo reports whether the page has a link (<a>) to href.
func (p page) linksTo(href string) bool { return len(p.where("a", "href", href)) > 0 }

// inlineScriptOrStyle names what in body would need the CSP to allow inline
// code: a <script> without src, a <style> element, a style attribute or an
// on* handler.
func inlineScriptOrStyle(body string) []string {
	var bad []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "script" && attrOf(n, "src") == "":
				bad = append(bad, "<script> without src")
			case n.Data == "style":
				bad = append(bad, "<style>")
			}
			for _, a := range n.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					bad = append(bad, "<"+n.Data+" "+a.Key+">")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(parseHTML(body).doc)
	return bad
}

// outerHTML is n written back as HTML, to query again as a fragment.
func outerHTML(n *html.Node) string {
	var b strings.Builder
	if err := html.Render(&b, n); err != nil {
		panic(err)
	}
	return b.String()
}

// currentTab reports whether the settings tab key is the current page and
// links to href.
func currentTab(body, key, href string) bool { return isCurrentLink(body, "settings-tab-"+key, href) }

// currentNav reports whether the sidebar's item for section is the current
// page and links to href.
func currentNav(body, section, href string) bool { return isCurrentLink(body, "nav-"+section, href) }

func isCurrentLink(body, id, href string) bool {
	return len(parseHTML(body).allWith(id, "href", href, "aria-current", "page")) == 1
}

// pollsNothing reports whether no element of body asks htmx to poll or
// fetch (an hx-trigger or hx-get attribute).
func pollsNothing(body string) bool {
	p := parseHTML(body)
	return len(p.where("", "hx-trigger", "*")) == 0 && len(p.where("", "hx-get", "*")) == 0
}

// under is the part of a page below n, to query like a page.
func under(n *html.Node) page { return page{doc: n} }

// selectedIn are the selected values of every select with data-testid id,
// in document order.
func selectedIn(body, id string) []string {
	var out []string
	for _, sel := range parseHTML(body).all(id) {
		out = append(out, selectedValue(sel))
	}
	return out
}

// optionText is the text of the option of value in the first select with
// data-testid id, and whether it is selected ("" and false if none).
func optionText(body, id, value string) (string, bool) {
	sels := parseHTML(body).all(id)
	if len(sels) == 0 {
		return "", false
	}
	for _, o := range options(sels[0]) {
		if attrOf(o, "value") == value {
			return nodeText(o), hasAttrs(o, "selected", "*")
		}
	}
	return "", false
}

// spacedText is n's text as a reader sees it, a space between elements
// (nodeText joins a cell and its label: "file12 KiB").
func spacedText(n *html.Node) string {
	var parts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			parts = append(parts, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// fieldError is the text of the field error (components.FieldError) with
// DOM id id, and whether there is one.
func fieldError(body, id string) (string, bool) {
	if n := parseHTML(body).where("", "id", id, "class", "error"); len(n) == 1 {
		return nodeText(n[0]), true
	}
	return "", false
}

// hasFieldError reports whether body has the field error with DOM id id.
func hasFieldError(body, id string) bool { _, ok := fieldError(body, id); return ok }

// firstElement is n's first child element (nil if none).
func firstElement(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return nil
}

// enclosing is the nearest ancestor of n named tag (nil if none).
func enclosing(n *html.Node, tag string) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == tag {
			return p
		}
	}
	return nil
}

// in is the part of p below n, to query like a page (failing p's test).
func (p page) in(n *html.Node) page { return page{t: p.t, doc: n} }

// parseFrag is parseHTML for a test: a page or an htmx fragment, whose
// one() fails t.
func parseFrag(t testing.TB, body string) page {
	p := parseHTML(body)
	p.t = t
	return p
}

// isNumber reports whether s is a whole number (an attribute's digits).
func isNumber(s string) bool { _, err := strconv.ParseInt(s, 10, 64); return err == nil }

// textareaText is the text of the textarea named name, exactly as the
// browser would hold it (not folded; nil if there is none).
func (p page) textareaText(name string) *string {
	areas := p.where("textarea", "name", name)
	if len(areas) == 0 {
		return nil
	}
	var b strings.Builder
	for c := areas[0].FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(c.Data)
	}
	s := b.String()
	return &s
}

// keepsText reports whether body's textarea named name holds text exactly.
func keepsText(body, name, text string) bool {
	got := parseHTML(body).textareaText(name)
	return got != nil && *got == text
}

// hasElementText reports whether an element of body shows exactly text
// (white space folded), its whole text and not part of it.
func hasElementText(body, text string) bool {
	return len(parseHTML(body).whereText(text)) > 0
}

// whereText are the elements whose whole text is text.
func (p page) whereText(text string) []*html.Node {
	var out []*html.Node
	for _, n := range p.where("") {
		if nodeText(n) == text {
			out = append(out, n)
		}
	}
	return out
}

// hasControl reports whether body has an input named name holding value
// (typ, when not "", its type: "hidden", "date"...).
func hasControl(body, typ, name, value string) bool {
	kv := []string{"name", name, "value", value}
	if typ != "" {
		kv = append(kv, "type", typ)
	}
	return len(parseHTML(body).where("input", kv...)) > 0
}

// texts are the nodes' texts.
func texts(nodes []*html.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, nodeText(n))
	}
	return out
}

// pageText is what a reader sees of a page or fragment: its text, a space
// between elements.
func pageText(body string) string { return spacedText(parseHTML(body).doc) }

// pageLang is the lang of a page's <html> element ("" if none).
func pageLang(body string) string {
	if n := parseHTML(body).where("html"); len(n) == 1 {
		return attrOf(n[0], "lang")
	}
	return ""
}
