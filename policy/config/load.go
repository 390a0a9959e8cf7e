// Package config reads a mini-program project's network configuration from
// every file format RULES.md lists (mpnet.json, project.config.json,
// app.json, uni-app's manifest.json, the admin console's domain JSON),
// merges them, and compiles the result into match tables, reporting the
// configuration rules C1-C4 (and C6 duplicates) with file, line and fix.
//
// It is pure: no I/O, no clocks. Files are handed in as bytes.
package config

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"mpnet/abi"
	"mpnet/policy/jsonc"
)

// Source locates a value in an input file.
type Source struct {
	File      string
	Line, Col int
}

// Loaded is a configuration merged from files, with where each value came from.
type Loaded struct {
	Config abi.Config
	// Where maps a path such as "domains.request[0]" or "networkTimeout.request"
	// to the file position it was read from.
	Where map[string]Source
	// Formats names the recognised format of each file, in input order.
	Formats []string
	// Warnings are non-fatal remarks about the files themselves.
	Warnings []abi.Problem
}

// Format names.
const (
	FormatMpnet   = "mpnet.json"
	FormatProject = "project.config.json"
	FormatApp     = "app.json"
	FormatUni     = "manifest.json (uni-app)"
	FormatConsole = "admin console domain list"
)

// MaxFiles bounds how many files one import may merge.
const MaxFiles = abi.MaxConfigFiles

// Load parses and merges files in order: later files override scalar
// settings, domain lists are united. It returns fatal errors (a file that is
// not JSON, an unknown key in mpnet.json, a value of the wrong type); when
// there are any, the Loaded value must not be used.
func Load(files []abi.File) (*Loaded, []abi.Problem) {
	l := &Loaded{Where: map[string]Source{}}
	var errs []abi.Problem
	if len(files) == 0 {
		return nil, []abi.Problem{{Severity: "error", Message: "no configuration files given"}}
	}
	if len(files) > MaxFiles {
		return nil, []abi.Problem{{Severity: "error", Message: fmt.Sprintf("too many configuration files (%d, at most %d)", len(files), MaxFiles)}}
	}
	for _, f := range files {
		name := f.Name
		if name == "" {
			name = "config"
		}
		root, err := jsonc.Parse([]byte(f.Content))
		if err != nil {
			p := abi.Problem{Severity: "error", File: name, Message: "not valid JSON: " + err.Error()}
			if se, ok := err.(*jsonc.SyntaxError); ok {
				p.Line, p.Col = se.Pos.Line, se.Pos.Col
				p.Message = "not valid JSON: " + se.Msg
			}
			errs = append(errs, p)
			l.Formats = append(l.Formats, "")
			continue
		}
		r := &reader{file: name, l: l}
		if root.Kind != jsonc.Object {
			r.fail(root, "", fmt.Sprintf("the file holds a JSON %s; a configuration file holds an object", root.Kind))
			errs = append(errs, r.errs...)
			l.Formats = append(l.Formats, "")
			continue
		}
		format := detect(name, root)
		l.Formats = append(l.Formats, format)
		switch format {
		case FormatMpnet:
			r.mpnet(root)
		case FormatProject:
			r.project(root)
		case FormatApp:
			r.app(root)
		case FormatUni:
			r.uni(root)
		case FormatConsole:
			r.console(root)
		default:
			r.errs = append(r.errs, abi.Problem{Severity: "error", File: name, Line: root.Pos.Line, Col: root.Pos.Col,
				Message: "cannot tell what kind of configuration file this is",
				Fix:     "name it mpnet.json, project.config.json, app.json or manifest.json, or give it a \"domains\" object (mpnet.json) or \"requestdomain\" lists (admin console)"})
		}
		errs = append(errs, r.errs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return l, nil
}

// detect recognises a file's format from its name, then from its keys.
func detect(name string, root *jsonc.Value) string {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, "\\", "/")))
	switch {
	case base == "mpnet.json" || strings.HasSuffix(base, ".mpnet.json"):
		return FormatMpnet
	case base == "project.config.json" || base == "project.private.config.json":
		return FormatProject
	case base == "app.json":
		return FormatApp
	case base == "manifest.json":
		return FormatUni
	}
	has := func(k string) bool { return root.Get(k) != nil }
	switch {
	case has("domains"):
		return FormatMpnet
	case has("requestdomain") || has("errcode") || has("wsrequestdomain") || has("uploaddomain") || has("downloaddomain") || has("udpdomain") || has("tcpdomain"):
		return FormatConsole
	case has("mp-weixin"):
		return FormatUni
	case has("setting") || has("compileType") || has("projectname") || has("libVersion"):
		return FormatProject
	case has("pages") || has("networkTimeout"):
		return FormatApp
	}
	return ""
}

