package replay

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// coroutine runs a function on its own goroutine, but only while the
// executor has handed it control: step hands control over, and the
// function hands it back by blocking (block) or returning. Exactly one of
// the two goroutines runs at any time.
//
// The executor never waits for the coroutine unboundedly: a step that does
// not hand control back within the step limit, or during which another
// goroutine misuses the context, abandons the coroutine. An abandoned
// coroutine's goroutine exits (runtime.Goexit) as soon as it next blocks or
// returns; until then it may still be running user code, which then sees a
// context that refuses every call.
type coroutine struct {
	resume chan bool     // true: run on; false: unwind
	yield  chan struct{} // the coroutine has blocked or finished
	// abandon is closed when the executor stops waiting for the coroutine.
	abandon   chan struct{}
	abandoned bool

	gid atomic.Int64 // the coroutine goroutine's id, once started

	started   bool
	done      bool // the goroutine has ended (return, panic or Goexit)
	returned  bool // fn returned normally
	unwinding bool // the executor is ending the coroutine with Goexit
	// panicked holds a recovered panic value and its stack.
	panicked   any
	panicStack string
}

func newCoroutine() *coroutine {
	return &coroutine{resume: make(chan bool), yield: make(chan struct{}), abandon: make(chan struct{})}
}

// stepResult says how a step ended.
type stepResult int

const (
	stepYielded  stepResult = iota // the coroutine blocked or ended
	stepTimedOut                   // it ran longer than the step limit
	stepMisused                    // another goroutine used the context
)

// start launches fn on its goroutine; the executor then runs it with step.
func (c *coroutine) start(fn func()) {
	c.started = true
	ready := make(chan struct{})
	go func() {
		c.gid.Store(curGID())
		close(ready)
		defer func() {
			if r := recover(); r != nil && !c.unwinding {
				c.panicked = r
				c.panicStack = string(debug.Stack())
			}
			c.done = true
			select {
			case c.yield <- struct{}{}:
			case <-c.abandon:
			}
		}()
		if !<-c.resume {
			c.unwinding = true
			runtime.Goexit()
		}
		fn()
		c.returned = true
	}()
	<-ready
}

// step gives control to the coroutine and waits until it blocks or ends,
// at most limit (0: no limit), and not past a close of misuse.
func (c *coroutine) step(run bool, limit time.Duration, misuse <-chan struct{}) stepResult {
	if c.abandoned || c.done {
		return stepYielded
	}
	if !run {
		c.unwinding = true
	}
	c.resume <- run
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-c.yield:
		return stepYielded
	case <-timeout:
		c.abandonNow()
		return stepTimedOut
	case <-misuse:
		c.abandonNow()
		return stepMisused
	}
}

func (c *coroutine) abandonNow() {
	if !c.abandoned {
		c.abandoned = true
		close(c.abandon)
	}
}

// block is called on the coroutine's goroutine: it hands control back to
// the executor and waits to be resumed. If the executor is unwinding or has
// abandoned the coroutine, block does not return: the goroutine exits
// through runtime.Goexit, running its deferred calls.
func (c *coroutine) block() {
	select {
	case c.yield <- struct{}{}:
	case <-c.abandon:
		runtime.Goexit()
	}
	select {
	case run := <-c.resume:
		if !run {
			runtime.Goexit()
		}
	case <-c.abandon:
		runtime.Goexit()
	}
}

// curGID returns the calling goroutine's id, read from its stack header
// ("goroutine 42 [running]:").
func curGID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return -1
	}
	return id
}

// misuseDetector records calls made from a goroutine that does not hold
// the executor's control. It is safe for concurrent use.
type misuseDetector struct {
	once sync.Once
	ch   chan struct{}
	mu   sync.Mutex
	what string
}

func newMisuseDetector() *misuseDetector { return &misuseDetector{ch: make(chan struct{})} }

func (m *misuseDetector) report(what string) {
	m.once.Do(func() {
		m.mu.Lock()
		m.what = what
		m.mu.Unlock()
		close(m.ch)
	})
}

// detected returns what was misused, or "".
func (m *misuseDetector) detected() string {
	select {
	case <-m.ch:
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.what
	default:
		return ""
	}
}
