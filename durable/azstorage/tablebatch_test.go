package azstorage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

var batchTableCounter atomic.Int64

// newBatchTestTable creates a fresh table on the test binary's Azurite
// and returns clients whose requests are counted.
func newBatchTestTable(t *testing.T) (*Clients, batchTestTable, *atomic.Int64) {
	t.Helper()
	sent := &atomic.Int64{}
	c, err := NewClients(testAccount(t), ClientOptions{PerCall: []policy.Policy{requestCounter{sent}}})
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("batchtest%d", batchTableCounter.Add(1))
	ctx := context.Background()
	if _, err := c.Table.CreateTable(ctx, name, nil); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() { _, _ = c.Table.DeleteTable(context.Background(), name, nil) })
	sent.Store(0)
	return c, batchTestTable{Client: c.Table.NewClient(name), name: name}, sent
}

// batchTestTable is a test's table: its SDK client and its name.
type batchTestTable struct {
	*aztables.Client
	name string
}

// requestCounter counts the operations sent through a pipeline.
type requestCounter struct{ n *atomic.Int64 }

func (r requestCounter) Do(req *policy.Request) (*http.Response, error) {
	r.n.Add(1)
	return req.Next()
}

func row(rk string, props ...any) map[string]any {
	e := map[string]any{"PartitionKey": "p", "RowKey": rk}
	for i := 0; i+1 < len(props); i += 2 {
		e[props[i].(string)] = props[i+1]
	}
	return e
}

// rawEntity reads a row with the plain aztables SDK, as JSON with the
// service's annotations; ok is false when the row does not exist.
func rawEntity(t *testing.T, tc batchTestTable, rk string) (props map[string]any, etag string, ok bool) {
	t.Helper()
	got, err := tc.GetEntity(context.Background(), "p", rk, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil, "", false
	}
	if err != nil {
		t.Fatalf("get row %s: %v", rk, err)
	}
	if err := json.Unmarshal(got.Value, &props); err != nil {
		t.Fatalf("row %s: %v", rk, err)
	}
	return props, string(got.ETag), true
}

func transactionError(t *testing.T, err error) *batchError {
	t.Helper()
	var te *batchError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want a *TransactionError", err, err)
	}
	return te
}

// A committed batch reports each operation's new ETag: the same ETags a
// later read returns.
func TestSubmitBatchReturnsTheETagOfEachRow(t *testing.T) {
	c, tc, sent := newBatchTestTable(t)
	ctx := context.Background()
	res, err := c.submitBatch(ctx, tableBatch{Table: tc.name, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpsertReplace, Entity: row("0000000000000000", "V", "a")},
		{Kind: opUpsertReplace, Entity: row("0000000000000001", "V", "b")},
		{Kind: opUpsertReplace, Entity: row("0000000000000002", "V", "c")},
		{Kind: opAdd, Entity: row("sentinel", "ExecutionId", "e1")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results for 4 operations: %+v", len(res), res)
	}
	if sent.Load() != 1 {
		t.Fatalf("the batch took %d requests, want 1", sent.Load())
	}
	for i, rk := range []string{"0000000000000000", "0000000000000001", "0000000000000002", "sentinel"} {
		_, etag, ok := rawEntity(t, tc, rk)
		if !ok || res[i].ETag == "" || res[i].ETag != etag {
			t.Errorf("operation %d (%s): batch ETag %q, stored ETag %q (exists %v)", i, rk, res[i].ETag, etag, ok)
		}
		if res[i].Status != http.StatusNoContent && res[i].Status != http.StatusCreated {
			t.Errorf("operation %d: status %d", i, res[i].Status)
		}
	}
}

// An Add of a row that exists fails the whole batch with 409, names the
// operation, and writes none of the other rows.
func TestSubmitBatchAddOfExistingRowChangesNothing(t *testing.T) {
	c, tc, _ := newBatchTestTable(t)
	ctx := context.Background()
	table := tc.name
	if _, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpsertReplace, Entity: row("a", "V", "first")},
		{Kind: opAdd, Entity: row("sentinel", "ExecutionId", "e1")},
	}}); err != nil {
		t.Fatal(err)
	}
	_, etagA, _ := rawEntity(t, tc, "a")
	_, etagSentinel, _ := rawEntity(t, tc, "sentinel")

	_, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpsertReplace, Entity: row("a", "V", "second")},
		{Kind: opUpsertReplace, Entity: row("b", "V", "second")},
		{Kind: opAdd, Entity: row("sentinel", "ExecutionId", "e2")},
		{Kind: opUpsertMerge, Entity: row("c", "V", "second")},
	}})
	te := transactionError(t, err)
	if te.Status != http.StatusConflict || te.Code != "EntityAlreadyExists" || te.Index != 2 || te.Table != table {
		t.Fatalf("error = %+v, want 409 EntityAlreadyExists at operation 2 of %s", te, table)
	}
	if !isBatchConflict(err) {
		t.Fatal("IsConflict = false for a 409")
	}
	if props, etag, _ := rawEntity(t, tc, "a"); props["V"] != "first" || etag != etagA {
		t.Fatalf("row a changed by the failed batch: %v (ETag %q, was %q)", props, etag, etagA)
	}
	if props, etag, _ := rawEntity(t, tc, "sentinel"); props["ExecutionId"] != "e1" || etag != etagSentinel {
		t.Fatalf("sentinel changed by the failed batch: %v", props)
	}
	for _, rk := range []string{"b", "c"} {
		if _, _, ok := rawEntity(t, tc, rk); ok {
			t.Fatalf("row %s was written by the failed batch", rk)
		}
	}
}