type reader struct {
	file string
	l    *Loaded
	errs []abi.Problem
}

func (r *reader) at(v *jsonc.Value) Source {
	return Source{File: r.file, Line: v.Pos.Line, Col: v.Pos.Col}
}

func (r *reader) fail(v *jsonc.Value, key, msg string) {
	r.errs = append(r.errs, abi.Problem{Severity: "error", File: r.file, Line: v.Pos.Line, Col: v.Pos.Col, Entry: key, Message: msg})
}

func (r *reader) warn(v *jsonc.Value, key, msg string) {
	r.l.Warnings = append(r.l.Warnings, abi.Problem{Severity: "warning", File: r.file, Line: v.Pos.Line, Col: v.Pos.Col, Entry: key, Message: msg})
}

var mpnetKeys = []string{"$schema", "appid", "version", "domains", "networkTimeout", "urlCheck", "mode", "lan", "concurrency", "timeoutFrom", "tooling"}
var domainKeys = []string{"request", "uploadFile", "downloadFile", "socket", "tcp", "udp"}
var timeoutKeys = []string{"request", "connectSocket", "uploadFile", "downloadFile"}

// The accepted values of "concurrency" and "timeoutFrom".
var (
	concurrencyValues = []string{"queue", "legacy"}
	timeoutFromValues = []string{"call", "start"}
)

// mpnet reads the product's own file: every key is checked, unknown keys are errors.
func (r *reader) mpnet(root *jsonc.Value) {
	r.unknownKeys(root, "", mpnetKeys)
	for _, d := range root.Duplicates() {
		r.fail(d.Value, d.Key, fmt.Sprintf("key %q appears twice", d.Key))
	}
	if v := root.Get("appid"); v != nil {
		r.appid(v, "appid")
	}
	if v := root.Get("version"); v != nil {
		r.version(v)
	}
	d := root.Get("domains")
	if d == nil {
		r.errs = append(r.errs, abi.Problem{Severity: "error", File: r.file, Line: root.Pos.Line, Col: root.Pos.Col, Entry: "domains",
			Message: "missing \"domains\": mpnet.json must list the domains", Fix: `add "domains": {"request": ["https://api.example.com"]}`})
	} else if d.Kind != jsonc.Object {
		r.fail(d, "domains", fmt.Sprintf("\"domains\" is a %s, want an object of lists", d.Kind))
	} else {
		r.unknownKeys(d, "domains.", domainKeys)
		for _, k := range domainKeys {
			if v := d.Get(k); v != nil {
				r.list(v, "domains."+k, listPtr(&r.l.Config, k))
			}
		}
	}
	if v := root.Get("networkTimeout"); v != nil {
		r.timeouts(v, "networkTimeout", true)
	}
	if v := root.Get("urlCheck"); v != nil {
		r.urlCheck(v, "urlCheck")
	}
	if v := root.Get("mode"); v != nil {
		r.enum(v, "mode", abi.Modes, &r.l.Config.Mode)
	}
	if v := root.Get("concurrency"); v != nil {
		r.enum(v, "concurrency", concurrencyValues, &r.l.Config.Concurrency)
	}
	if v := root.Get("timeoutFrom"); v != nil {
		r.enum(v, "timeoutFrom", timeoutFromValues, &r.l.Config.TimeoutFrom)
	}
	if v := root.Get("tooling"); v != nil {
		r.list(v, "tooling", &r.l.Config.Tooling)
	}
	if v := root.Get("lan"); v != nil {
		switch {
		case v.Kind == jsonc.Bool && !v.Bool:
			r.l.Config.LAN = []string{}
		case v.Kind == jsonc.Array:
			lan := []string{}
			for i, e := range v.Elems {
				if e.Kind != jsonc.String {
					r.fail(e, fmt.Sprintf("lan[%d]", i), fmt.Sprintf("lan[%d] is a %s, want a CIDR string such as \"192.168.0.0/16\"", i, e.Kind))
					continue
				}
				r.l.Where[fmt.Sprintf("lan[%d]", len(lan))] = r.at(e)
				lan = append(lan, e.Text)
			}
			r.l.Config.LAN = lan
		default:
			r.fail(v, "lan", fmt.Sprintf("\"lan\" is a %s, want a list of CIDR ranges or false", v.Kind))
		}
	}
}

