package gymmesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gymmeshv1 "github.com/gym-mesh/gym-mesh/clients/go/gen/gymmesh/v1"
)

// DefaultMaxInFlight is CollectOptions.MaxInFlight when it is 0.
const DefaultMaxInFlight = 64

// CollectOptions tune Collect.
type CollectOptions struct {
	// NumRepeats is the number of rollouts of each row (a GRPO group); 0 means 1.
	NumRepeats int
	// Agent is the agent instance to run the rows; empty means each row's
	// agent_ref.name, else the rollout service's default agent.
	Agent string
	// MaxInFlight caps the rollouts sent and not yet answered; 0 means
	// DefaultMaxInFlight. A row's repeats are sent together, so a row with
	// more repeats than the cap is sent when nothing else is in flight.
	MaxInFlight int
}

// Result is one finished rollout of Collect: an output line or a failure.
type Result struct {
	// TaskIndex is the row's position in the rows given to Collect, from 0
	// (`_ng_task_index` in the output line).
	TaskIndex int
	// RepeatIndex is which repeat of the row this is, from 0 (`_ng_rollout_index`).
	RepeatIndex int
	// Agent is the agent instance that ran it.
	Agent string
	// OutputLine is the rollout as a NeMo Gym output line (JSON text),
	// empty when the rollout failed.
	OutputLine string
	// Failure is why the rollout failed (a google.rpc.Status: Code() and
	// Message()), nil when it succeeded. A failed rollout has no reward.
	Failure *status.Status
}

// Reward is the output line's `reward`; an error for a failed rollout.
func (r Result) Reward() (float64, error) {
	if r.Failure != nil {
		return 0, fmt.Errorf("rollout %d/%d failed: %s: %s", r.TaskIndex, r.RepeatIndex, r.Failure.Code(), r.Failure.Message())
	}
	var line struct {
		Reward *float64 `json:"reward"`
	}
	if err := json.Unmarshal([]byte(r.OutputLine), &line); err != nil {
		return 0, fmt.Errorf("rollout %d/%d: output line: %w", r.TaskIndex, r.RepeatIndex, err)
	}
	if line.Reward == nil {
		return 0, fmt.Errorf("rollout %d/%d: output line has no reward", r.TaskIndex, r.RepeatIndex)
	}
	return *line.Reward, nil
}

// Collect streams rows (NeMo Gym dataset lines, JSON text, as they are)
// through the rollout service this client is dialled to, NumRepeats rollouts
// each, and yields the results as they finish (in completion order). Each
// (row, repeat) is yielded once, as an output line or a Failure; a row the
// service cannot run (bad JSON, no responses_create_params, unknown agent)
// gives Failures, and the stream goes on.
//
// A non-nil error is the stream's own failure (connection lost, deadline):
// it is yielded last. Stopping the loop early cancels the stream. rows is
// read in another goroutine, as slots free up.
func (c *Client) Collect(ctx context.Context, rows iter.Seq[string], opts CollectOptions) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.rollout.Collect(ctx)
		if err != nil {
			yield(Result{}, c.errorf("Collect", err))
			return
		}
		slots := newSlots(orDefault(opts.MaxInFlight, DefaultMaxInFlight))
		go sendRows(ctx, stream, rows, opts, slots)
		for {
			res, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Result{}, c.errorf("Collect", err))
				return
			}
			slots.release()
			if !yield(result(res), nil) {
				return
			}
		}
	}
}

// sendRows sends every row, waiting for free slots, then closes the sending
// side. A send that fails means the stream ended: Recv reports why.
func sendRows(ctx context.Context, stream gymmeshv1.RolloutService_CollectClient, rows iter.Seq[string], opts CollectOptions, slots *slots) {
	repeats := max(opts.NumRepeats, 1)
	i := 0
	for row := range rows {
		if slots.acquire(ctx, repeats) != nil {
			return
		}
		err := stream.Send(&gymmeshv1.CollectRequest{
			TaskId:          strconv.Itoa(i),
			Input:           &gymmeshv1.CollectRequest_RowJson{RowJson: row},
			NumRepeats:      int32(repeats),
			Agent:           opts.Agent,
			WantOutputLines: true,
			TaskIndex:       int64(i),
		})
		if err != nil {
			return
		}
		i++
	}
	_ = stream.CloseSend()
}

func result(res *gymmeshv1.CollectResponse) Result {
	taskIndex, err := strconv.Atoi(res.GetTaskId())
	r := Result{TaskIndex: taskIndex, RepeatIndex: int(res.GetRepeatIndex()), Agent: res.GetAgent()}
	switch {
	case err != nil:
		r.TaskIndex = -1
		r.Failure = status.Newf(codes.Internal, "result for unknown task id %q", res.GetTaskId())
	case res.GetError() != nil:
		r.Failure = status.FromProto(res.GetError())
	case res.GetOutputLineJson() != "":
		r.OutputLine = res.GetOutputLineJson()
	default:
		r.Failure = status.New(codes.Internal, "result with neither an output line nor an error")
	}
	return r
}

func orDefault(v, fallback int) int {
	if v > 0 {
		return v
	}
	return fallback
}

// slots counts the rollouts in flight; one goroutine acquires, another releases.
type slots struct {
	mu       sync.Mutex
	max, n   int
	released chan struct{}
}

func newSlots(max int) *slots {
	return &slots{max: max, released: make(chan struct{}, 1)}
}

// acquire takes k slots, waiting until they are free (or nothing is in
// flight, for a k over the cap).
func (s *slots) acquire(ctx context.Context, k int) error {
	for {
		s.mu.Lock()
		if s.n == 0 || s.n+k <= s.max {
			s.n += k
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.released:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *slots) release() {
	s.mu.Lock()
	s.n--
	s.mu.Unlock()
	select {
	case s.released <- struct{}{}:
	default:
	}
}
