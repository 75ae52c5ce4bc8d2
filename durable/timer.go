package durable

import (
	"time"

	"github.com/godurable/functions/durable/replay"
)

// Durable Functions' limits for a single queue-delivered timer: a timer due
// further out than MaxTimerDelay is split into hops of TimerHopInterval,
// each recorded as its own TimerCreated/TimerFired pair.
const (
	MaxTimerDelay    = 6 * 24 * time.Hour
	TimerHopInterval = 3 * 24 * time.Hour
)

// CreateTimer returns a durable timer that completes at fireAt. An
// orchestration waiting on it costs nothing and survives restarts. A timer
// that is no longer needed (for example the loser of a WhenAny) may simply
// be left alone: its firing changes nothing.
func CreateTimer(ctx *OrchestrationContext, fireAt time.Time) *Task[struct{}] {
	s := &timerSteps{ctx: ctx, fireAt: fireAt.UTC()}
	s.next()
	return newTask[struct{}](ctx, s)
}

type timerSteps struct {
	ctx    *OrchestrationContext
	fireAt time.Time // when the caller wants the timer to fire
	hopAt  time.Time // when the currently scheduled timer fires
	hop    *replay.Future
}

// next schedules the final timer, or a hop toward it when it is too far out.
func (s *timerSteps) next() {
	now := s.ctx.CurrentUTCDateTime()
	s.hopAt = s.fireAt
	if s.fireAt.Sub(now) > MaxTimerDelay {
		s.hopAt = now.Add(TimerHopInterval)
	}
	s.hop = s.ctx.rt.CreateTimer(s.hopAt)
}

func (s *timerSteps) futures() []*replay.Future { return []*replay.Future{s.hop} }

func (s *timerSteps) advance() (bool, *string, error) {
	if !s.hop.Done() {
		return false, nil, nil
	}
	if s.hopAt.Before(s.fireAt) {
		s.next()
		return false, nil, nil
	}
	return true, nil, nil
}
