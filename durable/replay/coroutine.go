package replay

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// coroutine runs a function on its own goroutine, but only while the
// executor has handed it control: resume hands control over, and the
// function hands it back by blocking (yield) or returning. Exactly one of
// the two goroutines runs at any time.
type coroutine struct {
	resume chan bool     // true: run on; false: unwind
	yield  chan struct{} // the coroutine has blocked or finished
	done   bool
	// panicked holds a recovered panic value and its stack.
	panicked   any
	panicStack string
	started    bool
}

func newCoroutine() *coroutine {
	return &coroutine{resume: make(chan bool), yield: make(chan struct{})}
}

// start launches fn on its goroutine and runs it until it first blocks.
func (c *coroutine) start(fn func()) {
	c.started = true
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.panicked = r
				c.panicStack = string(debug.Stack())
			}
			c.done = true
			c.yield <- struct{}{}
		}()
		if !<-c.resume {
			runtime.Goexit()
		}
		fn()
	}()
	c.step()
}

// step gives control to the coroutine and waits until it blocks or ends.
func (c *coroutine) step() {
	if c.done {
		return
	}
	c.resume <- true
	<-c.yield
}

// block is called on the coroutine's goroutine: it hands control back to
// the executor and waits to be resumed. If the executor is unwinding the
// coroutine, block does not return: the goroutine exits through
// runtime.Goexit, running its deferred calls.
func (c *coroutine) block() {
	c.yield <- struct{}{}
	if !<-c.resume {
		runtime.Goexit()
	}
}

// unwind ends a blocked coroutine; its deferred calls run.
func (c *coroutine) unwind() {
	if !c.started || c.done {
		return
	}
	c.resume <- false
	<-c.yield
}

func (c *coroutine) panicError() error {
	return fmt.Errorf("panic: %v", c.panicked)
}