// UpdateMerge is guarded by If-Match: a stale ETag fails with 412 and
// changes nothing; the current one succeeds, merges and returns the new
// ETag.
func TestSubmitBatchUpdateMergeHonoursIfMatch(t *testing.T) {
	c, tc, _ := newBatchTestTable(t)
	ctx := context.Background()
	table := tc.name
	first, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opAdd, Entity: row("sentinel", "ExecutionId", "e1", "IsCheckpointComplete", false)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	stale := first[0].ETag
	second, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpdateMerge, Entity: row("sentinel", "IsCheckpointComplete", true), ETag: stale},
	}})
	if err != nil {
		t.Fatal(err)
	}
	current := second[0].ETag
	if current == "" || current == stale {
		t.Fatalf("the merge returned ETag %q (old %q)", current, stale)
	}
	props, etag, _ := rawEntity(t, tc, "sentinel")
	if etag != current || props["ExecutionId"] != "e1" || props["IsCheckpointComplete"] != true {
		t.Fatalf("after the merge: %v, ETag %q (batch said %q)", props, etag, current)
	}

	_, err = c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpsertReplace, Entity: row("0000000000000005", "V", "x")},
		{Kind: opUpdateMerge, Entity: row("sentinel", "ExecutionId", "loser"), ETag: stale},
	}})
	te := transactionError(t, err)
	if te.Status != http.StatusPreconditionFailed || te.Code != "UpdateConditionNotSatisfied" || te.Index != 1 || !isBatchConflict(err) {
		t.Fatalf("error = %+v, want 412 UpdateConditionNotSatisfied at operation 1", te)
	}
	if props, etag, _ := rawEntity(t, tc, "sentinel"); etag != current || props["ExecutionId"] != "e1" {
		t.Fatalf("the stale merge changed the sentinel: %v, ETag %q", props, etag)
	}
	if _, _, ok := rawEntity(t, tc, "0000000000000005"); ok {
		t.Fatal("the row beside the stale merge was written")
	}
}

