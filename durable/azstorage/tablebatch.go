package azstorage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// opKind is the kind of one operation of a table transaction.
type opKind int

// The operations an entity-group transaction can carry.
const (
	opAdd           opKind = iota // insert; fails 409 if the row exists
	opUpsertReplace               // insert or replace
	opUpsertMerge                 // insert or merge
	opUpdateReplace               // replace, If-Match ETag ("*" for any)
	opUpdateMerge                 // merge, If-Match ETag
	opDelete                      // delete, If-Match ETag
)

// tableOp is one operation; Entity must hold PartitionKey and RowKey.
// Entity values are written with their Edm types (time.Time as
// Edm.DateTime, int64 as Edm.Int64, []byte as Edm.Binary, float64 as
// Edm.Double, aztables.EDMGUID as Edm.Guid; see encodeBatchEntity), or
// verbatim when the map also holds a "Name@odata.type" annotation.
type tableOp struct {
	Kind   opKind
	Entity map[string]any
	ETag   string
}

// tableBatch is an entity-group transaction: up to 100 operations on one
// partition of one table, applied all or nothing.
type tableBatch struct {
	Table        string
	PartitionKey string
	Ops          []tableOp
}

// tableOpResult is the outcome of one operation of a committed batch.
type tableOpResult struct {
	Status int
	ETag   string
}

// batchError is a batch the service refused. Nothing of the batch
// was applied.
type batchError struct {
	Table  string
	Index  int // the failing operation, or -1 if unknown
	Status int // e.g. 409 (exists), 412 (ETag mismatch), 404
	Code   string
	Msg    string
}

func (e *batchError) Error() string {
	return fmt.Sprintf("table %s: transaction failed at operation %d: HTTP %d %s: %s", e.Table, e.Index, e.Status, e.Code, e.Msg)
}

// isBatchConflict reports a transaction that failed because a row existed
// (409) or had changed (412): a concurrent writer won.
func isBatchConflict(err error) bool {
	var te *batchError
	return errors.As(err, &te) && (te.Status == http.StatusConflict || te.Status == http.StatusPreconditionFailed)
}

const maxBatchOps = 100

// submitBatch sends a transaction as an OData $batch request and reports
// each operation's new ETag, or a *batchError naming the operation
// that failed. The aztables SDK's own SubmitTransaction cannot be used: it
// returns no per-operation ETags and loses the status of a failed
// operation that the service reports inside a 202 response.
func (c *Clients) submitBatch(ctx context.Context, b tableBatch) ([]tableOpResult, error) {
	if len(b.Ops) == 0 {
		return nil, nil
	}
	if len(b.Ops) > maxBatchOps {
		return nil, fmt.Errorf("azstorage: table %s: a transaction holds at most %d operations, got %d", b.Table, maxBatchOps, len(b.Ops))
	}
	base := c.Account.TableEndpoint
	batchID, changesetID := "batch_"+newGUID(), "changeset_"+newGUID()
	var body bytes.Buffer
	fmt.Fprintf(&body, "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", batchID, changesetID)
	for i, op := range b.Ops {
		if pk, _ := op.Entity["PartitionKey"].(string); pk != b.PartitionKey {
			return nil, fmt.Errorf("azstorage: table %s: operation %d is for partition %q, not %q", b.Table, i, pk, b.PartitionKey)
		}
		if err := writeBatchOp(&body, changesetID, base, b.Table, i, op); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(&body, "--%s--\r\n\r\n--%s--\r\n", changesetID, batchID)

	req, err := runtime.NewRequest(ctx, http.MethodPost, c.Account.withSAS(base+"/$batch"))
	if err != nil {
		return nil, fmt.Errorf("azstorage: table %s: batch request: %w", b.Table, err)
	}
	h := req.Raw().Header
	h.Set("x-ms-version", "2019-02-02")
	h.Set("DataServiceVersion", "3.0")
	h.Set("MaxDataServiceVersion", "3.0;NetFx")
	h.Set("Accept", "application/json;odata=minimalmetadata")
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body.Bytes())), "multipart/mixed; boundary="+batchID); err != nil {
		return nil, err
	}
	resp, err := c.batch.Do(req)
	if err != nil {
		return nil, fmt.Errorf("azstorage: table %s: batch: %w", b.Table, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		code, text := parseODataError(msg)
		if code == "" {
			code = resp.Header.Get("x-ms-error-code")
		}
		return nil, &batchError{Table: b.Table, Index: -1, Status: resp.StatusCode, Code: code, Msg: text}
	}
	return parseBatchResponse(b.Table, len(b.Ops), resp)
}

