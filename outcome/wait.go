package outcome

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batpak-go/batpak/event"
)

// WaitKind says what a WaitCondition waits for.
type WaitKind uint8

const (
	WaitTimeout WaitKind = iota + 1 // a duration to pass
	WaitEvent                       // an event to be committed
	WaitAll                         // every one of several conditions
	WaitAny                         // any one of several conditions
	WaitCustom                      // something only the application understands
)

// WaitCondition is what a Pending outcome waits for. It is data, not a
// timer or a subscription: whoever holds the outcome decides how to wait
// (a store subscription for WaitEvent, a timer for WaitTimeout) and resumes
// the work by its token. Build one with After, OnEvent, AllOf, AnyOf or Custom.
type WaitCondition struct {
	Kind       WaitKind
	Timeout    time.Duration   // WaitTimeout
	Event      event.ID        // WaitEvent
	Conditions []WaitCondition // WaitAll, WaitAny
	Tag        string          // WaitCustom: what to wait for
	Data       []byte          // WaitCustom: its parameters, opaque here
}

// After waits for d to pass.
func After(d time.Duration) WaitCondition { return WaitCondition{Kind: WaitTimeout, Timeout: d} }

// OnEvent waits for the event with id to be committed.
func OnEvent(id event.ID) WaitCondition { return WaitCondition{Kind: WaitEvent, Event: id} }

// AllOf waits for every condition.
func AllOf(cs ...WaitCondition) WaitCondition {
	return WaitCondition{Kind: WaitAll, Conditions: slices.Clone(cs)}
}

// AnyOf waits for the first of the conditions.
func AnyOf(cs ...WaitCondition) WaitCondition {
	return WaitCondition{Kind: WaitAny, Conditions: slices.Clone(cs)}
}

// Custom waits for something the application defines.
func Custom(tag string, data []byte) WaitCondition {
	return WaitCondition{Kind: WaitCustom, Tag: tag, Data: slices.Clone(data)}
}

func (w WaitCondition) String() string {
	switch w.Kind {
	case WaitTimeout:
		return "after " + w.Timeout.String()
	case WaitEvent:
		return "event " + w.Event.String()
	case WaitAll, WaitAny:
		parts := make([]string, len(w.Conditions))
		for i, c := range w.Conditions {
			parts[i] = c.String()
		}
		op := "all"
		if w.Kind == WaitAny {
			op = "any"
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	case WaitCustom:
		return "custom " + w.Tag
	}
	return fmt.Sprintf("wait(%d)", uint8(w.Kind))
}

// CompensationKind says what a Compensation does.
type CompensationKind uint8

const (
	CompensateRollback CompensationKind = iota + 1 // undo the effects of events
	CompensateNotify                               // tell someone
	CompensateRelease                              // release a held resource
	CompensateCustom                               // something only the application understands
)

// Compensation is an action that undoes or makes up for work done before a
// failure, carried by an Err outcome as data. The library never runs it;
// the caller (a saga, a reactor) does, typically by appending events.
type Compensation struct {
	Kind     CompensationKind
	Events   []event.ID // CompensateRollback: the events whose effects to undo
	Target   string     // CompensateNotify: who to tell
	Message  string     // CompensateNotify: what to tell them
	Resource string     // CompensateRelease: what to release
	Tag      string     // CompensateCustom: what to do
	Data     []byte     // CompensateCustom: its parameters, opaque here
}

// Rollback undoes the effects of events.
func Rollback(ids ...event.ID) Compensation {
	return Compensation{Kind: CompensateRollback, Events: slices.Clone(ids)}
}

// Notify tells target about the failure.
func Notify(target, message string) Compensation {
	return Compensation{Kind: CompensateNotify, Target: target, Message: message}
}

// Release frees a held resource (a lock, a reservation, a seat).
func Release(resource string) Compensation {
	return Compensation{Kind: CompensateRelease, Resource: resource}
}

// CustomCompensation is an application-defined compensation.
func CustomCompensation(tag string, data []byte) Compensation {
	return Compensation{Kind: CompensateCustom, Tag: tag, Data: slices.Clone(data)}
}