// UpdateReplace, Delete and a missing row: "*" matches any ETag, a
// replace drops the columns it does not name, and an update or delete of
// a row that does not exist is a 404 that is not a conflict.
func TestSubmitBatchReplaceDeleteAndMissingRows(t *testing.T) {
	c, tc, _ := newBatchTestTable(t)
	ctx := context.Background()
	table := tc.name
	res, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opAdd, Entity: row("r", "A", "1", "B", "1")},
		{Kind: opAdd, Entity: row("d", "A", "1")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpdateReplace, Entity: row("r", "A", "2"), ETag: "*"},
		{Kind: opDelete, Entity: row("d"), ETag: res[1].ETag},
	}})
	if err != nil {
		t.Fatal(err)
	}
	props, etag, _ := rawEntity(t, tc, "r")
	if _, hasB := props["B"]; props["A"] != "2" || hasB || etag != res[0].ETag {
		t.Fatalf("replaced row = %v, ETag %q (batch said %q)", props, etag, res[0].ETag)
	}
	if _, _, ok := rawEntity(t, tc, "d"); ok {
		t.Fatal("the deleted row is still there")
	}
	for _, op := range []tableOp{
		{Kind: opDelete, Entity: row("d"), ETag: "*"},
		{Kind: opUpdateMerge, Entity: row("nothere", "A", "1"), ETag: "*"},
	} {
		_, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: []tableOp{
			{Kind: opUpsertMerge, Entity: row("r", "A", "3")}, op}})
		te := transactionError(t, err)
		if te.Status != http.StatusNotFound || te.Code != "ResourceNotFound" || te.Index != 1 || isBatchConflict(err) {
			t.Fatalf("kind %d on a missing row: %+v (isBatchConflict %v)", op.Kind, te, isBatchConflict(err))
		}
	}
	if props, _, _ := rawEntity(t, tc, "r"); props["A"] != "2" {
		t.Fatalf("a failed batch changed row r: %v", props)
	}
}

// Batches the service would refuse are refused before anything is sent.
func TestSubmitBatchRejectsBadBatchesLocally(t *testing.T) {
	c, tc, sent := newBatchTestTable(t)
	ctx := context.Background()
	table := tc.name
	many := make([]tableOp, 101)
	for i := range many {
		many[i] = tableOp{Kind: opUpsertReplace, Entity: row(fmt.Sprintf("%03d", i))}
	}
	for name, bad := range map[string]struct {
		ops  []tableOp
		want string
	}{
		"101 operations":  {many, "at most 100 operations, got 101"},
		"other partition": {[]tableOp{{Kind: opAdd, Entity: map[string]any{"PartitionKey": "q", "RowKey": "1"}}}, `partition "q"`},
		"no ETag":         {[]tableOp{{Kind: opUpdateMerge, Entity: row("1")}}, "needs an ETag"},
		"unknown kind":    {[]tableOp{{Kind: opKind(42), Entity: row("1")}}, "unknown kind 42"},
		"unsupported":     {[]tableOp{{Kind: opAdd, Entity: row("1", "Ch", make(chan int))}}, `property "Ch": unsupported value type chan int`},
		"int too big":     {[]tableOp{{Kind: opAdd, Entity: row("1", "N", 1<<40)}}, "does not fit Edm.Int32"},
		"year 1":          {[]tableOp{{Kind: opAdd, Entity: row("1", "T", time.Time{})}}, "outside the Edm.DateTime range"},
		"bad GUID":        {[]tableOp{{Kind: opAdd, Entity: row("1", "G", aztables.EDMGUID("nope"))}}, "is not a GUID"},
	} {
		_, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p", Ops: bad.ops})
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), table) {
			t.Errorf("%s: err = %v, want one naming table %s and saying %q", name, err, table, bad.want)
		}
		if isBatchConflict(err) {
			t.Errorf("%s: a local error counts as a conflict", name)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d requests were sent for batches that are refused locally", n)
	}
	if res, err := c.submitBatch(ctx, tableBatch{Table: table, PartitionKey: "p"}); err != nil || res != nil || sent.Load() != 0 {
		t.Fatalf("empty batch: %v, %v, %d requests", res, err, sent.Load())
	}
}

