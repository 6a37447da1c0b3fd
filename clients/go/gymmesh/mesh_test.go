package gymmesh_test

// Tests against a running mesh (`gym serve --config config/default.yaml`);
// scripts/gotest.sh starts one and passes its URLs in GYMMESH_AGENT_HTTP_URL,
// GYMMESH_AGENT_GRPC_URL, GYMMESH_ROLLOUT_HTTP_URL and GYMMESH_ROLLOUT_GRPC_URL.
// Without them these tests skip, unless GYMMESH_REQUIRE_MESH=1.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gym-mesh/gym-mesh/clients/go/gymmesh"
)

func meshURL(t *testing.T, name string) string {
	t.Helper()
	u := os.Getenv(name)
	if u == "" {
		if os.Getenv("GYMMESH_REQUIRE_MESH") == "1" {
			t.Fatalf("%s is not set (run scripts/gotest.sh, which starts a mesh)", name)
		}
		t.Skipf("%s is not set: no mesh to test against (scripts/gotest.sh starts one)", name)
	}
	return u
}

// exampleRows are the rows of the example_single_tool_call dataset.
func exampleRows(t *testing.T) []string {
	t.Helper()
	path := os.Getenv("GYMMESH_EXAMPLE_DATA")
	if path == "" {
		path = filepath.Join("..", "..", "..", "services", "environments", "example_single_tool_call", "data", "example.jsonl")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for line := range strings.Lines(string(data)) {
		if strings.TrimSpace(line) != "" {
			rows = append(rows, strings.TrimRight(line, "\r\n"))
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return rows
}

func dial(t *testing.T, url string, opts ...gymmesh.Option) *gymmesh.Client {
	t.Helper()
	c, err := gymmesh.Dial(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// outputLine is what the tests read of a NeMo Gym output line.
type outputLine struct {
	ResponsesCreateParams map[string]any `json:"responses_create_params"`
	Response              map[string]any `json:"response"`
	Reward                *float64       `json:"reward"`
	TaskIndex             *int           `json:"_ng_task_index"`
	RolloutIndex          *int           `json:"_ng_rollout_index"`
}

func parseLine(t *testing.T, line string) outputLine {
	t.Helper()
	var l outputLine
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("output line is not JSON: %v: %.200s", err, line)
	}
	if l.ResponsesCreateParams == nil || l.Response == nil || l.Reward == nil {
		t.Fatalf("output line lacks responses_create_params, response or reward: %.300s", line)
	}
	return l
}

func TestRunOverBothPorts(t *testing.T) {
	row := exampleRows(t)[0]
	for _, env := range []string{"GYMMESH_AGENT_HTTP_URL", "GYMMESH_AGENT_GRPC_URL"} {
		t.Run(env, func(t *testing.T) {
			c := dial(t, meshURL(t, env))
			line, rollout, err := c.Run(testContext(t), row)
			if err != nil {
				t.Fatal(err)
			}
			l := parseLine(t, line)
			if rollout == nil || rollout.GetVerdict() == nil || rollout.GetResponse() == nil {
				t.Fatalf("no typed rollout with a verdict and a response: %v", rollout)
			}
			if got := rollout.GetVerdict().GetReward(); got != *l.Reward {
				t.Errorf("typed reward %v, output line's %v", got, *l.Reward)
			}
			if rollout.GetSteps() < 1 {
				t.Errorf("steps = %d, want at least 1", rollout.GetSteps())
			}
		})
	}
}

func TestCheck(t *testing.T) {
	c := dial(t, meshURL(t, "GYMMESH_AGENT_HTTP_URL"))
	if err := c.Check(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestCollectExampleDataset(t *testing.T) {
	rows := exampleRows(t)
	const repeats = 2
	for _, tc := range []struct {
		env         string
		maxInFlight int
	}{
		{"GYMMESH_ROLLOUT_HTTP_URL", 0},
		{"GYMMESH_ROLLOUT_GRPC_URL", 0},
		{"GYMMESH_ROLLOUT_HTTP_URL", 1}, // each row alone (2 repeats > the cap)
		{"GYMMESH_ROLLOUT_GRPC_URL", 3},
	} {
		t.Run(fmt.Sprintf("%s/max_in_flight=%d", tc.env, tc.maxInFlight), func(t *testing.T) {
			c := dial(t, meshURL(t, tc.env))
			seen := map[[2]int]bool{}
			for res, err := range c.Collect(testContext(t), slices.Values(rows), gymmesh.CollectOptions{NumRepeats: repeats, MaxInFlight: tc.maxInFlight}) {
				if err != nil {
					t.Fatal(err)
				}
				if res.Failure != nil {
					t.Fatalf("row %d repeat %d failed: %v", res.TaskIndex, res.RepeatIndex, res.Failure.Err())
				}
				key := [2]int{res.TaskIndex, res.RepeatIndex}
				if seen[key] {
					t.Errorf("row %d repeat %d came twice", res.TaskIndex, res.RepeatIndex)
				}
				seen[key] = true
				l := parseLine(t, res.OutputLine)
				if l.TaskIndex == nil || *l.TaskIndex != res.TaskIndex || l.RolloutIndex == nil || *l.RolloutIndex != res.RepeatIndex {
					t.Errorf("result (%d, %d): output line has _ng_task_index %v, _ng_rollout_index %v", res.TaskIndex, res.RepeatIndex, deref(l.TaskIndex), deref(l.RolloutIndex))
				}
				if r, err := res.Reward(); err != nil || r != *l.Reward {
					t.Errorf("Reward() = %v, %v; the line's is %v", r, err, *l.Reward)
				}
				if res.Agent == "" {
					t.Errorf("result (%d, %d) names no agent", res.TaskIndex, res.RepeatIndex)
				}
			}
			for i := range rows {
				for r := range repeats {
					if !seen[[2]int{i, r}] {
						t.Errorf("row %d repeat %d never came", i, r)
					}
				}
			}
			if len(seen) != len(rows)*repeats {
				t.Errorf("%d results, want %d", len(seen), len(rows)*repeats)
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestBadRowRun(t *testing.T) {
	c := dial(t, meshURL(t, "GYMMESH_AGENT_GRPC_URL"))
	for _, row := range []string{`{"no_responses_create_params": true}`, `not json`} {
		line, rollout, err := c.Run(testContext(t), row)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("Run(%q): err %v (code %v), want InvalidArgument", row, err, status.Code(err))
		}
		if line != "" || rollout != nil {
			t.Errorf("Run(%q) gave a result: %q %v", row, line, rollout)
		}
		if err != nil && !strings.Contains(err.Error(), "gymmesh: Run at grpc://") {
			t.Errorf("error without context: %v", err)
		}
	}
}

func TestBadRowCollect(t *testing.T) {
	c := dial(t, meshURL(t, "GYMMESH_ROLLOUT_HTTP_URL"))
	rows := []string{exampleRows(t)[0], `{"no_responses_create_params": true}`, `not json`}
	results := map[int][]gymmesh.Result{}
	for res, err := range c.Collect(testContext(t), slices.Values(rows), gymmesh.CollectOptions{NumRepeats: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		results[res.TaskIndex] = append(results[res.TaskIndex], res)
	}
	for i := range rows {
		if len(results[i]) != 2 {
			t.Fatalf("row %d: %d results, want 2", i, len(results[i]))
		}
		for _, res := range results[i] {
			if i == 0 {
				if res.Failure != nil {
					t.Errorf("good row failed: %v", res.Failure.Err())
				}
				continue
			}
			if res.Failure.Code() != codes.InvalidArgument || res.Failure.Message() == "" {
				t.Errorf("bad row %d: failure %v, want InvalidArgument with a message", i, res.Failure)
			}
			if res.OutputLine != "" {
				t.Errorf("bad row %d has an output line: %s", i, res.OutputLine)
			}
			if _, err := res.Reward(); err == nil {
				t.Errorf("bad row %d has a reward", i)
			}
		}
	}
}
