package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"mpnet/abi"
)

func (e *env) check(args []string) error {
	fs, module := e.flags("check", "check --config FILE --api API [--timeout MS] [--header NAME]... URL")
	var configs, headers multiFlag
	fs.Var(&configs, "config", "configuration file (repeatable; formats merge in order)")
	apiName := fs.String("api", "request", "the API making the call: request, uploadFile, downloadFile, connectSocket, tcp, udp, resource")
	timeout := fs.String("timeout", "", "the call's own timeout option in ms")
	fs.Var(&headers, "header", "name of a header the code sets (repeatable), e.g. Referer")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(configs) == 0 {
		return badInput("--config FILE is required (mpnet.json or project files)")
	}
	if len(pos) != 1 {
		return badInput("want exactly one URL, got %d arguments", len(pos))
	}
	var ms int64
	if *timeout != "" {
		ms, err = strconv.ParseInt(*timeout, 10, 64)
		if err != nil {
			return badInput("--timeout %q is not a whole number of milliseconds", *timeout)
		}
	}
	m, inst, err := e.instance(*module)
	if err != nil {
		return err
	}
	defer m.Close(e.ctx)
	if _, err := configure(e.ctx, inst, configs, false); err != nil {
		return err
	}
	d, err := inst.Check(e.ctx, abi.CheckRequest{API: *apiName, URL: pos[0], Timeout: ms, Headers: headers})
	if err != nil {
		return badInput("%v", err)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return err
	}
	if !d.Allowed {
		return &exitError{code: 1}
	}
	return nil
}

func (e *env) lint(args []string) error {
	fs, module := e.flags("lint", "lint [--json] FILE...")
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return badInput("name at least one configuration file")
	}
	m, inst, err := e.instance(*module)
	if err != nil {
		return err
	}
	defer m.Close(e.ctx)
	files, err := readFiles(pos)
	if err != nil {
		return err
	}
	res, err := inst.Configure(e.ctx, abi.ConfigureRequest{Files: files, DryRun: true})
	if err != nil {
		return badInput("%v", err)
	}
	probs := append(append([]abi.Problem{}, res.Errors...), res.Problems...)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		out := struct {
			OK       bool          `json:"ok"`
			Formats  []string      `json:"formats"`
			Problems []abi.Problem `json:"problems"`
			Config   *abi.Config   `json:"config,omitempty"`
		}{len(probs) == 0, res.Formats, probs, res.Config}
		if out.Problems == nil {
			out.Problems = []abi.Problem{}
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		for i, p := range pos {
			if i < len(res.Formats) && res.Formats[i] != "" {
				fmt.Fprintf(e.stdout, "%s: read as %s\n", safe(p), safe(res.Formats[i]))
			}
		}
		for _, p := range probs {
			fmt.Fprintln(e.stdout, formatProblem(p))
		}
		nerr, nwarn := 0, 0
		for _, p := range probs {
			if p.Severity == "error" {
				nerr++
			} else {
				nwarn++
			}
		}
		if len(probs) == 0 {
			fmt.Fprintln(e.stdout, "no problems found")
		} else {
			fmt.Fprintf(e.stdout, "%d error(s), %d warning(s) (hostsim rules ID explains each rule)\n", nerr, nwarn)
		}
	}
	if len(probs) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func (e *env) version(args []string) error {
	fs, module := e.flags("version", "version [--json]")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	path, err := findModule(*module)
	if err != nil {
		return err
	}
	m, _, err := e.instance(path)
	if err != nil {
		return err
	}
	defer m.Close(e.ctx)
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"abi": m.ABI, "sha256": m.SHA256, "module": path})
	}
	fmt.Fprintf(e.stdout, "hostsim (mpnet)\nmodule: %s\nabi:    %d\nsha256: %s\n", path, m.ABI, m.SHA256)
	return nil
}
