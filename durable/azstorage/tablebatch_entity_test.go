package azstorage

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// The JSON body of an operation carries the annotations the service needs
// for the types it cannot infer, even where Azurite would not tell them
// apart (a Double with an integral value, NaN and infinities).
func TestEncodeBatchEntityBody(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	body, err := encodeBatchEntity(map[string]any{
		"PartitionKey":        "p",
		"RowKey":              "r",
		"D":                   2.0,
		"F32":                 float32(0.5),
		"Nan":                 math.NaN(),
		"PosInf":              math.Inf(1),
		"NegInf":              math.Inf(-1),
		"I8":                  int8(-3),
		"U16":                 uint16(65535),
		"U32":                 uint32(math.MaxUint32),
		"U64":                 uint64(math.MaxInt64),
		"E64":                 aztables.EDMInt64(-9),
		"T":                   time.Date(2026, 1, 2, 4, 4, 5, 120_000_099, cet),
		"ET":                  aztables.EDMDateTime(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)),
		"B":                   aztables.EDMBinary("hi"),
		"Pre":                 "123",
		"Pre@odata.type":      "Edm.Int64",
		"Nil":                 nil,
		"odata.etag":          `W/"x"`,
		"Html":                "<&>",
		"Timestamp@odata.typ": "kept as a plain string property",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"B":"aGk=","B@odata.type":"Edm.Binary","D":2,"D@odata.type":"Edm.Double",` +
		`"E64":"-9","E64@odata.type":"Edm.Int64","ET":"1601-01-01T00:00:00Z","ET@odata.type":"Edm.DateTime",` +
		`"F32":0.5,"F32@odata.type":"Edm.Double","Html":"\u003c\u0026\u003e","I8":-3,` +
		`"Nan":"NaN","Nan@odata.type":"Edm.Double","NegInf":"-INF","NegInf@odata.type":"Edm.Double",` +
		`"PartitionKey":"p","PosInf":"INF","PosInf@odata.type":"Edm.Double","Pre":"123","Pre@odata.type":"Edm.Int64",` +
		`"RowKey":"r","T":"2026-01-02T03:04:05.12Z","T@odata.type":"Edm.DateTime",` +
		`"Timestamp@odata.typ":"kept as a plain string property","U16":65535,` +
		`"U32":"4294967295","U32@odata.type":"Edm.Int64","U64":"9223372036854775807","U64@odata.type":"Edm.Int64"}`
	if string(body) != want {
		t.Fatalf("body\n got %s\nwant %s", body, want)
	}
}

func TestEncodeBatchEntityRefusesValuesOutOfRange(t *testing.T) {
	for name, v := range map[string]any{
		"does not fit Edm.Int64":         uint64(math.MaxInt64) + 1,
		"outside the Edm.DateTime range": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"unsupported value type *string": new(string),
	} {
		_, err := encodeBatchEntity(map[string]any{"PartitionKey": "p", "RowKey": "r", "X": v})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), `"X"`) {
			t.Errorf("%T: err = %v, want one naming property X and saying %q", v, err, name)
		}
	}
}
