package azstorage

import (
	"testing"

	"github.com/godurable/functions/internal/testazurite"
)

// This package's TestMain, which starts the test binary's own Azurite,
// lives in azurite_main_test.go (with testClients and newTestBackend).

// testAccount is the parsed account of the test binary's Azurite.
func testAccount(t *testing.T) *Account {
	t.Helper()
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatalf("test Azurite connection string: %v", err)
	}
	return acct
}
