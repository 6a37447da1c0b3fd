// Command gymmesh-interop is the Go column of the interop matrix
// (test/interop-matrix.test.ts): it calls Run and Collect of one running mesh
// on the ports it is given, with raw NeMo Gym rows and with typed tasks, and
// prints what came back as JSON, one cell per (rpc, port, mode).
//
// Input (stdin): {"agent": {"http": URL, "grpc": URL}, "rollout": {...},
// "rows": [JSONL line...], "tasks": [proto JSON of each row's Task...]}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	gymmeshv1 "github.com/gym-mesh/gym-mesh/clients/go/gen/gymmesh/v1"
	"github.com/gym-mesh/gym-mesh/clients/go/gymmesh"
)

type spec struct {
	Agent   map[string]string `json:"agent"`
	Rollout map[string]string `json:"rollout"`
	Rows    []string          `json:"rows"`
	Tasks   []json.RawMessage `json:"tasks"`
}

type result struct {
	Index  int      `json:"index"`
	Repeat int      `json:"repeat"`
	Reward *float64 `json:"reward,omitempty"`
	Line   string   `json:"line,omitempty"`
	Error  string   `json:"error,omitempty"`
}

type cell struct {
	RPC     string   `json:"rpc"`
	Port    string   `json:"port"`
	Mode    string   `json:"mode"`
	Results []result `json:"results"`
	Error   string   `json:"error,omitempty"`
}

func main() {
	var s spec
	if err := json.NewDecoder(os.Stdin).Decode(&s); err != nil {
		fmt.Fprintln(os.Stderr, "gymmesh-interop: reading the spec:", err)
		os.Exit(2)
	}
	tasks := make([]*gymmeshv1.Task, len(s.Tasks))
	for i, raw := range s.Tasks {
		tasks[i] = &gymmeshv1.Task{}
		if err := protojson.Unmarshal(raw, tasks[i]); err != nil {
			fmt.Fprintln(os.Stderr, "gymmesh-interop: task", i, err)
			os.Exit(2)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cells []cell
	for _, port := range []string{"http", "grpc"} {
		agent, err := gymmesh.Dial(s.Agent[port])
		if err != nil {
			fail(err)
		}
		rollout, err := gymmesh.Dial(s.Rollout[port])
		if err != nil {
			fail(err)
		}
		cells = append(cells, runCell(ctx, agent, port, "raw", s.Rows, nil), runCell(ctx, agent, port, "typed", nil, tasks))
		cells = append(cells, collectRaw(ctx, rollout, port, s.Rows), collectTyped(ctx, rollout, port, tasks))
		agent.Close()
		rollout.Close()
	}
	if err := json.NewEncoder(os.Stdout).Encode(cells); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gymmesh-interop:", err)
	os.Exit(1)
}

func runCell(ctx context.Context, c *gymmesh.Client, port, mode string, rows []string, tasks []*gymmeshv1.Task) cell {
	out := cell{RPC: "Run", Port: port, Mode: mode}
	n := max(len(rows), len(tasks))
	for i := 0; i < n; i++ {
		req := &gymmeshv1.RunRequest{WantOutputLine: true}
		if mode == "raw" {
			req.Input = &gymmeshv1.RunRequest_RowJson{RowJson: rows[i]}
		} else {
			req.Input = &gymmeshv1.RunRequest_Task{Task: tasks[i]}
		}
		res, err := c.Agent().Run(ctx, req)
		if err != nil {
			out.Results = append(out.Results, result{Index: i, Error: err.Error()})
			continue
		}
		reward := res.GetRollout().GetVerdict().GetReward()
		out.Results = append(out.Results, result{Index: i, Reward: &reward, Line: res.GetOutputLineJson()})
	}
	return out
}

func collectRaw(ctx context.Context, c *gymmesh.Client, port string, rows []string) cell {
	out := cell{RPC: "Collect", Port: port, Mode: "raw"}
	for r, err := range c.Collect(ctx, slices.Values(rows), gymmesh.CollectOptions{NumRepeats: 2}) {
		if err != nil {
			out.Error = err.Error()
			break
		}
		res := result{Index: r.TaskIndex, Repeat: r.RepeatIndex, Line: r.OutputLine}
		if r.Failure != nil {
			res.Error = r.Failure.Message()
		} else if reward, err := r.Reward(); err == nil {
			res.Reward = &reward
		}
		out.Results = append(out.Results, res)
	}
	return out
}

// collectTyped streams typed tasks and reads typed rollouts (no output lines).
func collectTyped(ctx context.Context, c *gymmesh.Client, port string, tasks []*gymmeshv1.Task) cell {
	out := cell{RPC: "Collect", Port: port, Mode: "typed"}
	stream, err := c.Rollout().Collect(ctx)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	for i, task := range tasks {
		req := &gymmeshv1.CollectRequest{TaskId: fmt.Sprint(i), Input: &gymmeshv1.CollectRequest_Task{Task: task}, NumRepeats: 2}
		if err := stream.Send(req); err != nil {
			out.Error = err.Error()
			return out
		}
	}
	if err := stream.CloseSend(); err != nil {
		out.Error = err.Error()
		return out
	}
	for {
		res, err := stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				out.Error = err.Error()
			}
			return out
		}
		var index int
		fmt.Sscan(res.GetTaskId(), &index)
		r := result{Index: index, Repeat: int(res.GetRepeatIndex())}
		if st := res.GetError(); st != nil {
			r.Error = st.GetMessage()
		} else {
			reward := res.GetRollout().GetVerdict().GetReward()
			r.Reward = &reward
		}
		out.Results = append(out.Results, r)
	}
}
