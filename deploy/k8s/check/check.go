// Package check builds the kustomize overlays under deploy/k8s and decodes
// every resulting object strictly against the Kubernetes API types, offline:
// no kubectl, no API server, no schema download. Its tests assert the
// deployment policies (docs/deploy.md).
//
// It is a separate Go module so that the k8s.io and kustomize dependencies
// stay out of the gateway's go.mod.
package check

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Object is one decoded Kubernetes object of a build.
type Object struct {
	GVK  schema.GroupVersionKind
	Name string
	Obj  runtime.Object
}

// strict decodes YAML or JSON into the typed API objects of client-go's
// scheme, rejecting unknown and duplicate fields.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// Decode decodes one manifest strictly. A kind the scheme does not know is
// an error, as is any field the API type does not have.
func Decode(manifest []byte) (Object, error) {
	obj, gvk, err := strict.Decode(manifest, nil, nil)
	if err != nil {
		return Object{}, fmt.Errorf("check: decode: %w", err)
	}
	name := ""
	if m, ok := obj.(interface{ GetName() string }); ok {
		name = m.GetName()
	}
	return Object{GVK: *gvk, Name: name, Obj: obj}, nil
}

// Build runs kustomize on dir (a directory with a kustomization.yaml) and
// decodes every resulting object strictly. All decode errors are reported.
func Build(dir string) ([]Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("check: kustomize build %s: %w", dir, err)
	}
	var (
		objs []Object
		errs []error
	)
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			errs = append(errs, fmt.Errorf("check: %s: %w", r.CurId(), err))
			continue
		}
		o, err := Decode(y)
		if err != nil {
			errs = append(errs, fmt.Errorf("check: %s: %w", r.CurId(), err))
			continue
		}
		objs = append(objs, o)
	}
	return objs, errors.Join(errs...)
}

// DecodeFile decodes every document of a YAML file strictly.
func DecodeFile(path string) ([]Object, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var objs []Object
	for _, doc := range splitYAML(raw) {
		o, err := Decode(doc)
		if err != nil {
			return nil, fmt.Errorf("check: %s: %w", path, err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// splitYAML splits a multi-document YAML stream on "---" lines, dropping
// documents that hold only comments or whitespace.
func splitYAML(raw []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), raw...), []byte("\n---")) {
		empty := true
		for _, line := range strings.Split(string(d), "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, d)
		}
	}
	return docs
}

// Find returns the objects of type T, by name.
func Find[T runtime.Object](objs []Object) map[string]T {
	out := map[string]T{}
	for _, o := range objs {
		if t, ok := o.Obj.(T); ok {
			out[o.Name] = t
		}
	}
	return out
}

// ConfigEnvNames parses the gateway's configuration loader (the Go file at
// path, internal/config/config.go) and returns the `env:"..."` tag of every
// setting of its Config struct: its own tagged fields, and those of the
// packages' Settings it composes (an untagged field whose type is a struct
// of another package of the module, read from that package's source).
func ConfigEnvNames(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	root, module, err := moduleOf(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	st := structType([]*ast.File{f}, "Config")
	if st == nil {
		return nil, fmt.Errorf("check: %s: no type Config", path)
	}
	var names []string
	for _, fld := range st.Fields.List {
		if env := envTag(fld); env != "" {
			names = append(names, env)
			continue
		}
		sel, ok := fld.Type.(*ast.SelectorExpr)
		if !ok || fld.Tag != nil {
			continue
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			continue
		}
		dir := importDir(f, pkg.Name, root, module)
		if dir == "" {
			continue
		}
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		var files []*ast.File
		for _, p := range pkgs {
			for _, pf := range p.Files {
				files = append(files, pf)
			}
		}
		inner := structType(files, sel.Sel.Name)
		if inner == nil {
			return nil, fmt.Errorf("check: %s: no struct type %s", dir, sel.Sel.Name)
		}
		for _, ifld := range inner.Fields.List {
			if env := envTag(ifld); env != "" {
				names = append(names, env)
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("check: %s: no env tags in type Config", path)
	}
	sort.Strings(names)
	return names, nil
}

// structType finds the struct type named name among files.
func structType(files []*ast.File, name string) *ast.StructType {
	var found *ast.StructType
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || ts.Name.Name != name {
				return found == nil
			}
			found, _ = ts.Type.(*ast.StructType)
			return false
		})
	}
	return found
}

// envTag is a field's env tag ("" without one).
func envTag(fld *ast.Field) string {
	if fld.Tag == nil {
		return ""
	}
	tag, err := strconv.Unquote(fld.Tag.Value)
	if err != nil {
		return ""
	}
	return reflect.StructTag(tag).Get("env")
}

// importDir is the directory of the package f imports as name, when it is
// a package of module (rooted at root); "" otherwise.
func importDir(f *ast.File, name, root, module string) string {
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil || !strings.HasPrefix(p, module+"/") {
			continue
		}
		as := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			as = imp.Name.Name
		}
		if as == name {
			return filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, module+"/")))
		}
	}
	return ""
}

// moduleOf finds the go.mod at or above dir and returns its directory and
// module path.
func moduleOf(dir string) (root, module string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		raw, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(raw), "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return d, strings.TrimSpace(rest), nil
				}
			}
			return "", "", fmt.Errorf("check: %s/go.mod has no module line", d)
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("check: no go.mod above %s", dir)
		}
	}
}

// RepoRoot is the repository root, found from the working directory by
// walking up to the directory holding the gateway's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("module github.com/kwaishop-gateway/kwaishop-gateway\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("check: repository root (the gateway's go.mod) not found")
		}
		dir = parent
	}
}
