package body

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/htmlindex"

	"mpnet/abi"
)

// The label table is data from the Encoding Standard; x/text carries the
// same data (natively: the module links neither).
func TestLabelsMatchHTMLIndex(t *testing.T) {
	if len(labels) < 200 {
		t.Fatalf("%d labels: the standard has over 200", len(labels))
	}
	for label, name := range labels {
		if labels[name] != name {
			t.Errorf("%s is not a label of itself: isName would not know it", name)
		}
		e, err := htmlindex.Get(label)
		if err != nil {
			t.Errorf("%q: x/text does not know it (%v)", label, err)
			continue
		}
		if want, _ := htmlindex.Name(e); want != name {
			t.Errorf("%q names %s here, %s in x/text", label, name, want)
		}
	}
	for _, l := range []string{" GBK\t", "Shift_JIS", "\nUTF8", "ISO-8859-1"} {
		e, _ := htmlindex.Get(l)
		want, _ := htmlindex.Name(e)
		if got := Lookup(l); got != want || got == "" {
			t.Errorf("Lookup(%q) = %q, x/text %q", l, got, want)
		}
	}
	for _, l := range []string{"x-klingon", "utf-7", "", "gbk2", "utf 8"} {
		if got := Lookup(l); got != "" {
			t.Errorf("Lookup(%q) = %q, want none", l, got)
		}
		if _, err := htmlindex.Get(l); err == nil {
			t.Errorf("x/text knows %q", l)
		}
	}
}

// Prescan follows the HTML standard's prescan; on ordinary documents it
// agrees with x/net/html/charset's tokenizer-based one.
func TestPrescanAgreesWithXNet(t *testing.T) {
	docs := []string{
		`<html><head><meta charset="gbk"></head><body>x</body></html>`,
		`<meta charset=shift_jis>`,
		`<META CHARSET='Big5'>`,
		`<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`,
		`<meta content="text/html; charset=euc-kr" http-equiv="content-type">`,
		`<meta content="text/html; charset=euc-kr">`,
		`<meta http-equiv="content-type" content="text/html">`,
		`<meta charset="utf-16le">`,
		`<meta charset="nonsense"><meta charset="gbk">`,
		`<!-- <meta charset="big5"> --><meta charset="euc-jp">`,
		`<!--><meta charset="koi8-r">`,
		`<div title="<meta charset=big5>"><meta charset=windows-1251>`,
		`<meta name="viewport" content="width=device-width"><meta charset="iso-8859-2">`,
		`<meta charset="gbk" charset="big5">`,
		`<meta/charset="gbk">`,
		`<meta http-equiv=content-type content="text/html;charset='shift_jis'">`,
		`<meta http-equiv=content-type content="text/html;charset=">`,
		`<meta http-equiv=content-type content='charset = "gbk"'>`,
		`<!DOCTYPE html><?xml version="1.0"?><html lang=zh><meta charset=gb18030>`,
		`</p><meta charset=iso-2022-jp>`,
		`no markup at all`,
		`<meta charset="gbk"`,
		strings.Repeat("x", 1020) + `<meta charset="gbk">`,
		strings.Repeat("<p>", 5) + `<meta charset = gbk >`,
	}
	// Where x/net departs from the standard, the standard wins.
	if got := Prescan([]byte(`<meta charset="x-user-defined">`)); got != "windows-1252" {
		t.Errorf("x-user-defined in a meta is read as windows-1252 (HTML standard); got %q", got)
	}
	for _, d := range docs {
		_, name, _ := charset.DetermineEncoding([]byte(d), "text/html")
		want := name
		if want == "windows-1252" && !strings.Contains(strings.ToLower(d), "1252") {
			want = "" // x/net's fallback: nothing found
		}
		if got := Prescan([]byte(d)); got != want {
			t.Errorf("Prescan(%q) = %q, x/net %q", d, got, want)
		}
	}
}

