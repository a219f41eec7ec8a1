package projector

import (
	"reflect"
	"sync"
)

// Cloner is implemented by states that copy themselves deeply. Live
// projections and watches hand out copies of their state; without Clone a
// state holding maps, slices or pointers is copied through its codec
// (MarshalState), and a state holding none is copied as a plain value.
type Cloner[T any] interface{ Clone() T }

// cloneState returns a copy of *s that shares no memory with it.
func cloneState[T any](s *T) (T, error) {
	if c, ok := any(s).(Cloner[T]); ok {
		return c.Clone(), nil
	}
	if !hasRefs(reflect.TypeFor[T]()) {
		return *s, nil
	}
	b, err := MarshalState(s)
	if err != nil {
		return *new(T), err
	}
	var out T
	err = UnmarshalState(b, &out)
	return out, err
}

var refCache sync.Map // reflect.Type → bool

// hasRefs reports whether values of t can share memory when copied.
func hasRefs(t reflect.Type) bool {
	if v, ok := refCache.Load(t); ok {
		return v.(bool)
	}
	r := refs(t, 0)
	refCache.Store(t, r)
	return r
}

func refs(t reflect.Type, depth int) bool {
	if depth > 32 {
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return false // strings are immutable: sharing one is harmless
	case reflect.Array:
		return t.Len() > 0 && refs(t.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			if refs(t.Field(i).Type, depth+1) {
				return true
			}
		}
		return false
	}
	return true
}
