package scenarios

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
)

// echo runs the Echo orchestration on message and checks that input and
// output come back whole through GetStatus.
func echoRoundTrip(t *testing.T, h *host, message string, opts ...durable.StartOption) *durable.InstanceStatus {
	t.Helper()
	st := h.wait(h.start("Echo", message, opts...), 2*time.Minute)
	expectStatus(t, st, durable.StatusCompleted)
	if in := jsonOf[string](t, "input", st.Input); in != message {
		t.Errorf("input differs: %d bytes, want %d; %s", len(in), len(message), firstDiff(in, message))
	}
	if out := jsonOf[string](t, "output", st.Output); out != message {
		t.Errorf("output differs: %d bytes, want %d; %s", len(out), len(message), firstDiff(out, message))
	}
	return st
}

// A 1 KB message is carried inline everywhere.
func TestScenario_SmallTextMessagePayloads(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := echoRoundTrip(t, h, randomPayload(1024, false))
		if n := h.blobCount(azstorage.EscapePartitionKey(st.InstanceID) + "/"); n != 0 {
			t.Errorf("%d large-message blobs for a 1 KB payload", n)
		}
	})
}

// 25 Ki three-byte characters: too large for a queue message (so the
// messages go through blobs) but small enough for a table column, so the
// Instances row holds the text itself.
func TestScenario_LargeQueueTextMessagePayloads_BlobUrl(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		msg := randomPayload(25*1024, true)
		st := echoRoundTrip(t, h, msg)
		row := h.instanceRow(st.InstanceID)
		for _, col := range []string{"Input", "Output"} {
			if v, _ := row[col].(string); jsonOrText(&v) != msg {
				t.Errorf("Instances row %s is not the message itself (%.80q)", col, v)
			}
		}
		if n := h.blobCount(azstorage.EscapePartitionKey(st.InstanceID) + "/"); n == 0 {
			t.Errorf("no large-message blobs: the 75 KB queue messages must have gone through blobs")
		}
	})
}

// validateBlobURL checks a column that holds a large-message blob URL
// (the .NET suite's ValidateLargeMessageBlobUrlAsync): it points into the
// task hub's large-message container under the escaped instance id, ends
// in .json.gz, the blob exists and is compressed.
func (h *host) validateBlobURL(instanceID, value string, originalSize int) {
	h.t.Helper()
	endpoint := h.clis.Account.BlobEndpoint
	if !strings.HasPrefix(value, endpoint) {
		h.t.Fatalf("%.120q is not a blob URL of %s", value, endpoint)
	}
	container := h.names.LargeMessagesContainer()
	if !strings.HasPrefix(value, endpoint+"/"+container+"/") {
		h.t.Errorf("%s is not in container %s", value, container)
	}
	sanitized := azstorage.EscapePartitionKey(instanceID)
	if !strings.Contains(value, "/"+url.PathEscape(sanitized)+"/") && !strings.Contains(value, "/"+sanitized+"/") {
		h.t.Errorf("%s does not contain /%s/", value, sanitized)
	}
	if !strings.HasSuffix(value, ".json.gz") {
		h.t.Errorf("%s does not end in .json.gz", value)
	}
	name, err := url.PathUnescape(strings.TrimPrefix(value, endpoint+"/"+container+"/"))
	if err != nil {
		h.t.Fatal(err)
	}
	props, err := h.clis.Blob.ServiceClient().NewContainerClient(container).NewBlobClient(name).GetProperties(context.Background(), nil)
	if err != nil {
		h.t.Fatalf("blob %s: %v", name, err)
	}
	if originalSize > 0 && (props.ContentLength == nil || int(*props.ContentLength) >= originalSize) {
		h.t.Errorf("blob %s is not compressed: %v bytes for %d", name, props.ContentLength, originalSize)
	}
}

// checkBlobColumns reads the raw Instances row and validates its Input and
// Output blob URLs.
func (h *host) checkBlobColumns(id string, size int) (input, output string) {
	h.t.Helper()
	row := h.instanceRow(id)
	input, _ = row["Input"].(string)
	output, _ = row["Output"].(string)
	h.validateBlobURL(id, input, size)
	h.validateBlobURL(id, output, size)
	return input, output
}

// 32 Ki ASCII characters fit a queue message but not a table column (64 KB
// as UTF-16): the Instances row's Input and Output are blob URLs.
func TestScenario_LargeTableTextMessagePayloads_SizeViolation_BlobUrl(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		msg := randomPayload(32*1024, false)
		st := echoRoundTrip(t, h, msg)
		h.checkBlobColumns(st.InstanceID, len(msg))
	})
}

// An instance id with characters that must be escaped in URLs still
// stores and fetches its large messages.
func TestScenario_LargeMessage_WithEscapedInstanceId_CanBeStoredAndFetchedSuccessfully(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	msg := randomPayload(60*1024, false)
	// The output is the message itself, downloaded, not a blob URL.
	echoRoundTrip(t, h, msg, durable.WithInstanceID("test|123:with white spcae"))
}

