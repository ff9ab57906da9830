package saidcheck

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"golang.org/x/oauth2"

	"github.com/streamidentity/kafka-workload-identity/azure"
	"github.com/streamidentity/kafka-workload-identity/clientprops"
	"github.com/streamidentity/kafka-workload-identity/internal/idphttp"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthclient"
)

// asTargets are what error reporters and users reach with errors.As: the
// module's error types, and the SDK errors whose fields quote a reply or
// a request (which the module must not hand out).
func asTargets() []any {
	return []any{
		new(*oauthbearer.RejectedError), new(*oauthbearer.TransientError), new(*oauthbearer.OptionError),
		new(*oauthbearer.ExtensionError), new(*oauthbearer.TokenSyntaxError),
		new(*azure.Error), new(*oauthclient.Error),
		new(*clientprops.PropertyError), new(*clientprops.KindError),
		new(*idphttp.RedirectError), new(*idphttp.ProxyError), new(*idphttp.TLSError),
		new(*azidentity.AuthenticationFailedError), new(smithy.APIError), new(*awshttp.ResponseError),
		new(*oauth2.RetrieveError), new(*url.Error),
		new(interface{ Unwrap() error }), new(interface{ Unwrap() []error }),
	}
}

// Reachable returns every text reachable from err the way an error
// reporter (Sentry, a %+v logger) or a user's errors.As finds it: the
// Unwrap chain (single and multiple), every errors.As target of
// asTargets, and in each error found the strings, byte slices and errors
// its exported fields hold (what a program can read: afe.RawResponse),
// followed through pointers, interfaces, structs, slices and maps.
//
// With it, the secret hygiene tests fail before internal/fetchrec sealed
// the errors leaving a fetch (its scrubbed error unwrapped to the raw
// one): the echoed AWS session token, Azure client secret, federated
// token and STS token were reachable.
func Reachable(err error) string {
	var b strings.Builder
	seen := map[any]bool{}
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		if e == nil || depth > 32 {
			return
		}
		if k := identity(e); k != nil {
			if seen[k] {
				return
			}
			seen[k] = true
		}
		b.WriteString(e.Error() + "\n")
		fields(&b, reflect.ValueOf(e), 0, map[uintptr]bool{}, func(x error) { walk(x, depth+1) })
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x, depth+1)
			}
		}
		for _, t := range asTargets() {
			if errors.As(e, t) {
				if x, ok := reflect.ValueOf(t).Elem().Interface().(error); ok {
					walk(x, depth+1)
				}
			}
		}
	}
	walk(err, 0)
	return b.String()
}

// identity is a comparable key for e (its pointer, or e itself when
// comparable), or nil.
func identity(e error) any {
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		return v.Pointer()
	}
	if v.Type().Comparable() {
		return e
	}
	return nil
}

var errorType = reflect.TypeFor[error]()

// fields writes the text v holds; errors it finds that can be handed out
// (exported or not, their text is read) go to onErr.
func fields(b *strings.Builder, v reflect.Value, depth int, seen map[uintptr]bool, onErr func(error)) {
	if !v.IsValid() || depth > 8 {
		return
	}
	if v.CanInterface() && v.Type().Implements(errorType) && depth > 0 {
		if e, ok := v.Interface().(error); ok && !isNil(v) {
			onErr(e)
			return
		}
	}
	switch v.Kind() {
	case reflect.String:
		b.WriteString(v.String() + "\n")
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		fields(b, v.Elem(), depth+1, seen, onErr)
	case reflect.Interface:
		fields(b, v.Elem(), depth+1, seen, onErr)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() { // what a program can read
				fields(b, v.Field(i), depth+1, seen, onErr)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			b.WriteString(fmt.Sprintf("%s\n", v.Bytes()))
			return
		}
		for i := range min(v.Len(), 64) {
			fields(b, v.Index(i), depth+1, seen, onErr)
		}
	case reflect.Map:
		it := v.MapRange()
		for n := 0; n < 64 && it.Next(); n++ {
			fields(b, it.Key(), depth+1, seen, onErr)
			fields(b, it.Value(), depth+1, seen, onErr)
		}
	}
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}
