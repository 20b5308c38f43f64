// Package static embeds the console's assets and serves them under
// content-hash URLs, so browsers may cache them forever and a new build's
// files are fetched at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed *.css *.js *.svg HTMX_VERSION
var files embed.FS

type asset struct {
	body []byte
	hash string
	mime string
}

var assets = load()

func load() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		out[e.Name()] = asset{body: body, hash: hex.EncodeToString(sum[:6]), mime: ctype}
	}
	return out
}

// Prefix is where assets are mounted.
const Prefix = "/static/"

// URL returns the content-hash URL of an embedded asset, e.g.
// /static/3f2a9c01d4e5/app.css. It panics on an unknown name: that is a
// programming error a test would catch at once.
func URL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("static: no asset " + name)
	}
	return Prefix + a.hash + "/" + name
}

// ServeHTTP serves /static/<hash>/<name>. A current hash is cached for a
// year as immutable; a stale hash (a page from an older build) still gets
// the file, but uncached, so it never pins old bytes under a new name.
func ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	hash, name, ok := strings.Cut(rest, "/")
	a, found := assets[name]
	if !ok || !found || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.mime)
	h.Set("X-Content-Type-Options", "nosniff")
	if hash == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(a.body)
}