func writeBatchOp(w *bytes.Buffer, changeset, base, table string, i int, op tableOp) error {
	pk, _ := op.Entity["PartitionKey"].(string)
	rk, _ := op.Entity["RowKey"].(string)
	keyURL := fmt.Sprintf("%s/%s(PartitionKey=%s,RowKey=%s)", base, table,
		url.PathEscape(odataQuote(pk)), url.PathEscape(odataQuote(rk)))
	method, target, ifMatch, withBody := "", keyURL, "", true
	switch op.Kind {
	case opAdd:
		method, target = http.MethodPost, base+"/"+table
	case opUpsertReplace:
		method = http.MethodPut
	case opUpsertMerge:
		method = "MERGE"
	case opUpdateReplace:
		method, ifMatch = http.MethodPut, op.ETag
	case opUpdateMerge:
		method, ifMatch = "MERGE", op.ETag
	case opDelete:
		method, ifMatch, withBody = http.MethodDelete, op.ETag, false
	default:
		return fmt.Errorf("azstorage: table %s: operation %d has unknown kind %d", table, i, op.Kind)
	}
	if (op.Kind == opUpdateReplace || op.Kind == opUpdateMerge || op.Kind == opDelete) && ifMatch == "" {
		return fmt.Errorf("azstorage: table %s: operation %d needs an ETag (use \"*\" for any)", table, i)
	}
	fmt.Fprintf(w, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n", changeset)
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\n", method, target)
	fmt.Fprintf(w, "Accept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0\r\nContent-ID: %d\r\n", i+1)
	if ifMatch != "" {
		fmt.Fprintf(w, "If-Match: %s\r\n", ifMatch)
	}
	if !withBody {
		w.WriteString("\r\n")
		return nil
	}
	payload, err := encodeBatchEntity(op.Entity)
	if err != nil {
		return fmt.Errorf("azstorage: table %s: operation %d: %w", table, i, err)
	}
	if op.Kind == opAdd {
		w.WriteString("Prefer: return-no-content\r\n")
	}
	fmt.Fprintf(w, "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(payload))
	w.Write(payload)
	w.WriteString("\r\n")
	return nil
}

var indexPrefix = regexp.MustCompile(`^(\d+):`)

// parseBatchResponse reads the multipart answer: one HTTP response per
// operation on success, or a single failed response on failure.
func parseBatchResponse(table string, n int, resp *http.Response) ([]tableOpResult, error) {
	parts, err := readHTTPParts(resp.Header.Get("Content-Type"), resp.Body)
	if err != nil {
		return nil, fmt.Errorf("azstorage: table %s: batch response: %w", table, err)
	}
	var results []tableOpResult
	for _, p := range parts {
		if p.resp.StatusCode >= 300 {
			code, msg := parseODataError(p.body)
			idx := -1
			if m := indexPrefix.FindStringSubmatch(msg); m != nil {
				idx, _ = strconv.Atoi(m[1])
			} else if cid, err := strconv.Atoi(p.contentID); err == nil {
				idx = cid - 1
			}
			return nil, &batchError{Table: table, Index: idx, Status: p.resp.StatusCode, Code: code, Msg: msg}
		}
		results = append(results, tableOpResult{Status: p.resp.StatusCode, ETag: p.resp.Header.Get("ETag")})
	}
	if len(results) != n {
		return nil, fmt.Errorf("azstorage: table %s: batch response has %d results for %d operations", table, len(results), n)
	}
	return results, nil
}

type httpPart struct {
	contentID string
	resp      *http.Response
	body      []byte
}

// readHTTPParts flattens a (possibly nested) multipart body of
// application/http responses.
func readHTTPParts(contentType string, r io.Reader) ([]httpPart, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil, fmt.Errorf("unexpected content type %q", contentType)
	}
	mr := multipart.NewReader(r, params["boundary"])
	var out []httpPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if ct := p.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/") {
			inner, err := readHTTPParts(ct, p)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(p), nil)
		if err != nil {
			return nil, fmt.Errorf("operation response: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, httpPart{contentID: resp.Header.Get("Content-ID"), resp: resp, body: body})
	}
}

// parseODataError reads {"odata.error":{"code":..,"message":{"value":..}}}
// or <Error><Code>..</Code><Message>..</Message></Error>.
func parseODataError(body []byte) (code, msg string) {
	var e struct {
		Err struct {
			Code    string `json:"code"`
			Message struct {
				Value string `json:"value"`
			} `json:"message"`
		} `json:"odata.error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Err.Code != "" {
		return e.Err.Code, e.Err.Message.Value
	}
	// Errors about the request as a whole (authentication, for one) may
	// come as the storage XML error document instead.
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &x) == nil && x.Code != "" {
		return x.Code, strings.TrimSpace(x.Message)
	}
	return "", strings.TrimSpace(string(body))
}

// tableSharedKeyPolicy signs table requests with the account key (the
// Table service's SharedKey scheme).
type tableSharedKeyPolicy struct{ account *Account }

func (p *tableSharedKeyPolicy) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	date := time.Now().UTC().Format(http.TimeFormat)
	r.Header.Set("x-ms-date", date)
	resource := "/" + p.account.Name + r.URL.EscapedPath()
	if comp := r.URL.Query().Get("comp"); comp != "" {
		resource += "?comp=" + comp
	}
	toSign := strings.Join([]string{r.Method, r.Header.Get("Content-MD5"), r.Header.Get("Content-Type"), date, resource}, "\n")
	mac := hmac.New(sha256.New, p.account.Key)
	mac.Write([]byte(toSign))
	r.Header.Set("Authorization", "SharedKey "+p.account.Name+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return req.Next()
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
