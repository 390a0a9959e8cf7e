// Command gen writes the URL differential corpus (conformance/urlcorpus) as
// JSON: the URLs, the API of each call and the native policy's answers.
//
//	go run ./conformance/urlcorpus/gen [-n 3000] [-seed 12] [-o FILE]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"mpnet/conformance/urlcorpus"
)

func main() {
	n := flag.Int("n", 3000, "how many URLs")
	seed := flag.Uint64("seed", urlcorpus.Seed, "the generator's seed")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if *n < 1 || *n > 10_000_000 {
		fmt.Fprintln(os.Stderr, "gen: -n must be from 1 to 10000000")
		os.Exit(2)
	}
	c, err := urlcorpus.Build(*n, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(c); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
