package durable

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
)

// guidNamespace is the namespace .NET isolated Durable Functions
// (durabletask-dotnet) derives deterministic GUIDs in, as a name-based
// version 5 UUID: 9e952958-5e33-4daf-827f-2fa12937b875. The in-process
// extension uses 9e952959-…; a GUID never leaves the runtime that replays
// it, so the choice only fixes which .NET model's values NewGUID equals.
var guidNamespace = [16]byte{0x9e, 0x95, 0x29, 0x58, 0x5e, 0x33, 0x4d, 0xaf, 0x82, 0x7f, 0x2f, 0xa1, 0x29, 0x37, 0xb8, 0x75}

// NewGUID returns a GUID that is the same on every replay: a version 5
// UUID over "{instanceId}_{CurrentUTCDateTime in .NET's "o" format}_{n}",
// n counting the calls of this execution, as .NET isolated Durable
// Functions computes it.
func (c *OrchestrationContext) NewGUID() string {
	name := c.InstanceID() + "_" + c.CurrentUTCDateTime().UTC().Format("2006-01-02T15:04:05.0000000Z") + "_" + strconv.Itoa(c.guids)
	c.guids++
	return uuidV5(guidNamespace, name)
}

func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
