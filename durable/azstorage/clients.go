package azstorage

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// ClientOptions tunes the storage clients.
type ClientOptions struct {
	// Retry overrides the retry policy. The default retries 3 times with
	// short delays (200 ms doubling to 2 s) and a 30 s try timeout, so a
	// dead endpoint fails in seconds rather than the SDK's default minutes.
	Retry *policy.RetryOptions
	// PerCall policies run once per operation (e.g. to count storage
	// operations); PerRetry ones on every attempt.
	PerCall  []policy.Policy
	PerRetry []policy.Policy
	// Transport replaces the HTTP client.
	Transport policy.Transporter
}

// DefaultRetry is the retry policy used unless ClientOptions says otherwise.
func DefaultRetry() policy.RetryOptions {
	return policy.RetryOptions{MaxRetries: 3, TryTimeout: 30 * time.Second, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second}
}

// Clients are the three service clients of one account, plus the pipeline
// used for table transactions.
type Clients struct {
	Account *Account
	Queue   *azqueue.ServiceClient
	Table   *aztables.ServiceClient
	Blob    *azblob.Client
	batch   runtime.Pipeline
}

// NewClients builds clients for an account.
func NewClients(a *Account, o ClientOptions) (*Clients, error) {
	retry := DefaultRetry()
	if o.Retry != nil {
		retry = *o.Retry
	}
	if o.Transport == nil {
		o.Transport = defaultHTTPClient
	}
	// Every client retries idempotent writes whose answer was cut off and
	// records, per call, whether an attempt may have been applied.
	o.PerCall = append([]policy.Policy{retryIdempotentBodyReads{}}, o.PerCall...)
	o.PerRetry = append([]policy.Policy{attemptPolicy{}}, o.PerRetry...)
	co := azcore.ClientOptions{Retry: retry, PerCallPolicies: o.PerCall, PerRetryPolicies: o.PerRetry, Transport: o.Transport}
	tablePerCall := append(append([]policy.Policy{}, o.PerCall...), asciiBodyPolicy{})
	tco := co
	tco.PerCallPolicies = tablePerCall
	c := &Clients{Account: a}
	var err error
	if a.Key != nil {
		qcred, err := azqueue.NewSharedKeyCredential(a.Name, keyString(a))
		if err != nil {
			return nil, fmt.Errorf("azstorage: queue credential: %w", err)
		}
		if c.Queue, err = azqueue.NewServiceClientWithSharedKeyCredential(a.QueueEndpoint+"/", qcred, &azqueue.ClientOptions{ClientOptions: co}); err != nil {
			return nil, fmt.Errorf("azstorage: queue client: %w", err)
		}
		tcred, err := aztables.NewSharedKeyCredential(a.Name, keyString(a))
		if err != nil {
			return nil, fmt.Errorf("azstorage: table credential: %w", err)
		}
		if c.Table, err = aztables.NewServiceClientWithSharedKey(a.TableEndpoint+"/", tcred, &aztables.ClientOptions{ClientOptions: tco}); err != nil {
			return nil, fmt.Errorf("azstorage: table client: %w", err)
		}
		bcred, err := azblob.NewSharedKeyCredential(a.Name, keyString(a))
		if err != nil {
			return nil, fmt.Errorf("azstorage: blob credential: %w", err)
		}
		if c.Blob, err = azblob.NewClientWithSharedKeyCredential(a.BlobEndpoint+"/", bcred, &azblob.ClientOptions{ClientOptions: co}); err != nil {
			return nil, fmt.Errorf("azstorage: blob client: %w", err)
		}
	} else {
		if c.Queue, err = azqueue.NewServiceClientWithNoCredential(a.withSAS(a.QueueEndpoint+"/"), &azqueue.ClientOptions{ClientOptions: co}); err != nil {
			return nil, fmt.Errorf("azstorage: queue client: %w", err)
		}
		if c.Table, err = aztables.NewServiceClientWithNoCredential(a.withSAS(a.TableEndpoint+"/"), &aztables.ClientOptions{ClientOptions: tco}); err != nil {
			return nil, fmt.Errorf("azstorage: table client: %w", err)
		}
		if c.Blob, err = azblob.NewClientWithNoCredential(a.withSAS(a.BlobEndpoint+"/"), &azblob.ClientOptions{ClientOptions: co}); err != nil {
			return nil, fmt.Errorf("azstorage: blob client: %w", err)
		}
	}
	perRetry := append([]policy.Policy{}, o.PerRetry...)
	if a.Key != nil {
		perRetry = append(perRetry, &tableSharedKeyPolicy{account: a})
	}
	c.batch = runtime.NewPipeline("azstorage", "v1", runtime.PipelineOptions{PerCall: o.PerCall, PerRetry: perRetry},
		&policy.ClientOptions{Retry: retry, Transport: o.Transport})
	return c, nil
}

func keyString(a *Account) string { return base64Std(a.Key) }

// defaultHTTPClient keeps many idle connections per storage endpoint: the
// engine issues dozens of requests at once, and the SDK's default of 10
// idle connections per host makes it open and close connections all the
// time under load.
var defaultHTTPClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          512,
	MaxIdleConnsPerHost:   256,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: time.Second,
	TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
}}
