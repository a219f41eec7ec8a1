package batpak_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// internalRoles are the packages below the facade whose types the public
// API must not show: a user clicking through the facade's signatures lands
// in the facade, event, projector, vfs or snapshot, never in these.
var internalRoles = map[string]bool{
	"writer": true, "reader": true, "subscriber": true, "supervisor": true,
	"index": true, "segment": true, "actor": true, "compact": true,
}

// TestPublicAPIShowsNoInternalType walks every exported declaration of the
// facade — functions, methods of exported types, types and aliases,
// exported fields and interface methods — and fails on any type named from
// an internal-role package. Sentinel error variables may point at a lower
// package's sentinel (errors.Is must match across packages); they are
// values, not types, and are not checked.
func TestPublicAPIShowsNoInternalType(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	var leaks []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		internal := map[string]string{} // local name -> import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := path.Base(p)
			if imp.Name != nil {
				local = imp.Name.Name
			}
			if strings.HasPrefix(p, "github.com/batpak-go/batpak/") && internalRoles[path.Base(p)] {
				internal[local] = p
			}
		}
		check := func(where string, n ast.Node) {
			if n == nil {
				return
			}
			ast.Inspect(n, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] != "" {
						leaks = append(leaks, name+": "+where+" shows "+id.Name+"."+sel.Sel.Name)
					}
				}
				return true
			})
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				check(d.Name.Name, d.Type)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					if ts.TypeParams != nil {
						check(ts.Name.Name, ts.TypeParams)
					}
					switch ty := ts.Type.(type) {
					case *ast.StructType:
						for _, fl := range ty.Fields.List {
							if len(fl.Names) == 0 || fl.Names[0].IsExported() {
								check(ts.Name.Name+" field", fl.Type)
							}
						}
					case *ast.InterfaceType:
						check(ts.Name.Name, ty)
					default:
						check(ts.Name.Name, ts.Type)
					}
				}
			}
		}
	}
	require.Empty(t, leaks, "exported API naming internal-role packages' types")
}

func exportedRecv(recv *ast.FieldList) bool {
	ty := recv.List[0].Type
	if star, ok := ty.(*ast.StarExpr); ok {
		ty = star.X
	}
	if ix, ok := ty.(*ast.IndexExpr); ok {
		ty = ix.X
	}
	id, ok := ty.(*ast.Ident)
	return ok && id.IsExported()
}
