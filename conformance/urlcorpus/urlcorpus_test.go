package urlcorpus

import (
	"reflect"
	"strings"
	"testing"
)

// The corpus is a function of its size and seed: every host judges the same
// URLs, and a failure reproduces.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(500, Seed), Generate(500, Seed)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two corpora from one seed differ")
	}
	if reflect.DeepEqual(a, Generate(500, Seed+1)) {
		t.Fatal("two seeds gave the same corpus")
	}
}

// The corpus reaches the parser's every branch: valid and invalid URLs,
// domains, international names, IPv4 and IPv6 hosts, local and listed ones.
func TestCorpusVariety(t *testing.T) {
	c, err := Build(3000, Seed)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	decisions := map[string]bool{}
	for _, k := range c.Cases {
		decisions[k.Decision] = true
		switch {
		case k.Host == "":
			count["invalid"]++
		case strings.HasPrefix(k.Host, "["):
			count["ipv6"]++
		case strings.Contains(k.Host, "xn--"):
			count["idn"]++
		case strings.Trim(k.Host, "0123456789.") == "":
			count["ipv4"]++
		default:
			count["domain"]++
		}
		if k.Host == "127.0.0.1" || k.Host == "[::1]" || k.Host == "localhost" {
			count["local"]++
		}
		if k.Host == "api.example.com" {
			count["listed"]++
		}
		if k.Unicode16 {
			count["unicode16"]++
		}
	}
	for _, kind := range []string{"invalid", "ipv6", "idn", "ipv4", "domain", "local", "listed", "unicode16"} {
		if count[kind] < 10 {
			t.Errorf("only %d %s cases in 3000: %v", count[kind], kind, count)
		}
	}
	if len(decisions) < 2000 {
		t.Errorf("only %d distinct decisions in 3000 cases", len(decisions))
	}
}
