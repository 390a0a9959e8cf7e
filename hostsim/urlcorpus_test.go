package hostsim

import (
	"context"
	"os"
	"strconv"
	"testing"

	"mpnet/abi"
	"mpnet/conformance/urlcorpus"
)

// corpusSize is the URL differential's size: 3000 in the test suite,
// $MPNET_URL_CORPUS_N for a long run (e.g. 240000).
func corpusSize(t *testing.T) int {
	if s := os.Getenv("MPNET_URL_CORPUS_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MPNET_URL_CORPUS_N=%q is not a positive number", s)
		}
		return n
	}
	return 3000
}

// TestURLCorpus is the URL differential under wazero: the built module
// answers every generated call byte for byte as the policy does natively
// (the same corpus runs in V8 and against Chromium's own URL parser in
// extension/test/urls.test.mjs).
func TestURLCorpus(t *testing.T) {
	c, err := urlcorpus.Build(corpusSize(t), urlcorpus.Seed)
	if err != nil {
		t.Fatal(err)
	}
	inst := newInstance(t)
	ctx := context.Background()
	res, err := inst.Configure(ctx, abi.ConfigureRequest{Files: []abi.File{{Name: "mpnet.json", Content: c.Config}}})
	if err != nil || !res.OK {
		t.Fatalf("configure: %v %+v", err, res.Errors)
	}
	bad := 0
	for _, k := range c.Cases {
		out, err := inst.Raw(ctx, "check", urlcorpus.CheckRequest(k.API, k.URL))
		if err != nil {
			t.Fatalf("%s %+q: %v", k.API, k.URL, err)
		}
		if got := urlcorpus.DecisionHash(out); got != k.Decision {
			if bad++; bad <= 10 {
				t.Errorf("%s %+q: the module answers\n%s\nnot what the policy answers natively", k.API, k.URL, out)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d calls judged differently under wazero", bad, len(c.Cases))
	}
}
