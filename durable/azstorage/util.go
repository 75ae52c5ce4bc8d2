package azstorage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

type listOpts = container.ListBlobsFlatOptions

// inParallel runs f(0) … f(n-1) at once and returns their errors joined.
func inParallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newGUID returns a random GUID in .NET's "D" format.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("azstorage: crypto/rand failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// enqueueOptions sends with infinite time-to-live, as Durable Task does,
// and the given visibility delay.
func enqueueOptions(delay time.Duration) *azqueue.EnqueueMessageOptions {
	o := &azqueue.EnqueueMessageOptions{TimeToLive: to.Ptr(int32(-1))}
	if s := seconds(delay); s > 0 {
		o.VisibilityTimeout = to.Ptr(s)
	}
	return o
}
