package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// runsAlone are the tests that assert how long something takes (the live
// board's 3 s, the webhook receiver's 500 ms): they run first, alone, so
// no other test's work is counted in their time.
var runsAlone = map[string]bool{
	"TestBrowserLiveBoardFollowsThePlatform": true,
	"TestWebhookLeadStatusEventIsApplied":    true,
}

// Every other test of the package starts with t.Parallel(): one that does
// not runs alone before all the parallel ones, and the package's tests
// take that much longer (33 such tests once added ~20 s).
func TestEveryTestRunsInParallel(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, name := range files {
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" {
				continue
			}
			seen++
			switch parallel := startsParallel(fn); {
			case runsAlone[fn.Name.Name] && parallel:
				t.Errorf("%s (%s) measures time and must run alone, but calls t.Parallel()", fn.Name.Name, fset.Position(fn.Pos()))
			case !runsAlone[fn.Name.Name] && !parallel:
				t.Errorf("%s (%s) does not start with t.Parallel()", fn.Name.Name, fset.Position(fn.Pos()))
			}
		}
	}
	if seen < 200 {
		t.Fatalf("found %d tests: the files were not read", seen)
	}
}

// startsParallel reports whether fn's first statement is t.Parallel().
func startsParallel(fn *ast.FuncDecl) bool {
	if fn.Body == nil || len(fn.Body.List) == 0 {
		return false
	}
	expr, ok := fn.Body.List[0].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := expr.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Parallel" && len(call.Args) == 0
}
