// Package oauthlink lets clientprops build an oauthclient source whose
// errors name the client.properties settings (key and line) instead of
// the Go option fields, without a public option for it. oauthclient sets
// the function when it is initialised; clientprops imports oauthclient, so
// it is set before clientprops can call it.
package oauthlink

import "github.com/streamidentity/kafka-workload-identity/oauthbearer"

// NewJWTBearer is oauthclient.NewJWTBearer with name(field) naming each
// JWTBearerOptions field (such as "PrivateKeyFile") in errors. opts is an
// *oauthclient.JWTBearerOptions (typed any to avoid an import cycle).
var NewJWTBearer func(opts any, name func(field string) string) (*oauthbearer.Cache, error)
