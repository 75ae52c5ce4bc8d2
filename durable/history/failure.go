package history

// FailureDetails describes why a task, sub-orchestration or orchestration
// failed. It mirrors DurableTask.Core's FailureDetails.
type FailureDetails struct {
	ErrorType      string
	ErrorMessage   string
	StackTrace     *string
	InnerFailure   *FailureDetails
	IsNonRetriable bool
	Properties     map[string]any
}

// String is "{ErrorType}: {ErrorMessage}", as .NET's FailureDetails.ToString.
func (f *FailureDetails) String() string {
	if f == nil {
		return ""
	}
	return f.ErrorType + ": " + f.ErrorMessage
}

// Clone returns a deep copy of f.
func (f *FailureDetails) Clone() *FailureDetails {
	if f == nil {
		return nil
	}
	c := *f
	c.InnerFailure = f.InnerFailure.Clone()
	if f.Properties != nil {
		c.Properties = make(map[string]any, len(f.Properties))
		for k, v := range f.Properties {
			c.Properties[k] = v
		}
	}
	return &c
}
