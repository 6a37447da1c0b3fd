package gymmesh_test

// Tests against tiny in-test grpc-go servers: what the client sends
// (token, TLS), the in-flight cap, and bad targets.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	gymmeshv1 "github.com/gym-mesh/gym-mesh/clients/go/gen/gymmesh/v1"
	"github.com/gym-mesh/gym-mesh/clients/go/gymmesh"
)

// fakeMesh is an agent and a rollout service that record the metadata of
// every call. Its rollouts answer after delay with reward 1; Collect tracks
// how many rollouts are outstanding.
type fakeMesh struct {
	gymmeshv1.UnimplementedAgentServiceServer
	gymmeshv1.UnimplementedRolloutServiceServer
	delay time.Duration

	mu             sync.Mutex
	authorizations []string
	outstanding    int
	maxOutstanding int
}

func (f *fakeMesh) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authorizations = append(f.authorizations, strings.Join(md.Get("authorization"), ","))
}

func (f *fakeMesh) Run(ctx context.Context, req *gymmeshv1.RunRequest) (*gymmeshv1.RunResponse, error) {
	f.record(ctx)
	if !strings.HasPrefix(req.GetRowJson(), "{") {
		return nil, status.Error(codes.InvalidArgument, "row: not a JSON object")
	}
	return &gymmeshv1.RunResponse{
		Rollout:        &gymmeshv1.Rollout{RolloutId: "fake", Verdict: &gymmeshv1.Verdict{Reward: 1}},
		OutputLineJson: `{"reward":1}`,
	}, nil
}

func (f *fakeMesh) Collect(stream grpc.BidiStreamingServer[gymmeshv1.CollectRequest, gymmeshv1.CollectResponse]) error {
	f.record(stream.Context())
	var sendMu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.outstanding += int(req.GetNumRepeats())
		f.maxOutstanding = max(f.maxOutstanding, f.outstanding)
		f.mu.Unlock()
		for r := range req.GetNumRepeats() {
			wg.Go(func() {
				time.Sleep(f.delay)
				res := &gymmeshv1.CollectResponse{TaskId: req.GetTaskId(), RepeatIndex: r, Agent: "fake"}
				if strings.HasPrefix(req.GetRowJson(), "{") {
					res.Outcome = &gymmeshv1.CollectResponse_OutputLineJson{OutputLineJson: fmt.Sprintf(`{"reward":1,"_ng_task_index":%d,"_ng_rollout_index":%d}`, req.GetTaskIndex(), r)}
				} else {
					res.Outcome = &gymmeshv1.CollectResponse_Error{Error: status.New(codes.InvalidArgument, "row: not a JSON object").Proto()}
				}
				f.mu.Lock()
				f.outstanding--
				f.mu.Unlock()
				sendMu.Lock()
				defer sendMu.Unlock()
				_ = stream.Send(res)
			})
		}
	}
}

// serveFake serves f on a loopback port; it returns the port.
func serveFake(t *testing.T, f *fakeMesh, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	gymmeshv1.RegisterAgentServiceServer(s, f)
	gymmeshv1.RegisterRolloutServiceServer(s, f)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return strconv.Itoa(lis.Addr().(*net.TCPAddr).Port)
}

