package deploycheck

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ConfigPackage is the import path of the package whose *Env the functions
// read their environment through.
const ConfigPackage = "github.com/dtecl/pipeline/shared/config"

// getters are the methods of config.Env that read a variable, by name.
var getters = map[string]bool{
	"String": true, "Int": true, "Bool": true, "Duration": true,
	"Durations": true, "Required": true, "Secret": true,
}

// EnvRead is one environment variable a function reads.
type EnvRead struct {
	Name   string // the variable, e.g. S3_BUCKET
	Getter string // the config.Env method: String, Int, Bool, Duration, Durations, Required or Secret
	Pos    string // where it is read, file:line
}

// Secret tells whether the variable may also be given as a file, NAME_FILE.
func (r EnvRead) Secret() bool { return r.Getter == "Secret" }

// Required tells whether the function refuses to start without it.
func (r EnvRead) Required() bool { return r.Getter == "Required" }

// EnvReads returns the environment variables the main package in dir reads,
// sorted by name: the config.Env getter calls in every function that takes a
// *config.Env, following the Env into the functions it is passed to (such
// as archive.S3ConfigFromEnv) in the packages of modules, a map from module
// path to directory. Reading the environment any other way (os.Getenv,
// os.LookupEnv, os.Environ) is an error, as is a variable name that is not a
// string constant: either would hide a read from the check.
func EnvReads(dir string, modules map[string]string) ([]EnvRead, error) {
	a := &analyzer{modules: modules, pkgs: map[string]*pkgInfo{}, done: map[string]bool{}}
	pkg, err := a.load(dir)
	if err != nil {
		return nil, err
	}
	if err := pkg.forbidOSEnv(); err != nil {
		return nil, err
	}
	entries := 0
	for _, name := range pkg.funcNames() {
		fd := pkg.funcs[name]
		param := pkg.envParam(fd)
		if param == "" {
			continue
		}
		entries++
		if err := a.walk(pkg, fd, param); err != nil {
			return nil, err
		}
	}
	if entries == 0 {
		return nil, fmt.Errorf("%s: no function takes a *config.Env", dir)
	}
	if len(a.errs) > 0 {
		return nil, errors.Join(a.errs...)
	}
	byName := map[string]EnvRead{}
	for _, r := range a.reads {
		if prev, ok := byName[r.Name]; ok && prev.Getter != r.Getter {
			return nil, fmt.Errorf("%s read twice, with %s (%s) and %s (%s)", r.Name, prev.Getter, prev.Pos, r.Getter, r.Pos)
		}
		byName[r.Name] = r
	}
	out := make([]EnvRead, 0, len(byName))
	for _, r := range byName {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// analyzer walks functions that receive a *config.Env.
type analyzer struct {
	modules map[string]string
	pkgs    map[string]*pkgInfo // by directory
	done    map[string]bool     // dir.func already walked
	reads   []EnvRead
	errs    []error
}

// pkgInfo is one parsed package (test files left out).
type pkgInfo struct {
	dir    string
	fset   *token.FileSet
	files  []*ast.File
	funcs  map[string]*ast.FuncDecl // top-level functions (not methods)
	consts map[string]string        // string constants
	fileOf map[*ast.FuncDecl]*ast.File
}

func (a *analyzer) load(dir string) (*pkgInfo, error) {
	if p, ok := a.pkgs[dir]; ok {
		return p, nil
	}
	p := &pkgInfo{dir: dir, fset: token.NewFileSet(), funcs: map[string]*ast.FuncDecl{}, consts: map[string]string{}, fileOf: map[*ast.FuncDecl]*ast.File{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		p.files = append(p.files, f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					p.funcs[d.Name.Name] = d
					p.fileOf[d] = f
				}
			case *ast.GenDecl:
				if d.Tok == token.CONST {
					p.addConsts(d)
				}
			}
		}
	}
	if len(p.files) == 0 {
		return nil, fmt.Errorf("%s: no Go files", dir)
	}
	a.pkgs[dir] = p
	return p, nil
}

func (p *pkgInfo) addConsts(d *ast.GenDecl) {
	for _, s := range d.Specs {
		vs, ok := s.(*ast.ValueSpec)
		if !ok {
			continue
		}
		for i, n := range vs.Names {
			if i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil {
					p.consts[n.Name] = v
				}
			}
		}
	}
}

func (p *pkgInfo) funcNames() []string {
	names := make([]string, 0, len(p.funcs))
	for n := range p.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// imports maps the names a file's imports are known by to their paths.
func imports(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, im := range f.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		m[name] = path
	}
	return m
}

// envParam is the name of fd's *config.Env parameter, or "".
func (p *pkgInfo) envParam(fd *ast.FuncDecl) string {
	ims := imports(p.fileOf[fd])
	for _, field := range fd.Type.Params.List {
		star, ok := field.Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		sel, ok := star.X.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Env" {
			continue
		}
		if x, ok := sel.X.(*ast.Ident); ok && ims[x.Name] == ConfigPackage && len(field.Names) == 1 {
			return field.Names[0].Name
		}
	}
	return ""
}

// forbidOSEnv fails on any read of the process environment that bypasses
// config.Env.
func (p *pkgInfo) forbidOSEnv() error {
	var errs []error
	for _, f := range p.files {
		if imports(f)["os"] != "os" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" {
				switch sel.Sel.Name {
				case "Getenv", "LookupEnv", "Environ":
					errs = append(errs, fmt.Errorf("%s: os.%s bypasses config.Env, so the deployment check cannot see it", p.fset.Position(sel.Pos()), sel.Sel.Name))
				}
			}
			return true
		})
	}
	return errors.Join(errs...)
}