// Tags given at start are in the instance's state.
func TestScenario_TagsAreAvailableInOrchestrationState(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	id := h.start("Echo", "Hello, world!", durable.WithTags(map[string]string{"tag": "message"}))
	st := h.status(id)
	if len(st.Tags) != 1 || st.Tags["tag"] != "message" {
		t.Fatalf("tags %v, want tag=message", st.Tags)
	}
	st = h.wait(id, standardTimeout)
	if len(st.Tags) != 1 || st.Tags["tag"] != "message" {
		t.Fatalf("tags after completion %v, want tag=message", st.Tags)
	}
}

// 80 Ki characters: too large for queue and table; the Instances row
// holds blob URLs named as Durable Task names them.
func TestScenario_LargeOverallTextMessagePayloads_BlobUrl(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		msg := randomPayload(80*1024, false)
		st := echoRoundTrip(t, h, msg)
		in, out := h.checkBlobColumns(st.InstanceID, len(msg))
		if !strings.HasSuffix(out, "-Result.json.gz") && !strings.HasSuffix(out, "-Output.json.gz") {
			t.Errorf("output blob %s", out)
		}
		if !strings.HasSuffix(in, "-Input.json.gz") {
			t.Errorf("input blob %s", in)
		}
	})
}

// A 128 Ki character message is fetched back from its blobs.
func TestScenario_LargeTextMessagePayloads_FetchLargeMessages(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		echoRoundTrip(t, h, mediumPayload())
	})
}

// 32 Ki ASCII characters (a large table column) are fetched back.
func TestScenario_LargeTableTextMessagePayloads_FetchLargeMessages(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		echoRoundTrip(t, h, randomPayload(32*1024, false))
	})
}

// More than 64 KB of tags do not stop the orchestration; the tags are
// kept whole.
func TestScenario_LargeOrchestrationTags(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	big := randomPayload(64*1024, false)
	id := h.start("Echo", "Hello, world!", durable.WithTags(map[string]string{"BigTag": big}))
	st := h.wait(id, standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if st.Tags["BigTag"] != big {
		t.Errorf("big tag came back with %d characters, want %d", len(st.Tags["BigTag"]), len(big))
	}
}

// A payload that merely looks like a URL is not taken for a blob.
func TestScenario_NonBlobUriPayload_FetchLargeMessages_RetainsOriginalPayload(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		echoRoundTrip(t, h, "https://anygivenurl.azurewebsites.net")
	})
}

// A query (not only a single status read) also fetches large payloads.
func TestScenario_LargeTextMessagePayloads_FetchLargeMessages_QueryState(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		msg := mediumPayload()
		st := echoRoundTrip(t, h, msg)
		all := h.listAll(durable.Query{ShowInput: true})
		if len(all) != 1 || all[0].InstanceID != st.InstanceID {
			t.Fatalf("query returned %d instances", len(all))
		}
		expectStatus(t, all[0], durable.StatusCompleted)
		if jsonOf[string](t, "queried input", all[0].Input) != msg || jsonOf[string](t, "queried output", all[0].Output) != msg {
			t.Error("the query did not fetch the large input and output")
		}
	})
}

// A failure message that parses as a URL is kept as text.
func TestScenario_LargeTextMessagePayloads_URIFormatCheck(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("ThrowException", "durabletask.core.exceptions.taskfailedexception: Task failed with an unhandled exception: This is an invalid operation.)")
		h.wait(id, 2*time.Minute)
		all := h.listAll(durable.Query{})
		if len(all) != 1 {
			t.Fatalf("%d instances", len(all))
		}
		expectStatus(t, all[0], durable.StatusFailed)
		if !strings.Contains(text(all[0].Output), "invalid operation") {
			t.Errorf("output %s", text(all[0].Output))
		}
	})
}

// largeBinary stands in for the .NET suite's 826 KB JPEG file.
func largeBinary(t *testing.T) []byte {
	b := make([]byte, 826*1024)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// An 826 KB byte array round-trips through an activity.
func TestScenario_LargeBinaryByteMessagePayloads(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		data := largeBinary(t)
		st := h.wait(h.start("EchoBytes", data), 2*time.Minute)
		expectStatus(t, st, durable.StatusCompleted)
		if out := jsonOf[[]byte](t, "output", st.Output); !bytes.Equal(out, data) {
			t.Errorf("bytes differ (%d back, %d sent)", len(out), len(data))
		}
	})
}

// The same bytes as a base64 string round-trip.
func TestScenario_LargeBinaryStringMessagePayloads(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		msg := base64.StdEncoding.EncodeToString(largeBinary(t))
		st := h.wait(h.start("Echo", msg), 2*time.Minute)
		expectStatus(t, st, durable.StatusCompleted)
		if out := jsonOf[string](t, "output", st.Output); out != msg {
			t.Errorf("output differs (%d characters, want %d)", len(out), len(msg))
		}
	})
}

// firstDiff describes where two strings first differ.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-12, 0)
	return fmt.Sprintf("first difference at byte %d: got %q, want %q", i, got[lo:min(i+12, len(got))], want[lo:min(i+12, len(want))])
}