// Process decides; bodies in legacy charsets go to the host, the two
// encodings without tables do not.
func TestProcessAsksTheHost(t *testing.T) {
	cases := []struct {
		ct, body, decode, source string
	}{
		{"text/plain; charset=GBK", "\xc4\xe3", "gbk", "content-type"},
		{"text/html", "<meta charset=big5>\xa4\xa4", "big5", "meta"},
		{"", "\xff\xfeA\x00", "utf-16le", "bom"},
		{"application/json", `{"a":"` + "\xc4\xe3" + `"}`, "gbk", "guess"},
		{"text/html", "<meta charset=utf-8>\xc4\xe3", "gbk", "guess"},
	}
	for _, c := range cases {
		res, out := Process(abi.BodyRequest{ContentType: c.ct}, []byte(c.body))
		if res.Decode != c.decode || res.Source != c.source || res.Charset != c.decode || out != nil || res.Converted {
			t.Errorf("%q %q: %+v, body %q; want decode %s from %s and no body", c.ct, c.body, res, out, c.decode, c.source)
		}
	}
	res, out := Process(abi.BodyRequest{ContentType: "text/plain; charset=x-user-defined"}, []byte("a\x80\xff"))
	if res.Decode != "" || !res.Converted || string(out) != "a\uF780\uF7FF" {
		t.Errorf("x-user-defined: %+v %q", res, out)
	}
	res, out = Process(abi.BodyRequest{ContentType: "text/plain; charset=iso-2022-kr"}, []byte("abc"))
	if res.Decode != "" || res.Converted || !strings.Contains(res.Error, "from replacement") || string(out) != "abc" {
		t.Errorf("replacement: %+v %q", res, out)
	}
}

func TestConverted(t *testing.T) {
	ok := abi.BodyRequest{Decoded: "gbk", Source: "content-type"}
	res, out, err := Converted(ok, []byte("\xef\xbb\xbf你好"))
	if err != nil || !res.Converted || !res.BOMStripped || string(out) != "你好" || res.Charset != "gbk" || len(res.Warnings) != 1 {
		t.Errorf("converted: %+v %q %v", res, out, err)
	}
	bad := ok
	bad.Invalid = 2
	res, out, err = Converted(bad, []byte{0xc4, 0xff})
	if err != nil || res.Converted || !strings.Contains(res.Error, "2 byte sequences") || !bytes.Equal(out, []byte{0xc4, 0xff}) {
		t.Errorf("failed: %+v %q %v", res, out, err)
	}
	none := ok
	none.Invalid = -1
	res, out, err = Converted(none, []byte{0xc4, 0xe3})
	if err != nil || res.Converted || res.Error != "" || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "no decoder") || len(out) != 2 {
		t.Errorf("no decoder: %+v %q %v", res, out, err)
	}
	for _, r := range []abi.BodyRequest{
		{Decoded: "utf-8", Source: "content-type"},
		{Decoded: "x-user-defined", Source: "content-type"},
		{Decoded: "GBK", Source: "content-type"},
		{Decoded: "gbk", Source: "utf-8"},
		{Decoded: "gbk", Source: "guess", Invalid: -2},
	} {
		if _, _, err := Converted(r, []byte("x")); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	if _, _, err := Converted(ok, []byte{0xff}); err == nil {
		t.Error("a converted body that is not UTF-8 was accepted")
	}
	if !utf8.ValidString("你好") {
		t.Fatal("source file is not UTF-8")
	}
}

// Prescan answers nothing or an encoding's name, never UTF-16 or
// x-user-defined, on any bytes.
func FuzzPrescan(f *testing.F) {
	f.Add([]byte(`<meta charset="gbk">`))
	f.Add([]byte(`<!--<meta charset=big5>--><meta http-equiv=content-type content="text/html;charset='euc-kr'">`))
	f.Add([]byte(`<a href='x' <meta/charset=utf-16>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := Prescan(b)
		if n != "" && !isName(n) || n == "utf-16le" || n == "utf-16be" || n == "x-user-defined" {
			t.Fatalf("Prescan(%q) = %q", b, n)
		}
	})
}
