package azstorage_test

import (
	"fmt"

	"github.com/godurable/functions/durable/azstorage"
)

// A connection string names the account and its endpoints; the emulator's
// shorthand is understood too.
func ExampleParseConnectionString() {
	acct, err := azstorage.ParseConnectionString("AzureWebJobsStorage", "UseDevelopmentStorage=true")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(acct.Name, acct.QueueEndpoint)
	// Output: devstoreaccount1 http://127.0.0.1:10001/devstoreaccount1
}