// project reads project.config.json / project.private.config.json.
func (r *reader) project(root *jsonc.Value) {
	if v := root.Get("appid"); v != nil {
		r.appid(v, "appid")
	}
	if s := root.Get("setting"); s != nil {
		if s.Kind != jsonc.Object {
			r.fail(s, "setting", fmt.Sprintf("\"setting\" is a %s, want an object", s.Kind))
			return
		}
		if v := s.Get("urlCheck"); v != nil {
			r.urlCheck(v, "setting.urlCheck")
		}
	}
}

// app reads app.json's networkTimeout.
func (r *reader) app(root *jsonc.Value) {
	if v := root.Get("networkTimeout"); v != nil {
		r.timeouts(v, "networkTimeout", false)
	}
}

// uni reads uni-app's manifest.json.
func (r *reader) uni(root *jsonc.Value) {
	if v := root.Get("networkTimeout"); v != nil {
		r.timeouts(v, "networkTimeout", false)
	}
	mp := root.Get("mp-weixin")
	if mp == nil {
		r.warn(root, "mp-weixin", "manifest.json has no \"mp-weixin\" section: no appid or urlCheck read from it")
		return
	}
	if mp.Kind != jsonc.Object {
		r.fail(mp, "mp-weixin", fmt.Sprintf("\"mp-weixin\" is a %s, want an object", mp.Kind))
		return
	}
	if v := mp.Get("appid"); v != nil {
		r.appid(v, "mp-weixin.appid")
	}
	if s := mp.Get("setting"); s != nil {
		if s.Kind != jsonc.Object {
			r.fail(s, "mp-weixin.setting", fmt.Sprintf("\"mp-weixin.setting\" is a %s, want an object", s.Kind))
		} else if v := s.Get("urlCheck"); v != nil {
			r.urlCheck(v, "mp-weixin.setting.urlCheck")
		}
	}
	if v := mp.Get("networkTimeout"); v != nil {
		r.timeouts(v, "mp-weixin.networkTimeout", false)
	}
}

// consoleLists maps the admin console's server API names to mpnet lists.
var consoleLists = [][2]string{
	{"requestdomain", "request"}, {"wsrequestdomain", "socket"}, {"uploaddomain", "uploadFile"},
	{"downloaddomain", "downloadFile"}, {"udpdomain", "udp"}, {"tcpdomain", "tcp"},
}

// console reads the admin console's domain JSON (the server API's answer, or just its lists).
func (r *reader) console(root *jsonc.Value) {
	if ec := root.Get("errcode"); ec != nil && ec.Kind == jsonc.Number && ec.Num != 0 {
		msg := ""
		if em := root.Get("errmsg"); em != nil && em.Kind == jsonc.String {
			msg = ": " + em.Text
		}
		r.fail(ec, "errcode", fmt.Sprintf("the admin console answered errcode %s%s; this file holds no domain lists", ec.Text, msg))
		return
	}
	for _, m := range consoleLists {
		if v := root.Get(m[0]); v != nil {
			r.list(v, "domains."+m[1], listPtr(&r.l.Config, m[1]))
		}
	}
}

func (r *reader) unknownKeys(obj *jsonc.Value, prefix string, known []string) {
	for _, m := range obj.Members {
		if contains(known, m.Key) {
			continue
		}
		msg := fmt.Sprintf("unknown key %q", prefix+m.Key)
		fix := "remove it; known keys: " + strings.Join(known, ", ")
		if s := closest(m.Key, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", prefix+s)
			fix = fmt.Sprintf("rename it to %q", s)
		}
		r.errs = append(r.errs, abi.Problem{Severity: "error", File: r.file, Line: m.KeyPos.Line, Col: m.KeyPos.Col, Entry: prefix + m.Key, Message: msg, Fix: fix})
	}
}

func (r *reader) appid(v *jsonc.Value, key string) {
	if v.Kind != jsonc.String {
		r.fail(v, key, fmt.Sprintf("%q is a %s, want a string such as \"wx0123456789abcdef\"", key, v.Kind))
		return
	}
	r.l.Config.AppID = v.Text
	r.l.Where["appid"] = r.at(v)
}

func (r *reader) version(v *jsonc.Value) {
	switch v.Kind {
	case jsonc.String:
		r.l.Config.Version = v.Text
	case jsonc.Number:
		r.l.Config.Version = v.Text
	default:
		r.fail(v, "version", fmt.Sprintf("\"version\" is a %s, want a string: \"0\", \"devtools\" or a release version", v.Kind))
		return
	}
	r.l.Where["version"] = r.at(v)
}

func (r *reader) urlCheck(v *jsonc.Value, key string) {
	if v.Kind != jsonc.Bool {
		r.fail(v, key, fmt.Sprintf("%q is a %s, want true or false", key, v.Kind))
		return
	}
	b := v.Bool
	r.l.Config.URLCheck = &b
	r.l.Where["urlCheck"] = r.at(v)
}

