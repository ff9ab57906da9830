// Package ccloud holds small Confluent Cloud helpers shared by the
// confluent, schemaregistry and clientprops packages: the one check of
// Confluent Cloud's ID shapes ([CheckID]) and the loopback test.
package ccloud

import (
	"net"
	"strings"
)

// IsLoopback reports whether host is localhost or a loopback IP: the only
// hosts a bearer token may be sent to over plain http by default.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