// Go values are stored with their Edm types: read back with the plain
// SDK, each column carries the type annotation the service gives it.
func TestSubmitBatchStoresEdmTypes(t *testing.T) {
	c, tc, _ := newBatchTestTable(t)
	ctx := context.Background()
	when := time.Date(2026, 11, 25, 8, 30, 45, 123456789, time.FixedZone("CET", 3600))
	guid := aztables.EDMGUID("0f8fad5b-d9cb-469f-a165-70867728950e")
	if _, err := c.submitBatch(ctx, tableBatch{Table: tc.name, PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpsertReplace, Entity: row("typed",
			"When", when,
			"Whole", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			"Big", int64(1)<<40,
			"SmallInt64", int64(7),
			"Count", 42,
			"Int32", int32(-5),
			"Ratio", 2.5,
			"Flag", true,
			"Text", "héllo",
			"Bytes", []byte{0, 1, 2, 250},
			"Id", guid,
			"Missing", nil,
			"Pre", "2020-01-01T00:00:00Z", "Pre@odata.type", "Edm.DateTime",
		)},
	}}); err != nil {
		t.Fatal(err)
	}
	props, _, ok := rawEntity(t, tc, "typed")
	if !ok {
		t.Fatal("the typed row was not written")
	}
	// Int32, Double, bool and string need no annotation: the service may
	// leave it out (Azurite does, even for a Double).
	want := map[string][2]any{ // value, annotation (nil: none or the inferred type)
		"When":       {"2026-11-25T07:30:45.1234567Z", "Edm.DateTime"},
		"Whole":      {"2026-01-02T03:04:05Z", "Edm.DateTime"},
		"Big":        {"1099511627776", "Edm.Int64"},
		"SmallInt64": {"7", "Edm.Int64"},
		"Count":      {float64(42), nil},
		"Int32":      {float64(-5), nil},
		"Ratio":      {2.5, nil},
		"Flag":       {true, nil},
		"Text":       {"héllo", nil},
		"Bytes":      {"AAEC+g==", "Edm.Binary"},
		"Id":         {string(guid), "Edm.Guid"},
		"Pre":        {"2020-01-01T00:00:00Z", "Edm.DateTime"},
	}
	for name, w := range want {
		ann, hasAnn := props[name+odataTypeSuffix]
		if props[name] != w[0] {
			t.Errorf("%s = %#v, want %#v", name, props[name], w[0])
		}
		switch {
		case w[1] == nil && hasAnn && ann != "Edm.Int32" && ann != "Edm.Double" && ann != "Edm.String" && ann != "Edm.Boolean":
			t.Errorf("%s is annotated %v, want no annotation", name, ann)
		case w[1] != nil && ann != w[1]:
			t.Errorf("%s is annotated %v, want %v", name, ann, w[1])
		}
	}
	if _, ok := props["Missing"]; ok {
		t.Errorf("a nil value was written: %v", props["Missing"])
	}
	// Int64 is a typed column to the service's queries too: the row
	// matches an Int64 literal and not an Int32 one.
	for filter, want := range map[string]int{"Big eq 1099511627776L": 1, "Big eq 1099511627776": 0, "SmallInt64 eq 7L": 1} {
		pager := tc.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
		n := 0
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("query %q: %v", filter, err)
			}
			n += len(page.Entities)
		}
		if n != want {
			t.Errorf("query %q found %d rows, want %d", filter, n, want)
		}
	}
	// The typed SDK reads the same types back.
	got, err := tc.GetEntity(ctx, "p", "typed", nil)
	if err != nil {
		t.Fatal(err)
	}
	var edm aztables.EDMEntity
	if err := json.Unmarshal(got.Value, &edm); err != nil {
		t.Fatal(err)
	}
	if v, ok := edm.Properties["Big"].(aztables.EDMInt64); !ok || int64(v) != 1<<40 {
		t.Errorf("Big via EDMEntity = %#v", edm.Properties["Big"])
	}
	if v, ok := edm.Properties["When"].(aztables.EDMDateTime); !ok || !time.Time(v).Equal(when.Truncate(100*time.Nanosecond)) {
		t.Errorf("When via EDMEntity = %#v", edm.Properties["When"])
	}
	if v, ok := edm.Properties["Bytes"].(aztables.EDMBinary); !ok || string(v) != "\x00\x01\x02\xfa" {
		t.Errorf("Bytes via EDMEntity = %#v", edm.Properties["Bytes"])
	}
	if v, ok := edm.Properties["Id"].(aztables.EDMGUID); !ok || v != guid {
		t.Errorf("Id via EDMEntity = %#v", edm.Properties["Id"])
	}
}

