package telemetry

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// promHandler renders the metrics a manual reader collects in
// Prometheus' text exposition format (version 0.0.4): dots become
// underscores, durations in seconds get "_seconds", counters "_total".
type promHandler struct {
	reader *sdkmetric.ManualReader
}

func (h *promHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(r.Context(), &rm); err != nil {
		http.Error(w, "collecting metrics failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	writeProm(bw, &rm)
	_ = bw.Flush()
}

func writeProm(w *bufio.Writer, rm *metricdata.ResourceMetrics) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			name := promName(m.Name)
			if m.Unit == "s" {
				name += "_seconds"
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				writeSum(w, name, m.Description, d.IsMonotonic, points(d.DataPoints))
			case metricdata.Sum[float64]:
				writeSum(w, name, m.Description, d.IsMonotonic, points(d.DataPoints))
			case metricdata.Gauge[int64]:
				writeSum(w, name, m.Description, false, points(d.DataPoints))
			case metricdata.Gauge[float64]:
				writeSum(w, name, m.Description, false, points(d.DataPoints))
			case metricdata.Histogram[float64]:
				writeHistogram(w, name, m.Description, d.DataPoints)
			}
		}
	}
}

type point struct {
	attrs attribute.Set
	value float64
}

func points[N int64 | float64](dps []metricdata.DataPoint[N]) []point {
	out := make([]point, len(dps))
	for i, p := range dps {
		out[i] = point{p.Attributes, float64(p.Value)}
	}
	return out
}

func writeSum(w *bufio.Writer, name, help string, counter bool, ps []point) {
	typ := "gauge"
	if counter {
		typ = "counter"
		name += "_total"
	}
	writeHeader(w, name, help, typ)
	for _, p := range ps {
		fmt.Fprintf(w, "%s%s %s\n", name, labels(p.attrs, ""), promFloat(p.value))
	}
}

func writeHistogram(w *bufio.Writer, name, help string, dps []metricdata.HistogramDataPoint[float64]) {
	writeHeader(w, name, help, "histogram")
	for _, p := range dps {
		var cum uint64
		for i, b := range p.Bounds {
			cum += p.BucketCounts[i]
			fmt.Fprintf(w, "%s_bucket%s %d\n", name, labels(p.Attributes, promFloat(b)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", name, labels(p.Attributes, "+Inf"), p.Count)
		fmt.Fprintf(w, "%s_sum%s %s\n", name, labels(p.Attributes, ""), promFloat(p.Sum))
		fmt.Fprintf(w, "%s_count%s %d\n", name, labels(p.Attributes, ""), p.Count)
	}
}

func writeHeader(w *bufio.Writer, name, help, typ string) {
	if help != "" {
		help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
		fmt.Fprintf(w, "# HELP %s %s\n", name, help)
	}
	fmt.Fprintf(w, "# TYPE %s %s\n", name, typ)
}

// labels renders an attribute set (plus le, for a histogram bucket).
func labels(set attribute.Set, le string) string {
	var parts []string
	for _, kv := range set.ToSlice() {
		parts = append(parts, promName(string(kv.Key))+`="`+escapeLabel(kv.Value.Emit())+`"`)
	}
	sort.Strings(parts)
	if le != "" {
		parts = append(parts, `le="`+le+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// promName maps an OpenTelemetry name to a Prometheus one.
func promName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

func promFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
