// Package gymmesh is a small client for gym-mesh instances: Dial one by the
// URL `gym serve` prints, run one rollout with Run, or stream a dataset
// through a rollout service with Collect.
//
// The generated stubs are in package gymmeshv1
// (github.com/gym-mesh/gym-mesh/clients/go/gen/gymmesh/v1); Client.Conn gives
// the connection for any of them.
package gymmesh

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	gymmeshv1 "github.com/gym-mesh/gym-mesh/clients/go/gen/gymmesh/v1"
)

// MaxMessageSize is the largest message a Client receives by default (the
// mesh sets no limit; a long trajectory can pass grpc-go's 4 MiB default).
const MaxMessageSize = 256 << 20

// Client talks to one mesh instance. It is safe for concurrent use.
type Client struct {
	url     string
	conn    *grpc.ClientConn
	agent   gymmeshv1.AgentServiceClient
	rollout gymmeshv1.RolloutServiceClient
}

// An Option configures Dial.
type Option func(*options)

type options struct {
	token             string
	caFile            string
	certFile, keyFile string
	tlsConfig         *tls.Config
	dialOptions       []grpc.DialOption
}

// WithToken sends `authorization: Bearer TOKEN` on every call. Over an
// http:// or grpc:// URL the token travels in clear text.
func WithToken(token string) Option {
	return func(o *options) { o.token = token }
}

// WithCAFile trusts the PEM certificates in path (instead of the system's
// roots) for the server's certificate. Needs an https:// URL.
func WithCAFile(path string) Option {
	return func(o *options) { o.caFile = path }
}

// WithClientCert presents this certificate and key (PEM files) to the server,
// for mutual TLS. Needs an https:// URL.
func WithClientCert(certFile, keyFile string) Option {
	return func(o *options) { o.certFile, o.keyFile = certFile, keyFile }
}

// WithTLSConfig uses cfg (cloned) as the base TLS configuration, e.g. for a
// ServerName; WithCAFile and WithClientCert add to it. Needs an https:// URL.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(o *options) { o.tlsConfig = cfg }
}

// WithDialOptions passes extra options to grpc.NewClient, after the ones
// Dial sets (interceptors, keepalive, call options...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// Dial makes a client of the instance at rawURL:
//
//   - http://host:port or grpc://host:port: plaintext gRPC over HTTP/2 (h2c),
//     as `gym serve` prints them (the main port and the grpc-js port);
//   - https://host[:port] (or grpcs://host:port): gRPC over TLS.
//
// Dial does not connect: a target that is down or not gRPC fails the first
// call (with codes.Unavailable), at once or when the call's context ends.
func Dial(rawURL string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	target, useTLS, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials
	if useTLS {
		cfg, err := o.tls()
		if err != nil {
			return nil, fmt.Errorf("gymmesh: dial %s: %w", rawURL, err)
		}
		creds = credentials.NewTLS(cfg)
	} else {
		if o.caFile != "" || o.certFile != "" || o.tlsConfig != nil {
			return nil, fmt.Errorf("gymmesh: dial %s: TLS options need an https:// URL", rawURL)
		}
		creds = insecure.NewCredentials()
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
	}
	if o.token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearer(o.token)))
	}
	dialOpts = append(dialOpts, o.dialOptions...)
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("gymmesh: dial %s: %w", rawURL, err)
	}
	return &Client{
		url:     rawURL,
		conn:    conn,
		agent:   gymmeshv1.NewAgentServiceClient(conn),
		rollout: gymmeshv1.NewRolloutServiceClient(conn),
	}, nil
}

// parseURL gives grpc.NewClient's target (host:port) and whether to use TLS.
func parseURL(rawURL string) (target string, useTLS bool, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false, fmt.Errorf("gymmesh: bad URL %q: %w", rawURL, err)
	}
	var defaultPort string
	switch u.Scheme {
	case "http":
		defaultPort = "80"
	case "https":
		useTLS, defaultPort = true, "443"
	case "grpc":
	case "grpcs":
		useTLS = true
	default:
		return "", false, fmt.Errorf("gymmesh: bad URL %q: want http://, https://, grpc:// or grpcs://HOST:PORT", rawURL)
	}
	if u.Hostname() == "" {
		return "", false, fmt.Errorf("gymmesh: bad URL %q: no host", rawURL)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false, fmt.Errorf("gymmesh: bad URL %q: want only a scheme, a host and a port", rawURL)
	}
	port := u.Port()
	if port == "" {
		if defaultPort == "" {
			return "", false, fmt.Errorf("gymmesh: bad URL %q: no port", rawURL)
		}
		port = defaultPort
	}
	return net.JoinHostPort(u.Hostname(), port), useTLS, nil
}

func (o *options) tls() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.tlsConfig != nil {
		cfg = o.tlsConfig.Clone()
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", o.caFile)
		}
		cfg.RootCAs = pool
	}
	if o.certFile != "" || o.keyFile != "" {
		if o.certFile == "" || o.keyFile == "" {
			return nil, errors.New("client certificate: need both a certificate and a key file")
		}
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	return cfg, nil
}

// bearer is a token sent on every call; it is allowed over plaintext too,
// since the mesh's own ports are plaintext.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// URL is the URL the client was dialled with.
func (c *Client) URL() string { return c.url }

// Conn is the underlying connection, for any generated stub, e.g.
// gymmeshv1.NewModelServiceClient(c.Conn()).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Agent is the AgentService stub (for an agent instance's URL).
func (c *Client) Agent() gymmeshv1.AgentServiceClient { return c.agent }

// Rollout is the RolloutService stub (for a rollout instance's URL).
func (c *Client) Rollout() gymmeshv1.RolloutServiceClient { return c.rollout }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Check asks the instance's gRPC health service whether it is serving: a
// quick way to fail fast on a wrong URL.
func (c *Client) Check(ctx context.Context) error {
	res, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return c.errorf("health check", err)
	}
	if s := res.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("gymmesh: health check of %s: %s", c.url, s)
	}
	return nil
}

// Run runs one rollout of a NeMo Gym dataset row (one JSONL line, as it is)
// on the agent instance this client is dialled to. It returns the rollout as
// a NeMo Gym output line (JSON text, what `gym collect` writes) and typed.
// A row the agent refuses fails with codes.InvalidArgument (see
// status.Code), a failed rollout with its own code.
func (c *Client) Run(ctx context.Context, rowJSON string) (outputLine string, rollout *gymmeshv1.Rollout, err error) {
	res, err := c.agent.Run(ctx, &gymmeshv1.RunRequest{
		Input:          &gymmeshv1.RunRequest_RowJson{RowJson: rowJSON},
		WantOutputLine: true,
	})
	if err != nil {
		return "", nil, c.errorf("Run", err)
	}
	return res.GetOutputLineJson(), res.GetRollout(), nil
}

// errorf wraps a call's error with the call and the URL; status.Code and
// status.FromError still see its gRPC status.
func (c *Client) errorf(call string, err error) error {
	return fmt.Errorf("gymmesh: %s at %s: %w", call, c.url, err)
}