// A batch on a table that does not exist fails with the service's 404,
// which is not a conflict.
func TestSubmitBatchOnMissingTable(t *testing.T) {
	c, _, _ := newBatchTestTable(t)
	_, err := c.submitBatch(context.Background(), tableBatch{Table: "nosuchtable", PartitionKey: "p", Ops: []tableOp{
		{Kind: opUpsertReplace, Entity: row("1")}}})
	te := transactionError(t, err)
	if te.Status != http.StatusNotFound || te.Code != "TableNotFound" || isBatchConflict(err) {
		t.Fatalf("error = %+v, want 404 TableNotFound and no conflict", te)
	}
}

// The batch request is really signed with the account key: the same batch
// signed with another key is refused with 403 and writes nothing.
func TestSubmitBatchIsSignedWithTheAccountKey(t *testing.T) {
	c, tc, _ := newBatchTestTable(t)
	wrong := *c.Account
	wrong.Key = []byte("not the key of devstoreaccount1, 64 bytes long..................")
	bad, err := NewClients(&wrong, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.submitBatch(context.Background(), tableBatch{Table: tc.name, PartitionKey: "p", Ops: []tableOp{
		{Kind: opAdd, Entity: row("signed")}}})
	te := transactionError(t, err)
	if te.Status != http.StatusForbidden || te.Index != -1 || (te.Code != "AuthorizationFailure" && te.Code != "AuthenticationFailed") || isBatchConflict(err) {
		t.Fatalf("error = %+v, want a 403 for the whole batch", te)
	}
	if _, _, ok := rawEntity(t, tc, "signed"); ok {
		t.Fatal("a batch with a bad signature wrote a row")
	}
}

// With a SAS connection string (no key), the batch carries the SAS token
// instead of a signature and works the same.
func TestSubmitBatchWithSAS(t *testing.T) {
	c, tc, _ := newBatchTestTable(t)
	cred, err := aztables.NewSharedKeyCredential(c.Account.Name, base64.StdEncoding.EncodeToString(c.Account.Key))
	if err != nil {
		t.Fatal(err)
	}
	// Azurite speaks http, so the token must allow it (the SDK's
	// GetAccountSASURL signs for https only).
	sasParams, err := aztables.AccountSASSignatureValues{
		Protocol:      aztables.SASProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-time.Minute).UTC(),
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   aztables.AccountSASPermissions{Read: true, Add: true, Update: true, Write: true, Delete: true}.String(),
		Services:      "t",
		ResourceTypes: aztables.AccountSASResourceTypes{Container: true, Object: true}.String(),
	}.Sign(cred)
	if err != nil {
		t.Fatal(err)
	}
	token := sasParams.Encode()
	a := c.Account
	acct, err := ParseConnectionString("SASStorage", fmt.Sprintf("BlobEndpoint=%s;QueueEndpoint=%s;TableEndpoint=%s;SharedAccessSignature=%s",
		a.BlobEndpoint, a.QueueEndpoint, a.TableEndpoint, token))
	if err != nil {
		t.Fatal(err)
	}
	sas, err := NewClients(acct, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sas.submitBatch(context.Background(), tableBatch{Table: tc.name, PartitionKey: "p", Ops: []tableOp{
		{Kind: opAdd, Entity: row("viasas", "V", int64(1))},
		{Kind: opUpsertMerge, Entity: row("viasas2", "V", int64(2))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i, rk := range []string{"viasas", "viasas2"} {
		if _, etag, ok := rawEntity(t, tc, rk); !ok || etag != res[i].ETag {
			t.Fatalf("row %s: exists %v, ETag %q, batch said %q", rk, ok, etag, res[i].ETag)
		}
	}
}