func (r *reader) enum(v *jsonc.Value, key string, allowed []string, dst *string) {
	if v.Kind != jsonc.String || !contains(allowed, v.Text) {
		got := v.Kind.String()
		if v.Kind == jsonc.String {
			got = fmt.Sprintf("%q", v.Text)
		}
		r.fail(v, key, fmt.Sprintf("%q is %s, want one of %s", key, got, quoteAll(allowed)))
		return
	}
	*dst = v.Text
	r.l.Where[key] = r.at(v)
}

func (r *reader) timeouts(v *jsonc.Value, key string, strict bool) {
	if v.Kind != jsonc.Object {
		r.fail(v, key, fmt.Sprintf("%q is a %s, want an object of milliseconds", key, v.Kind))
		return
	}
	if strict {
		r.unknownKeys(v, key+".", timeoutKeys)
	}
	t := &r.l.Config.NetworkTimeout
	dst := map[string]*int64{"request": &t.Request, "connectSocket": &t.ConnectSocket, "uploadFile": &t.UploadFile, "downloadFile": &t.DownloadFile}
	for _, k := range timeoutKeys {
		e := v.Get(k)
		if e == nil {
			continue
		}
		name := key + "." + k
		if e.Kind != jsonc.Number || e.Num != math.Trunc(e.Num) || e.Num <= 0 || e.Num > 1e12 {
			r.fail(e, name, fmt.Sprintf("%q is %s, want a positive whole number of milliseconds", name, describe(e)))
			continue
		}
		*dst[k] = int64(e.Num)
		r.l.Where["networkTimeout."+k] = r.at(e)
	}
}

// list reads a domain list, appending to dst (lists from several files unite).
func (r *reader) list(v *jsonc.Value, key string, dst *[]string) {
	if v.Kind != jsonc.Array {
		r.fail(v, key, fmt.Sprintf("%q is a %s, want a list of strings", key, v.Kind))
		return
	}
	for i, e := range v.Elems {
		if e.Kind != jsonc.String {
			want := "\"https://api.example.com\""
			if key == "tooling" {
				want = "URL pattern such as \"http://localhost:*/mock/*\""
			}
			r.fail(e, fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("%s[%d] is a %s, want a string such as %s", key, i, e.Kind, want))
			continue
		}
		r.l.Where[fmt.Sprintf("%s[%d]", key, len(*dst))] = r.at(e)
		*dst = append(*dst, e.Text)
	}
}

func listPtr(c *abi.Config, name string) *[]string {
	switch name {
	case "request":
		return &c.Domains.Request
	case "uploadFile":
		return &c.Domains.UploadFile
	case "downloadFile":
		return &c.Domains.DownloadFile
	case "socket":
		return &c.Domains.Socket
	case "tcp":
		return &c.Domains.TCP
	case "udp":
		return &c.Domains.UDP
	}
	panic("config: unknown list " + name)
}

func describe(v *jsonc.Value) string {
	switch v.Kind {
	case jsonc.Number:
		return v.Text
	case jsonc.String:
		return fmt.Sprintf("the string %q", v.Text)
	}
	return "a " + v.Kind.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// closest returns the known key nearest to k (case-insensitive edit distance
// at most 2), or "".
func closest(k string, known []string) string {
	best, bestD := "", 3
	cands := append([]string(nil), known...)
	sort.Strings(cands)
	for _, c := range cands {
		if d := editDistance(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// CheckStruct validates a configuration handed in as a structure rather than
// a file (enumerations and numbers; entries are checked by Compile).
func CheckStruct(c *abi.Config) []abi.Problem {
	var errs []abi.Problem
	enum := func(key, v string, allowed []string) {
		if v != "" && !contains(allowed, v) {
			errs = append(errs, abi.Problem{Severity: "error", Entry: key, Message: fmt.Sprintf("%q is %q, want one of %s", key, v, quoteAll(allowed))})
		}
	}
	enum("mode", c.Mode, abi.Modes)
	enum("concurrency", c.Concurrency, concurrencyValues)
	enum("timeoutFrom", c.TimeoutFrom, timeoutFromValues)
	t := c.NetworkTimeout
	for k, v := range map[string]int64{"request": t.Request, "connectSocket": t.ConnectSocket, "uploadFile": t.UploadFile, "downloadFile": t.DownloadFile} {
		if v < 0 {
			errs = append(errs, abi.Problem{Severity: "error", Entry: "networkTimeout." + k, Message: fmt.Sprintf("networkTimeout.%s is %d, want a positive number of milliseconds", k, v)})
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Entry < errs[j].Entry })
	return errs
}
