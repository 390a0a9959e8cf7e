package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"mpnet/abi"
	"mpnet/abi/wire"
	"mpnet/policy"
)

// Check's answers come from memos, origin templates with the URL spliced
// into their encoding, or judging afresh; whichever it is, the bytes must
// be those of encoding the plain judgement.
func TestCheckAnswersEqualPlainJudging(t *testing.T) {
	s := New()
	if out := s.Configure([]byte(fuzzConfig)); !bytes.Contains(out, []byte(`"ok":true`)) {
		t.Fatal(string(out))
	}
	urls := []string{
		"https://api.example.com/a", "https://api.example.com/b?q=<x>&y=\"z\"", "https://api.example.com/\u2028/\xe4\xbd",
		"https://evil.example.net/collect?t=1", "https://evil.example.net/collect?t=2", "https://evil.example.net/%E4%BD%A0",
		"https://evil.example.net/\xff\xfe", "https://evil.example.net/你好", "http://api.example.com/x", "http://api.example.com/y?&<>",
		"https://127.0.0.1/a", "https://127.0.0.1/b", "https://192.168.1.2/x", "https://sub.api.example.com/1", "https://sub.api.example.com/2",
		"https://api.example.com@evil.net/1", "https://api.example.com@evil.net/2", "https://exa%zzmple.com/1", "https://exa%zzmple.com/2",
		"wss://ws.example.com/a", "wss://other.example.com/a", "wss://other.example.com/b", "https://api.example.com", "https://api.example.com?x",
	}
	for round := 0; round < 3; round++ {
		for _, api := range []string{"request", "connectSocket", "uploadFile"} {
			for _, u := range urls {
				for _, headers := range [][]string{nil, {"Referer"}} {
					req := abi.CheckRequest{API: api, URL: u, Headers: headers}
					msg, _ := json.Marshal(req)
					got := bytes.Clone(s.Check(msg))
					json.Unmarshal(msg, &req) // what the module sees: invalid UTF-8 became U+FFFD
					d, err := policy.Judge(s.cfg, req)
					if err != nil {
						t.Fatal(err)
					}
					if want := wire.AppendDecision(nil, &d); !bytes.Equal(got, want) {
						t.Fatalf("round %d, %s %q:\n got %s\nwant %s", round, api, u, got, want)
					}
				}
			}
		}
	}
	if len(s.templates) < 5 {
		t.Fatalf("only %d answer templates: the splice path is barely tested", len(s.templates))
	}
}

// The direct-mapped memos overwrite slots: with many more messages than
// slots, each asked twice and in a shuffled order, every answer is still
// the plain judgement of its own message.
func TestCheckMemoSlotsNeverMixAnswers(t *testing.T) {
	s := New()
	if out := s.Configure([]byte(fuzzConfig)); !bytes.Contains(out, []byte(`"ok":true`)) {
		t.Fatal(string(out))
	}
	var msgs [][]byte
	for i := 0; i < 1000; i++ {
		host := []string{"api.example.com", "evil.example.com", "127.0.0.1"}[i%3]
		msg, _ := json.Marshal(abi.CheckRequest{API: "request", URL: fmt.Sprintf("https://%s/item/%d", host, i)})
		msgs = append(msgs, msg)
	}
	order := rand.New(rand.NewSource(7)).Perm(2 * len(msgs))
	memoised := 0
	for _, k := range order {
		msg := msgs[k%len(msgs)]
		got := bytes.Clone(s.Check(msg))
		var req abi.CheckRequest
		json.Unmarshal(msg, &req)
		d, err := policy.Judge(s.cfg, req)
		if err != nil {
			t.Fatal(err)
		}
		if want := wire.AppendDecision(nil, &d); !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %s\nwant %s", msg, got, want)
		}
	}
	for i := range s.answers {
		if s.answers[i].out != nil {
			memoised++
		}
	}
	if memoised < len(s.answers)/2 {
		t.Fatalf("only %d of %d memo slots used: the memo path is barely tested", memoised, len(s.answers))
	}
}
