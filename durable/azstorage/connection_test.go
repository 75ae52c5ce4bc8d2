package azstorage

import (
	"context"
	"strings"
	"testing"
)

func TestParseConnectionStringForms(t *testing.T) {
	dev, err := ParseConnectionString("AzureWebJobsStorage", "UseDevelopmentStorage=true")
	if err != nil || dev.Name != "devstoreaccount1" || dev.QueueEndpoint != "http://127.0.0.1:10001/devstoreaccount1" ||
		dev.BlobEndpoint != "http://127.0.0.1:10000/devstoreaccount1" || dev.TableEndpoint != "http://127.0.0.1:10002/devstoreaccount1" || len(dev.Key) != 64 {
		t.Fatalf("dev = %+v, %v", dev, err)
	}
	key := "AccountKey=" + devAccountKey
	acct, err := ParseConnectionString("S", " DefaultEndpointsProtocol=https;AccountName=myacct;"+key+";EndpointSuffix=core.chinacloudapi.cn; ")
	if err != nil || acct.QueueEndpoint != "https://myacct.queue.core.chinacloudapi.cn" || acct.TableEndpoint != "https://myacct.table.core.chinacloudapi.cn" {
		t.Fatalf("key string = %+v, %v", acct, err)
	}
	def, err := ParseConnectionString("S", "AccountName=a1;"+key)
	if err != nil || def.BlobEndpoint != "https://a1.blob.core.windows.net" {
		t.Fatalf("defaults = %+v, %v", def, err)
	}
	sas, err := ParseConnectionString("S", "BlobEndpoint=https://x.blob.core.windows.net/;QueueEndpoint=https://x.queue.core.windows.net;TableEndpoint=https://x.table.core.windows.net;SharedAccessSignature=?sv=2022&sig=abc%3D")
	if err != nil || sas.Key != nil || sas.SAS != "sv=2022&sig=abc%3D" || sas.BlobEndpoint != "https://x.blob.core.windows.net" ||
		sas.withSAS(sas.QueueEndpoint) != "https://x.queue.core.windows.net?sv=2022&sig=abc%3D" {
		t.Fatalf("sas = %+v, %v", sas, err)
	}
}

func TestParseConnectionStringErrorsNameTheSetting(t *testing.T) {
	for value, want := range map[string]string{
		"":                             "missing or empty",
		"AccountName=a":                "neither AccountKey nor SharedAccessSignature",
		"AccountName=a;AccountKey=%%%": "not valid base64",
		"justtext":                     "not of the form Key=Value",
		"AccountKey=" + devAccountKey:  "no AccountName",
		"DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=" + devAccountKey:                            "http or https",
		"BlobEndpoint=https://b;TableEndpoint=https://t;QueueEndpoint=not a url;SharedAccessSignature=sv=1": "not an absolute URL",
	} {
		_, err := ParseConnectionString("MyStorage", value)
		if err == nil || !strings.Contains(err.Error(), "MyStorage") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want one naming MyStorage and saying %q", value, err, want)
		}
		if err != nil && strings.Contains(err.Error(), devAccountKey) {
			t.Errorf("%q: the error leaks the key", value)
		}
	}
}

// The clients work against a real Azurite: a queue, a table and a
// container round trip.
func TestClientsReachAzurite(t *testing.T) {
	c := testClients(t)
	ctx := context.Background()
	if _, err := c.Queue.CreateQueue(ctx, "clientsq", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Queue.NewQueueClient("clientsq").EnqueueMessage(ctx, "hi", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Table.CreateTable(ctx, "clientst", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Blob.CreateContainer(ctx, "clientsc", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.submitBatch(ctx, tableBatch{Table: "clientst", PartitionKey: "p", Ops: []tableOp{
		{Kind: opAdd, Entity: map[string]any{"PartitionKey": "p", "RowKey": "1", "V": 1}},
		{Kind: opUpsertMerge, Entity: map[string]any{"PartitionKey": "p", "RowKey": "2", "V": 2}},
	}})
	if err != nil || len(res) != 2 || res[0].ETag == "" {
		t.Fatalf("batch = %+v, %v", res, err)
	}
	got, err := c.Table.NewClient("clientst").GetEntity(ctx, "p", "1", nil)
	if err != nil || string(got.ETag) != res[0].ETag {
		t.Fatalf("GetEntity ETag %q vs batch ETag %q (%v)", got.ETag, res[0].ETag, err)
	}
	if _, err := c.submitBatch(ctx, tableBatch{Table: "clientst", PartitionKey: "p", Ops: make([]tableOp, 101)}); err == nil || !strings.Contains(err.Error(), "at most 100") {
		t.Fatalf("101 ops: %v", err)
	}
}
