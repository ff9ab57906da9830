// Package ccloud holds small Confluent Cloud helpers shared by the
// confluent and schemaregistry packages.
package ccloud

import (
	"net"
	"strings"
)

// ValidID reports whether s is prefix followed by one or more ASCII
// letters or digits, the shape of every Confluent Cloud resource ID
// (lkc-, lsrc-, pool-).
func ValidID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// IsLoopback reports whether host is localhost or a loopback IP: the only
// hosts a bearer token may be sent to over plain http by default.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