func TestTokenIsSentOnEveryCall(t *testing.T) {
	f := &fakeMesh{}
	port := serveFake(t, f)
	for _, scheme := range []string{"http", "grpc"} {
		c := dial(t, scheme+"://127.0.0.1:"+port, gymmesh.WithToken("s3cret"))
		if _, _, err := c.Run(testContext(t), `{}`); err != nil {
			t.Fatal(err)
		}
		for _, err := range c.Collect(testContext(t), slices.Values([]string{`{}`}), gymmesh.CollectOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	c := dial(t, "http://127.0.0.1:"+port) // no token: no header
	if _, _, err := c.Run(testContext(t), `{}`); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bearer s3cret", "Bearer s3cret", "Bearer s3cret", "Bearer s3cret", ""}
	if !slices.Equal(f.authorizations, want) {
		t.Errorf("authorization headers %q, want %q", f.authorizations, want)
	}
}

func TestRunErrorKeepsItsCode(t *testing.T) {
	port := serveFake(t, &fakeMesh{})
	c := dial(t, "grpc://127.0.0.1:"+port)
	_, _, err := c.Run(testContext(t), `not json`)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("err = %v, want InvalidArgument with the server's message", err)
	}
}

func TestCollectCapsRolloutsInFlight(t *testing.T) {
	// The server sees at most the cap (or one row's repeats, if more), and
	// at least the first burst (whole rows within the cap): its answers come
	// after a delay.
	for _, tc := range []struct{ maxInFlight, repeats, wantMin, wantMax int }{
		{4, 1, 4, 4},
		{5, 2, 4, 5},
		{1, 3, 3, 3}, // a row over the cap goes alone
	} {
		t.Run(fmt.Sprintf("cap=%d,repeats=%d", tc.maxInFlight, tc.repeats), func(t *testing.T) {
			f := &fakeMesh{delay: 50 * time.Millisecond}
			c := dial(t, "http://127.0.0.1:"+serveFake(t, f))
			rows := make([]string, 12)
			for i := range rows {
				rows[i] = `{}`
			}
			rows[5] = `bad`
			n, failed := 0, 0
			for res, err := range c.Collect(testContext(t), slices.Values(rows), gymmesh.CollectOptions{NumRepeats: tc.repeats, MaxInFlight: tc.maxInFlight}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
				if res.Failure != nil {
					failed++
					if res.TaskIndex != 5 || res.Failure.Code() != codes.InvalidArgument {
						t.Errorf("unexpected failure %d: %v", res.TaskIndex, res.Failure.Err())
					}
				}
			}
			if n != len(rows)*tc.repeats || failed != tc.repeats {
				t.Errorf("%d results (%d failed), want %d (%d failed)", n, failed, len(rows)*tc.repeats, tc.repeats)
			}
			if f.maxOutstanding < tc.wantMin || f.maxOutstanding > tc.wantMax {
				t.Errorf("at most %d rollouts outstanding, want %d to %d", f.maxOutstanding, tc.wantMin, tc.wantMax)
			}
		})
	}
}

func TestCollectStopsEarly(t *testing.T) {
	f := &fakeMesh{delay: 5 * time.Millisecond}
	c := dial(t, "http://127.0.0.1:"+serveFake(t, f))
	rows := func(yield func(string) bool) { // endless rows
		for yield(`{}`) {
		}
	}
	n := 0
	for _, err := range c.Collect(testContext(t), rows, gymmesh.CollectOptions{MaxInFlight: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
}

func TestTLSAndMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCert(t, dir, "ca", nil, nil)
	newCert(t, dir, "server", ca, caKey)
	newCert(t, dir, "client", ca, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMesh{}
	port := serveFake(t, f, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	})))
	url := "https://127.0.0.1:" + port

	c := dial(t, url, gymmesh.WithCAFile(filepath.Join(dir, "ca.pem")),
		gymmesh.WithClientCert(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")),
		gymmesh.WithToken("t"))
	if _, _, err := c.Run(testContext(t), `{}`); err != nil {
		t.Fatalf("mTLS: %v", err)
	}
	if got := f.authorizations; !slices.Equal(got, []string{"Bearer t"}) {
		t.Errorf("authorization over TLS: %q", got)
	}

	noClientCert := dial(t, url, gymmesh.WithCAFile(filepath.Join(dir, "ca.pem")))
	if _, _, err := noClientCert.Run(testContext(t), `{}`); err == nil {
		t.Error("a server that requires a client certificate answered a client without one")
	}
	systemRoots := dial(t, url)
	if _, _, err := systemRoots.Run(testContext(t), `{}`); status.Code(err) != codes.Unavailable {
		t.Errorf("untrusted server certificate: err %v, want Unavailable", err)
	}
}

// newCert writes NAME.pem and NAME-key.pem: a CA (parent nil) or a
// certificate for 127.0.0.1 signed by parent.
func newCert(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(name+".pem", "CERTIFICATE", der)
	write(name+"-key.pem", "EC PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestBadURLs(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts []gymmesh.Option
		want string
	}{
		{"ftp://127.0.0.1:1", nil, "want http://, https://, grpc://"},
		{"127.0.0.1:50051", nil, "bad URL"},
		{"grpc://127.0.0.1", nil, "no port"},
		{"http://:8080", nil, "no host"},
		{"http://127.0.0.1:8080/gymmesh.v1.AgentService", nil, "only a scheme, a host and a port"},
		{"http://127.0.0.1:8080", []gymmesh.Option{gymmesh.WithCAFile("ca.pem")}, "TLS options need an https:// URL"},
		{"https://127.0.0.1:8443", []gymmesh.Option{gymmesh.WithCAFile("/nonexistent/ca.pem")}, "CA file"},
		{"https://127.0.0.1:8443", []gymmesh.Option{gymmesh.WithClientCert("c.pem", "")}, "need both"},
	} {
		_, err := gymmesh.Dial(tc.url, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dial(%q): err %v, want one saying %q", tc.url, err, tc.want)
		}
	}
	for _, url := range []string{"http://127.0.0.1:8080", "http://127.0.0.1:8080/", "grpc://localhost:9", "https://example.test", "grpcs://[::1]:443"} {
		c, err := gymmesh.Dial(url)
		if err != nil {
			t.Errorf("Dial(%q): %v", url, err)
			continue
		}
		c.Close()
	}
}

// A target that is down, or not gRPC, fails the call quickly with a clear
// error, well before the call's own deadline.
func TestBadTargetFailsFast(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()
	notGRPC := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not gRPC", http.StatusNotFound)
	}))
	t.Cleanup(notGRPC.Close)

	for _, url := range []string{"http://" + closed, "grpc://" + closed, notGRPC.URL} {
		t.Run(url, func(t *testing.T) {
			c := dial(t, url)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, _, err := c.Run(ctx, `{}`)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if code := status.Code(err); code != codes.Unavailable && code != codes.Unimplemented && code != codes.Unknown && code != codes.Internal {
				t.Errorf("code %v: %v", code, err)
			}
			if !strings.Contains(err.Error(), "gymmesh: Run at "+url) {
				t.Errorf("error does not name the call and URL: %v", err)
			}
			t.Log(err)

			start = time.Now()
			var streamErr error
			for res, err := range c.Collect(ctx, slices.Values([]string{`{}`}), gymmesh.CollectOptions{}) {
				if err == nil {
					t.Fatalf("Collect gave a result: %+v", res)
				}
				streamErr = err
			}
			if streamErr == nil || !strings.Contains(streamErr.Error(), "gymmesh: Collect at "+url) {
				t.Errorf("Collect: err %v", streamErr)
			}
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Collect took %v", elapsed)
			}
		})
	}
}
