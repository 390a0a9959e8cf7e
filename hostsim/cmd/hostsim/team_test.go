package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"mpnet/service"
	"mpnet/service/api"
	"mpnet/service/apitest"
)

// teamService runs the team service in-process with one project whose
// configuration is the demo's, and returns the project's URL and its
// admin client. (This test links the service; the hostsim program does
// not: TestCLILinksNoPolicy.)
func teamService(t *testing.T) (projectURL, appid string, admin *apitest.Client, base string) {
	t.Helper()
	tg, _ := apitest.StartNative(t, service.Options{})
	appid = "wx0123456789abcdef"
	admin = apitest.Project(t, tg, appid)
	cfg, err := os.ReadFile(demo("mpnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	apitest.Want(t, apitest.PutConfig(admin, appid, string(cfg), ""), 201, "demo config")
	return tg.URL + "/v1/projects/" + appid, appid, admin, tg.URL
}

func TestConfigFromTeamService(t *testing.T) {
	project, appid, admin, base := teamService(t)
	t.Setenv(TokenEnv, tokenOf(t, admin))
	code, out, errs := cli(t, "check", "--config", project, "https://api.example.com/user")
	if code != 0 || !strings.Contains(out, `"allowed": true`) {
		t.Fatalf("check with the team's config: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = cli(t, "check", "--config", project, "https://unlisted.example.com/")
	if code != 1 || !strings.Contains(out, `"rule": "R2"`) {
		t.Fatalf("unlisted host: exit %d\n%s", code, out)
	}
	// The service's base URL works too: the token names the project.
	if code, out, errs = cli(t, "check", "--config", base, "https://api.example.com/user"); code != 0 {
		t.Fatalf("check with the base URL: exit %d\n%s%s", code, out, errs)
	}
	// A later PUT is what the next run sees.
	r := admin.Do("GET", "/v1/projects/"+appid+"/config", nil)
	body := strings.Replace(string(r.Body), `"https://api.example.com"`, `"https://api.example.com", "https://unlisted.example.com"`, 1)
	apitest.Want(t, apitest.PutConfig(admin, appid, body, r.Header.Get("ETag")), 200, "second version")
	if code, out, _ = cli(t, "check", "--config", project, "https://unlisted.example.com/"); code != 0 {
		t.Fatalf("after the team added the host: exit %d\n%s", code, out)
	}
}

func TestTeamServiceBadInput(t *testing.T) {
	project, _, admin, _ := teamService(t)
	t.Setenv(TokenEnv, "")
	code, _, errs := cli(t, "check", "--config", project, "https://api.example.com/")
	if code != 2 || !strings.Contains(errs, "MPNET_TOKEN") {
		t.Errorf("no token: exit %d, %s", code, errs)
	}
	t.Setenv(TokenEnv, "mpnet_aaaaaaaaaaaaaaaa_"+strings.Repeat("A", 43))
	code, _, errs = cli(t, "check", "--config", project, "https://api.example.com/")
	if code != 2 || !strings.Contains(errs, "unauthorized") {
		t.Errorf("wrong token: exit %d, %s", code, errs)
	}
	t.Setenv(TokenEnv, tokenOf(t, admin))
	code, _, errs = cli(t, "check", "--config", strings.Replace(project, "wx0123456789abcdef", "wx1111111111111111", 1), "https://api.example.com/")
	if code != 2 || !strings.Contains(errs, "another project") {
		t.Errorf("another project: exit %d, %s", code, errs)
	}
	code, _, errs = cli(t, "check", "--config", "https://user:pw@team.example.com/v1/projects/wx0123456789abcdef", "https://api.example.com/")
	if code != 2 || !strings.Contains(errs, "not in the URL") {
		t.Errorf("token in URL: exit %d, %s", code, errs)
	}
}

func TestAuditReportAndGate(t *testing.T) {
	project, appid, admin, _ := teamService(t)
	ci := apitest.Token(t, admin, appid, "ci", api.RoleCI)
	t.Setenv(TokenEnv, tokenOf(t, ci))
	code, _, errs := cli(t, "gate", project)
	if code != 0 {
		t.Fatalf("gate before any report: exit %d %s", code, errs)
	}
	code, out, errs := cli(t, "audit", "--report", "--config", project, demo("preview.har"))
	if code != 1 || !strings.Contains(errs, "reported") {
		t.Fatalf("audit --report: exit %d\n%s\n%s", code, out, errs)
	}
	s := apitest.Summary(t, admin, appid)
	total := apitest.Total(s)
	if total == 0 || len(s.HostsToAdd) == 0 {
		t.Fatalf("nothing counted: %+v", s)
	}
	for _, v := range s.Violations {
		if v.LastBy != "ci" {
			t.Errorf("violation reported by %q, want ci", v.LastBy)
		}
	}
	// The same audit reported again counts nothing.
	code, _, errs = cli(t, "audit", "--report", "--config", project, demo("preview.har"))
	if code != 1 || !strings.Contains(errs, "not counted again") {
		t.Fatalf("second audit --report: exit %d %s", code, errs)
	}
	if again := apitest.Total(apitest.Summary(t, admin, appid)); again != total {
		t.Errorf("the same audit reported twice: total %d, then %d", total, again)
	}
	code, out, _ = cli(t, "gate", project)
	if code != 1 || !strings.Contains(out, "gate: FAIL") || !strings.Contains(out, "fix:") {
		t.Fatalf("gate after the report: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "gate", "--json", "--since", "400d", project)
	if code != 1 || !strings.Contains(out, `"pass": false`) {
		t.Fatalf("gate --json: exit %d\n%s", code, out)
	}
	// The demo HAR's calls are old: none was seen in the last hour.
	if code, out, _ = cli(t, "gate", "--since", "1h", project); code != 0 || !strings.Contains(out, "gate: PASS") {
		t.Fatalf("gate --since 1h: exit %d\n%s", code, out)
	}
	t.Setenv(ServiceEnv, project)
	if code, _, _ = cli(t, "gate"); code != 1 {
		t.Fatalf("gate from $MPNET_SERVICE: exit %d", code)
	}
	if code, _, errs = cli(t, "gate", "--since", "yesterday", project); code != 2 || !strings.Contains(errs, "since") {
		t.Fatalf("gate --since yesterday: exit %d %s", code, errs)
	}
}

// tokenOf is the token a test client holds.
func tokenOf(t *testing.T, c *apitest.Client) string {
	t.Helper()
	return c.Token()
}

// The CLI judges through the module only (ARCHITECTURE.md, "One
// implementation"): talking to the team service must not link policy/ or
// the service into it.
func TestCLILinksNoPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "mpnet/hostsim/cmd/hostsim").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "mpnet/service/api") {
		t.Fatalf("go list answered %d packages, without mpnet/service/api", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "mpnet/policy") || p == "mpnet/service" || strings.HasPrefix(p, "mpnet/service/store") {
			t.Errorf("hostsim links %s", p)
		}
	}
}
