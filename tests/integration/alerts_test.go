package integration

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestAlertRulesNameExposedMetrics loads the shipped Prometheus alerting
// rules and checks that each rule is complete and that every coffer_*
// metric its expression names is one the real server exposes.
func TestAlertRulesNameExposedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/prometheus/coffer-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t)
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(srv.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	exposed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllSubmatch(scrape, -1) {
		exposed[string(m[1])] = true
	}
	rules := 0
	names := regexp.MustCompile(`\bcoffer_[a-z0-9_]+`)
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			rules++
			if r.Alert == "" || r.Expr == "" || r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("group %s: incomplete rule %+v", g.Name, r)
			}
			for _, n := range names.FindAllString(r.Expr, -1) {
				if !exposed[n] {
					t.Errorf("%s: expression names %s, which /metrics does not expose", r.Alert, n)
				}
			}
		}
	}
	if rules < 3 || len(exposed) < 5 {
		t.Fatalf("%d rules, %d exposed metrics: the file or the scrape was not read", rules, len(exposed))
	}
}
