package fetchrec

import (
	"errors"
	"reflect"
	"strings"
	"unsafe"
)

// modulePath is the import path every package of this repository's
// modules starts with: errors.As reaches only error types declared here.
const modulePath = "github.com/streamidentity/kafka-workload-identity"

// Seal returns an error whose text is scrub(err.Error()) and from which
// nothing unscrubbed is reachable: it has no Unwrap, so reporters that
// walk Unwrap chains stop at its scrubbed text. errors.Is still matches
// what err matches (sentinels such as context.DeadlineExceeded: a yes or
// no cannot quote a secret). errors.As reaches only error types declared
// in this module, and hands out a copy whose string fields are scrubbed
// the same way, whose error fields are sealed in turn and whose other
// reference fields (pointers, maps, foreign structs) are cleared: an SDK
// error, whose fields quote the service's reply or the request, is never
// handed out. nil stays nil; sealing a sealed error scrubs its text again
// with scrub as well.
func Seal(err error, scrub func(string) string) error {
	if err == nil {
		return nil
	}
	if s, ok := err.(*sealed); ok {
		inner := s.scrub
		return &sealed{msg: scrub(s.msg), err: s.err, scrub: func(x string) string { return scrub(inner(x)) }}
	}
	return &sealed{msg: scrub(err.Error()), err: err, scrub: scrub}
}

type sealed struct {
	msg   string
	err   error
	scrub func(string) string
}

func (e *sealed) Error() string { return e.msg }

// Is reports whether the sealed error matches target.
func (e *sealed) Is(target error) bool { return errors.Is(e.err, target) }

// As sets target to a scrubbed copy of the first error of the module's
// type in the sealed chain (see [Seal]).
func (e *sealed) As(target any) bool {
	tv := reflect.ValueOf(target)
	if !tv.IsValid() || tv.Kind() != reflect.Pointer || tv.IsNil() {
		return false
	}
	want := tv.Type().Elem()
	// An interface (franz-go's interface{ Temporary() bool }) is matched
	// when what implements it is the module's.
	if (want.Kind() != reflect.Interface && !ownType(want)) || !errors.As(e.err, target) {
		return false
	}
	got := tv.Elem()
	v := got
	if want.Kind() == reflect.Interface {
		v = got.Elem() // the dynamic value found
	}
	if !ownType(v.Type()) {
		got.SetZero()
		return false
	}
	got.Set(e.copyOf(v))
	return true
}

// ownType reports whether t (or what t points to) is declared in this
// module.
func ownType(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p := t.PkgPath()
	return p == modulePath || strings.HasPrefix(p, modulePath+"/")
}

// copyOf returns a copy of v (a module error: a struct or a pointer to
// one) with its fields made safe.
func (e *sealed) copyOf(v reflect.Value) reflect.Value {
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct:
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(v.Elem())
		e.clean(c.Elem())
		return c
	case v.Kind() == reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		e.clean(c)
		return c
	}
	return v // a module error of another kind (a string type, a sentinel pointer): no fields
}

var (
	errorType  = reflect.TypeFor[error]()
	stringType = reflect.TypeFor[string]()
)

// clean makes every field of the struct s (addressable) safe to hand out.
func (e *sealed) clean(s reflect.Value) {
	for i := range s.NumField() {
		f := s.Field(i)
		if !f.CanSet() { // unexported: set it through its address
			f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		}
		switch t := f.Type(); {
		case t.Kind() == reflect.String:
			f.SetString(e.scrub(f.String()))
		case t == errorType:
			if !f.IsNil() {
				f.Set(reflect.ValueOf(Seal(f.Interface().(error), e.scrub)))
			}
		case t.Kind() == reflect.Slice && (t.Elem() == errorType || t.Elem() == stringType):
			if f.IsNil() {
				continue
			}
			c := reflect.MakeSlice(t, f.Len(), f.Len())
			for j := range f.Len() {
				switch x := f.Index(j).Interface().(type) {
				case string:
					c.Index(j).SetString(e.scrub(x))
				case error:
					c.Index(j).Set(reflect.ValueOf(Seal(x, e.scrub)))
				}
			}
			f.Set(c)
		case t.Kind() == reflect.Struct && ownType(t):
			e.clean(f)
		case t.Kind() == reflect.Struct && t.PkgPath() == "time":
			// time.Time and friends hold no text
		case t.Kind() <= reflect.Complex128: // bool, ints, uints, floats, complexes
		default:
			f.SetZero() // pointers, maps, funcs, foreign structs, other interfaces
		}
	}
}
