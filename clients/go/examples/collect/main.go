// Command collect streams a NeMo Gym dataset (JSONL) through a gym-mesh
// rollout service, writes the NeMo Gym output lines and prints the mean
// reward:
//
//	go run ./examples/collect -url http://127.0.0.1:40743 \
//	  -input ../../services/environments/example_single_tool_call/data/example.jsonl \
//	  -num-repeats 2 -output rollouts.jsonl
//
// where -url is the rollout instance's http:// or grpc:// URL that
// `gym serve` prints. Failed rollouts go to stderr with their gRPC code.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/gym-mesh/gym-mesh/clients/go/gymmesh"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "collect:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		url         = flag.String("url", os.Getenv("GYMMESH_ROLLOUT_URL"), "the rollout service's URL (http://, grpc:// or https://HOST:PORT); default $GYMMESH_ROLLOUT_URL")
		input       = flag.String("input", "", "the dataset: NeMo Gym JSONL rows")
		output      = flag.String("output", "-", "where to write the output lines (- for stdout)")
		numRepeats  = flag.Int("num-repeats", 1, "rollouts per row")
		agent       = flag.String("agent", "", "the agent instance (default: each row's agent_ref, else the service's default)")
		maxInFlight = flag.Int("max-in-flight", gymmesh.DefaultMaxInFlight, "rollouts in flight at most")
		timeout     = flag.Duration("timeout", 0, "give up after this long (0: never)")
		token       = flag.String("token", os.Getenv("GYMMESH_TOKEN"), "bearer token sent on every call; default $GYMMESH_TOKEN")
		caFile      = flag.String("ca", "", "PEM CA certificates to trust (https://)")
		certFile    = flag.String("cert", "", "PEM client certificate, for mTLS (https://)")
		keyFile     = flag.String("key", "", "PEM client key, for mTLS (https://)")
	)
	flag.Parse()
	if *url == "" || *input == "" {
		flag.Usage()
		return errors.New("-url and -input are required")
	}

	rows, err := readRows(*input)
	if err != nil {
		return err
	}
	var opts []gymmesh.Option
	if *token != "" {
		opts = append(opts, gymmesh.WithToken(*token))
	}
	if *caFile != "" {
		opts = append(opts, gymmesh.WithCAFile(*caFile))
	}
	if *certFile != "" || *keyFile != "" {
		opts = append(opts, gymmesh.WithClientCert(*certFile, *keyFile))
	}
	client, err := gymmesh.Dial(*url, opts...)
	if err != nil {
		return err
	}
	defer client.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	var out io.Writer = os.Stdout
	if *output != "-" {
		f, err := os.Create(*output)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	w := bufio.NewWriter(out)

	start := time.Now()
	var done, failed int
	var sum float64
	for res, err := range client.Collect(ctx, slices.Values(rows), gymmesh.CollectOptions{
		NumRepeats: *numRepeats, Agent: *agent, MaxInFlight: *maxInFlight,
	}) {
		if err != nil {
			w.Flush()
			return err
		}
		if res.Failure != nil {
			failed++
			fmt.Fprintf(os.Stderr, "row %d repeat %d failed: %s: %s\n", res.TaskIndex, res.RepeatIndex, res.Failure.Code(), res.Failure.Message())
			continue
		}
		reward, err := res.Reward()
		if err != nil {
			return err
		}
		done++
		sum += reward
		if _, err := fmt.Fprintln(w, res.OutputLine); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	mean := 0.0
	if done > 0 {
		mean = sum / float64(done)
	}
	fmt.Fprintf(os.Stderr, "%d rollouts, mean reward %.4f, %d failed, %.2f s\n", done, mean, failed, time.Since(start).Seconds())
	return nil
}

// readRows reads the dataset's rows, skipping blank lines (as `gym collect`
// does, so the row indices match its _ng_task_index).
func readRows(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	for sc.Scan() {
		if line := sc.Text(); strings.TrimSpace(line) != "" {
			rows = append(rows, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}
