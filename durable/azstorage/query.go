package azstorage

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/godurable/functions/durable/backend"
)

// QueryInstances implements backend.Backend with the filters of the
// Durable Functions instance query.
func (b *Backend) QueryInstances(ctx context.Context, q backend.InstanceQuery) (*backend.InstancePage, error) {
	var conds []string
	if !q.CreatedFrom.IsZero() {
		conds = append(conds, "CreatedTime ge datetime'"+q.CreatedFrom.UTC().Format(partitionTimeLayout)+"'")
	}
	if !q.CreatedTo.IsZero() {
		conds = append(conds, "CreatedTime le datetime'"+q.CreatedTo.UTC().Format(partitionTimeLayout)+"'")
	}
	if len(q.RuntimeStatus) > 0 {
		var ors []string
		for _, s := range q.RuntimeStatus {
			ors = append(ors, "RuntimeStatus eq "+odataQuote(s.String()))
		}
		conds = append(conds, strings.Join(ors, " or "))
	}
	if q.InstanceIDPrefix != "" {
		lo := EscapePartitionKey(q.InstanceIDPrefix)
		r := []rune(lo)
		r[len(r)-1]++
		conds = append(conds, "PartitionKey ge "+odataQuote(lo)+" and PartitionKey lt "+odataQuote(string(r)))
	}
	if q.ExcludeEntities {
		conds = append(conds, "PartitionKey lt '@' or PartitionKey ge 'A'")
	}
	conds = append(conds, "RowKey eq ''")
	for i, c := range conds {
		conds[i] = "(" + c + ")"
	}
	filter := strings.Join(conds, " and ")
	top := int32(q.PageSize)
	if top <= 0 {
		top = 100
	}
	opts := &aztables.ListEntitiesOptions{Filter: &filter, Top: &top}
	if q.ContinuationToken != "" {
		// "{NextPartitionKey} {NextRowKey}", the row key possibly empty
		// (and the space then trimmed away by HTTP header handling).
		pk, rk, _ := strings.Cut(strings.TrimSpace(q.ContinuationToken), " ")
		if pk == "" {
			return nil, fmt.Errorf("azstorage: continuation token %q is malformed", q.ContinuationToken)
		}
		opts.NextPartitionKey = &pk
		if rk != "" {
			opts.NextRowKey = &rk
		}
	}
	pager := b.instances().NewListEntitiesPager(opts)
	page, err := pager.NextPage(ctx)
	if err != nil {
		return nil, fmt.Errorf("azstorage: query instances: %w", err)
	}
	out := &backend.InstancePage{}
	for _, raw := range page.Entities {
		st, err := b.decodeInstanceRow(ctx, raw)
		if err != nil {
			return nil, err
		}
		if !q.FetchInputs {
			st.Input = nil
		} else {
			st.Input, err = b.dereferenceBlobURL(ctx, st.Input, true)
		}
		if err == nil {
			st.Output, err = b.dereferenceBlobURL(ctx, st.Output, false)
		}
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			// The instance moved on since the page was read.
			fetchInput := q.FetchInputs
			if st, err = b.readInstanceState(ctx, st.InstanceID, true); err == nil && !fetchInput {
				st.Input = nil
			}
		}
		if err != nil {
			return nil, err
		}
		out.Instances = append(out.Instances, st)
	}
	if page.NextPartitionKey != nil {
		out.ContinuationToken = *page.NextPartitionKey + " " + deref(page.NextRowKey)
	}
	return out, nil
}

// PurgeInstance implements backend.Backend (purge): history
// rows, large-message blobs, then the Instances row.
func (b *Backend) PurgeInstance(ctx context.Context, instanceID string) error {
	_, _, found, err := b.readInstanceRow(ctx, instanceID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("azstorage: purge %q: %w", instanceID, backend.ErrInstanceNotFound)
	}
	sel := "PartitionKey,RowKey"
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), partitionKeyFilter(instanceID), &sel)
	if err != nil {
		return fmt.Errorf("azstorage: purge %q: read history: %w", instanceID, err)
	}
	pk := EscapePartitionKey(instanceID)
	for start := 0; start < len(rows); start += 100 {
		batch := tableBatch{Table: b.names.HistoryTable(), PartitionKey: pk}
		for _, r := range rows[start:min(start+100, len(rows))] {
			batch.Ops = append(batch.Ops, tableOp{Kind: opDelete, Entity: map[string]any{"PartitionKey": pk, "RowKey": r["RowKey"]}, ETag: "*"})
		}
		if _, err := b.c.submitBatch(ctx, batch); err != nil {
			return fmt.Errorf("azstorage: purge %q: delete history: %w", instanceID, err)
		}
	}
	if err := b.deleteBlobsWithPrefix(ctx, instanceID); err != nil {
		return err
	}
	if err := b.deleteBlobsWithPrefix(ctx, pk+"/"); err != nil {
		return err
	}
	star := azcoreETagAny
	if _, err := b.instances().DeleteEntity(ctx, pk, "", &aztables.DeleteEntityOptions{IfMatch: &star}); err != nil && !isNotFound(err) {
		return fmt.Errorf("azstorage: purge %q: delete instance row: %w", instanceID, err)
	}
	return nil
}

// dereferenceBlobURL replaces a column value that is a large-message blob
// URL with the blob's content. For Input, a blob holding the
// whole ExecutionStarted message yields that event's input.
func (b *Backend) dereferenceBlobURL(ctx context.Context, v *string, isInput bool) (*string, error) {
	if v == nil || !strings.HasPrefix(*v, "http") {
		return v, nil
	}
	u, err := url.Parse(*v)
	if err != nil || !u.IsAbs() {
		return v, nil
	}
	prefix := "/" + b.names.LargeMessagesContainer() + "/"
	i := strings.Index(u.Path, prefix)
	if i < 0 {
		return v, nil
	}
	name := u.Path[i+len(prefix):]
	data, err := b.downloadCompressed(ctx, name)
	if err != nil {
		return nil, err
	}
	if isInput && strings.HasSuffix(name, "ExecutionStarted.json.gz") {
		m, err := decodeMessage(data)
		if err != nil {
			return nil, fmt.Errorf("azstorage: %s: %w", name, err)
		}
		if m.TaskMessage != nil && m.TaskMessage.Event != nil {
			return m.TaskMessage.Event.Input, nil
		}
	}
	s := string(data)
	return &s, nil
}
