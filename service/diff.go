package service

import (
	"fmt"
	"strconv"
	"strings"

	"mpnet/abi"
	"mpnet/policy/config"
	"mpnet/service/api"
)

// Changes lists what differs between two versions of mpnet.json, setting
// by setting and entry by entry: what a reviewer wants to see ("added
// https://cdn.example.com to domains.downloadFile"), whatever the files'
// formatting. An empty or unreadable file counts as no settings.
func Changes(from, to string) []api.Change {
	a, b := parsed(from), parsed(to)
	out := []api.Change{}
	scalar := func(path, x, y string) {
		switch {
		case x == y:
		case x == "":
			out = append(out, api.Change{Kind: "added", Path: path, To: y})
		case y == "":
			out = append(out, api.Change{Kind: "removed", Path: path, From: x})
		default:
			out = append(out, api.Change{Kind: "changed", Path: path, From: x, To: y})
		}
	}
	list := func(path string, x, y []string) {
		for _, e := range y {
			if !contains(x, e) {
				out = append(out, api.Change{Kind: "added", Path: path, Entry: e})
			}
		}
		for _, e := range x {
			if !contains(y, e) {
				out = append(out, api.Change{Kind: "removed", Path: path, Entry: e})
			}
		}
	}
	scalar("appid", a.AppID, b.AppID)
	scalar("version", a.Version, b.Version)
	for _, l := range config.Lists {
		list("domains."+l, listOf(&a, l), listOf(&b, l))
	}
	ta, tb := a.NetworkTimeout, b.NetworkTimeout
	for _, t := range []struct {
		k    string
		x, y int64
	}{{"request", ta.Request, tb.Request}, {"connectSocket", ta.ConnectSocket, tb.ConnectSocket},
		{"uploadFile", ta.UploadFile, tb.UploadFile}, {"downloadFile", ta.DownloadFile, tb.DownloadFile}} {
		scalar("networkTimeout."+t.k, ms(t.x), ms(t.y))
	}
	scalar("urlCheck", boolp(a.URLCheck), boolp(b.URLCheck))
	scalar("mode", a.Mode, b.Mode)
	scalar("concurrency", a.Concurrency, b.Concurrency)
	scalar("timeoutFrom", a.TimeoutFrom, b.TimeoutFrom)
	switch {
	case a.LAN == nil && b.LAN != nil && len(b.LAN) == 0:
		out = append(out, api.Change{Kind: "changed", Path: "lan", From: "default", To: "false"})
	case b.LAN == nil && a.LAN != nil && len(a.LAN) == 0:
		out = append(out, api.Change{Kind: "changed", Path: "lan", From: "false", To: "default"})
	default:
		list("lan", a.LAN, b.LAN)
	}
	return out
}

func parsed(body string) abi.Config {
	if strings.TrimSpace(body) == "" {
		return abi.Config{}
	}
	l, errs := config.Load([]abi.File{{Name: ConfigFile, Content: body}})
	if len(errs) > 0 {
		return abi.Config{}
	}
	return l.Config
}

func listOf(c *abi.Config, name string) []string {
	d := &c.Domains
	return map[string][]string{"request": d.Request, "uploadFile": d.UploadFile, "downloadFile": d.DownloadFile,
		"socket": d.Socket, "tcp": d.TCP, "udp": d.UDP}[name]
}

func ms(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func boolp(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// maxDiffCells bounds Unified's work (lines of one file times the other's).
const maxDiffCells = 4_000_000

// Unified is a line diff of two files in unified format with three lines
// of context, as `diff -u` prints it ("" when they are equal). Files too
// large to compare line by line are shown as replaced whole.
func Unified(a, b, nameA, nameB string) string {
	if a == b {
		return ""
	}
	ops := lcsOps(lines(a), lines(b))
	n := len(ops)
	// pa[k], pb[k]: lines of a and of b before ops[k].
	pa, pb := make([]int, n+1), make([]int, n+1)
	for k, o := range ops {
		pa[k+1], pb[k+1] = pa[k], pb[k]
		if o.kind != '+' {
			pa[k+1]++
		}
		if o.kind != '-' {
			pb[k+1]++
		}
	}
	const ctx = 3
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
	for i := 0; i < n; {
		j := i
		for j < n && ops[j].kind == ' ' {
			j++
		}
		if j == n {
			break
		}
		// One hunk holds changes no more than 2*ctx unchanged lines apart.
		last := j
		for k := j + 1; k < n && k-last-1 <= 2*ctx; k++ {
			if ops[k].kind != ' ' {
				last = k
			}
		}
		start, stop := max(i, j-ctx), min(n, last+ctx+1)
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(pa[start], pa[stop]-pa[start]), hunkRange(pb[start], pb[stop]-pb[start]))
		for _, o := range ops[start:stop] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.text)
			sb.WriteByte('\n')
		}
		i = stop
	}
	return sb.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return strconv.Itoa(start) + ",0"
	}
	if n == 1 {
		return strconv.Itoa(start + 1)
	}
	return strconv.Itoa(start+1) + "," + strconv.Itoa(n)
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type diffOp struct {
	kind byte
	text string
}

// lcsOps is the edit script from x to y along a longest common
// subsequence of lines (whole replacement when the table would be larger
// than maxDiffCells).
func lcsOps(x, y []string) []diffOp {
	var ops []diffOp
	// Common prefix and suffix need no table.
	p := 0
	for p < len(x) && p < len(y) && x[p] == y[p] {
		p++
	}
	sfx := 0
	for sfx < len(x)-p && sfx < len(y)-p && x[len(x)-1-sfx] == y[len(y)-1-sfx] {
		sfx++
	}
	for _, l := range x[:p] {
		ops = append(ops, diffOp{' ', l})
	}
	mx, my := x[p:len(x)-sfx], y[p:len(y)-sfx]
	if (len(mx)+1)*(len(my)+1) > maxDiffCells {
		for _, l := range mx {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range my {
			ops = append(ops, diffOp{'+', l})
		}
	} else {
		n, m := len(mx), len(my)
		t := make([]int32, (n+1)*(m+1))
		at := func(i, j int) int32 { return t[i*(m+1)+j] }
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if mx[i] == my[j] {
					t[i*(m+1)+j] = at(i+1, j+1) + 1
				} else {
					t[i*(m+1)+j] = max(at(i+1, j), at(i, j+1))
				}
			}
		}
		i, j := 0, 0
		for i < n && j < m {
			switch {
			case mx[i] == my[j]:
				ops = append(ops, diffOp{' ', mx[i]})
				i++
				j++
			case at(i+1, j) >= at(i, j+1):
				ops = append(ops, diffOp{'-', mx[i]})
				i++
			default:
				ops = append(ops, diffOp{'+', my[j]})
				j++
			}
		}
		for ; i < n; i++ {
			ops = append(ops, diffOp{'-', mx[i]})
		}
		for ; j < m; j++ {
			ops = append(ops, diffOp{'+', my[j]})
		}
	}
	for _, l := range x[len(x)-sfx:] {
		ops = append(ops, diffOp{' ', l})
	}
	return ops
}
