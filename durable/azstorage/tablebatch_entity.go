package azstorage

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// odataTypeSuffix marks a property's type annotation in Table service JSON.
const odataTypeSuffix = "@odata.type"

// edmDateTimeMin and edmDateTimeMax bound the Table service's Edm.DateTime.
var (
	edmDateTimeMin = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)
	edmDateTimeMax = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

var edmGUIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// encodeBatchEntity renders an entity as the JSON body of one operation of
// a table transaction, annotating each typed value the way the Table
// service's JSON format asks for:
//
//	string, bool                    as they are
//	int, int8, int16, int32, uint8, uint16
//	                                Edm.Int32 (a JSON number; int must fit)
//	int64, uint32, aztables.EDMInt64 (and uint, uint64 up to MaxInt64)
//	                                Edm.Int64 (the number as a JSON string)
//	float32, float64                Edm.Double (NaN, INF and -INF as strings)
//	time.Time, aztables.EDMDateTime Edm.DateTime, UTC, 100 ns precision, 'Z'
//	[]byte, aztables.EDMBinary      Edm.Binary (base64)
//	aztables.EDMGUID                Edm.Guid
//	nil                             left out (the column is not written)
//
// A property that already carries its own "Name@odata.type" member in the
// map is written verbatim together with that annotation, so rows built
// with explicit annotations keep them. Members named "odata.*" (such as
// the odata.etag of a row read back) are metadata, not properties, and
// are dropped. Any other value type is an error naming the property.
func encodeBatchEntity(entity map[string]any) ([]byte, error) {
	out := make(map[string]any, len(entity)+4)
	for name, value := range entity {
		if strings.HasPrefix(name, "odata.") {
			continue
		}
		if strings.HasSuffix(name, odataTypeSuffix) {
			out[name] = value
			continue
		}
		if _, annotated := entity[name+odataTypeSuffix]; annotated {
			out[name] = value
			continue
		}
		if value == nil {
			continue
		}
		v, edm, err := edmValue(value)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", name, err)
		}
		out[name] = v
		if edm != "" {
			out[name+odataTypeSuffix] = edm
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode entity as JSON: %w", err)
	}
	return body, nil
}

// edmValue converts one Go value to its JSON form and Edm type annotation
// ("" when the service infers the type: string, bool and Int32).
func edmValue(value any) (any, string, error) {
	switch v := value.(type) {
	case string, bool:
		return v, "", nil
	case int:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, "", fmt.Errorf("int %d does not fit Edm.Int32: pass an int64 for Edm.Int64", v)
		}
		return v, "", nil
	case int8:
		return int32(v), "", nil
	case int16:
		return int32(v), "", nil
	case int32:
		return v, "", nil
	case uint8:
		return int32(v), "", nil
	case uint16:
		return int32(v), "", nil
	case int64:
		return strconv.FormatInt(v, 10), "Edm.Int64", nil
	case aztables.EDMInt64:
		return strconv.FormatInt(int64(v), 10), "Edm.Int64", nil
	case uint32:
		return strconv.FormatUint(uint64(v), 10), "Edm.Int64", nil
	case uint:
		return unsignedInt64(uint64(v))
	case uint64:
		return unsignedInt64(v)
	case float32:
		return edmDouble(float64(v)), "Edm.Double", nil
	case float64:
		return edmDouble(v), "Edm.Double", nil
	case time.Time:
		s, err := formatEdmDateTime(v)
		return s, "Edm.DateTime", err
	case aztables.EDMDateTime:
		s, err := formatEdmDateTime(time.Time(v))
		return s, "Edm.DateTime", err
	case []byte:
		return base64.StdEncoding.EncodeToString(v), "Edm.Binary", nil
	case aztables.EDMBinary:
		return base64.StdEncoding.EncodeToString(v), "Edm.Binary", nil
	case aztables.EDMGUID:
		if !edmGUIDPattern.MatchString(string(v)) {
			return nil, "", fmt.Errorf("%q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", string(v))
		}
		return string(v), "Edm.Guid", nil
	default:
		return nil, "", fmt.Errorf("unsupported value type %T", value)
	}
}

func unsignedInt64(v uint64) (any, string, error) {
	if v > math.MaxInt64 {
		return nil, "", fmt.Errorf("%d does not fit Edm.Int64", v)
	}
	return strconv.FormatUint(v, 10), "Edm.Int64", nil
}

// edmDouble is a double as JSON: a number, or the service's spellings of
// the values JSON has no number for.
func edmDouble(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	}
	return f
}

// formatEdmDateTime writes a time as the Table service stores it: UTC,
// at most 7 fractional digits (100 ns ticks, trailing zeros dropped) and
// 'Z'. Times outside the service's range (years 1601 to 9999) are errors.
func formatEdmDateTime(t time.Time) (string, error) {
	t = t.UTC().Truncate(100 * time.Nanosecond)
	if t.Before(edmDateTimeMin) || !t.Before(edmDateTimeMax) {
		return "", fmt.Errorf("time %s is outside the Edm.DateTime range of the Table service (years 1601 to 9999)", t.Format(time.RFC3339Nano))
	}
	s := t.Format("2006-01-02T15:04:05")
	if ticks := t.Nanosecond() / 100; ticks != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%07d", ticks), "0")
	}
	return s + "Z", nil
}
