package azstorage

// TaskHubName is the name of the backend's task hub, as configured
// (Options.TaskHub); durable.NewClient takes it from here.
func (b *Backend) TaskHubName() string { return b.opts.TaskHub }
