package testkit

import (
	"strings"

	"golang.org/x/net/html"
)

// CSRFToken is the content of a page's <meta name="csrf-token">, read with
// the tokenizer up to <body> (a harness calls it on every response, so it
// stops early rather than parse the whole page).
func CSRFToken(body string) (string, bool) {
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "body" {
				return "", false
			}
			if tok.Data == "meta" && attr(tok, "name") == "csrf-token" {
				return attr(tok, "content"), true
			}
		}
	}
}

// TestIDText is the text of the first element of a page with data-testid
// id, white space folded, and whether there is one: a page asserted through
// its DOM, not its bytes (the web package's tests have a fuller kit).
func TestIDText(body, id string) (string, bool) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return "", false
	}
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for ; n != nil && found == nil; n = n.NextSibling {
			if n.Type == html.ElementNode && nodeAttr(n, "data-testid") == id {
				found = n
				return
			}
			walk(n.FirstChild)
		}
	}
	walk(doc)
	if found == nil {
		return "", false
	}
	var b strings.Builder
	var text func(*html.Node)
	text = func(n *html.Node) {
		for ; n != nil; n = n.NextSibling {
			if n.Type == html.TextNode {
				b.WriteString(n.Data)
			}
			text(n.FirstChild)
		}
	}
	text(found.FirstChild)
	return strings.Join(strings.Fields(b.String()), " "), true
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