// walk records the reads in fd, whose parameter param is the *config.Env,
// and follows param into the functions it is passed to.
func (a *analyzer) walk(p *pkgInfo, fd *ast.FuncDecl, param string) error {
	key := p.dir + "." + fd.Name.Name
	if a.done[key] {
		return nil
	}
	a.done[key] = true
	ims := imports(p.fileOf[fd])
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == param {
				a.getterCall(p, call, sel.Sel.Name)
				return true
			}
		}
		for i, arg := range call.Args {
			if id, ok := arg.(*ast.Ident); ok && id.Name == param {
				a.follow(p, ims, call, i)
			}
		}
		return true
	})
	return nil
}

func (a *analyzer) getterCall(p *pkgInfo, call *ast.CallExpr, method string) {
	pos := p.fset.Position(call.Pos())
	if !getters[method] {
		if method != "Err" {
			a.errs = append(a.errs, fmt.Errorf("%s: unknown config.Env method %s", pos, method))
		}
		return
	}
	if len(call.Args) == 0 {
		a.errs = append(a.errs, fmt.Errorf("%s: %s without a variable name", pos, method))
		return
	}
	name, ok := p.stringConst(call.Args[0])
	if !ok {
		a.errs = append(a.errs, fmt.Errorf("%s: the variable name given to %s is not a string constant", pos, method))
		return
	}
	a.reads = append(a.reads, EnvRead{Name: name, Getter: method, Pos: fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)})
}

func (p *pkgInfo) stringConst(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			v, err := strconv.Unquote(e.Value)
			return v, err == nil
		}
	case *ast.Ident:
		v, ok := p.consts[e.Name]
		return v, ok
	}
	return "", false
}

// follow walks the callee of call, which gets the Env as argument i.
func (a *analyzer) follow(p *pkgInfo, ims map[string]string, call *ast.CallExpr, i int) {
	pos := p.fset.Position(call.Pos())
	callee, fd, err := a.resolve(p, ims, call.Fun)
	if err != nil {
		a.errs = append(a.errs, fmt.Errorf("%s: the config.Env goes to %s", pos, err))
		return
	}
	param := paramAt(fd, i)
	if param == "" {
		a.errs = append(a.errs, fmt.Errorf("%s: cannot tell which parameter of %s gets the config.Env", pos, fd.Name.Name))
		return
	}
	if err := a.walk(callee, fd, param); err != nil {
		a.errs = append(a.errs, err)
	}
}

// resolve finds the declaration of a called function: one of the package's
// own, or one of a workspace package's (pkg.Func).
func (a *analyzer) resolve(p *pkgInfo, ims map[string]string, fun ast.Expr) (*pkgInfo, *ast.FuncDecl, error) {
	switch f := fun.(type) {
	case *ast.Ident:
		if fd, ok := p.funcs[f.Name]; ok {
			return p, fd, nil
		}
		return nil, nil, fmt.Errorf("%s, which is not a function of this package", f.Name)
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		if !ok {
			return nil, nil, fmt.Errorf("a method call (%s), which the check cannot follow", f.Sel.Name)
		}
		path, ok := ims[x.Name]
		if !ok {
			return nil, nil, fmt.Errorf("a method call (%s.%s), which the check cannot follow", x.Name, f.Sel.Name)
		}
		dir, ok := a.dirOf(path)
		if !ok {
			return nil, nil, fmt.Errorf("%s.%s, outside the workspace", path, f.Sel.Name)
		}
		q, err := a.load(dir)
		if err != nil {
			return nil, nil, err
		}
		fd, ok := q.funcs[f.Sel.Name]
		if !ok {
			return nil, nil, fmt.Errorf("%s.%s, which is not a function", path, f.Sel.Name)
		}
		return q, fd, nil
	}
	return nil, nil, fmt.Errorf("a call the check cannot follow")
}

// dirOf maps an import path to its directory through the module map.
func (a *analyzer) dirOf(importPath string) (string, bool) {
	best := ""
	for mod := range a.modules {
		if (importPath == mod || strings.HasPrefix(importPath, mod+"/")) && len(mod) > len(best) {
			best = mod
		}
	}
	if best == "" {
		return "", false
	}
	return filepath.Join(a.modules[best], filepath.FromSlash(strings.TrimPrefix(importPath, best))), true
}

// paramAt names the parameter at position i of fd.
func paramAt(fd *ast.FuncDecl, i int) string {
	n := 0
	for _, field := range fd.Type.Params.List {
		names := field.Names
		if len(names) == 0 {
			if n == i {
				return ""
			}
			n++
			continue
		}
		for _, name := range names {
			if n == i {
				return name.Name
			}
			n++
		}
	}
	return ""
}

// WorkspaceModules maps the module path of each go.mod under root (shared,
// tools and functions/*) to its directory.
func WorkspaceModules(root string) (map[string]string, error) {
	dirs := []string{filepath.Join(root, "shared"), filepath.Join(root, "tools")}
	fns, err := filepath.Glob(filepath.Join(root, "functions", "*", "go.mod"))
	if err != nil {
		return nil, err
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("%s: no functions/*/go.mod", root)
	}
	for _, f := range fns {
		dirs = append(dirs, filepath.Dir(f))
	}
	mods := map[string]string{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err != nil {
			return nil, err
		}
		path := modulePath(b)
		if path == "" {
			return nil, fmt.Errorf("%s/go.mod names no module", d)
		}
		mods[path] = d
	}
	return mods, nil
}

func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}
