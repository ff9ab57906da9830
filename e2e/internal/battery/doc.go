// Package battery is a test-only package: the hostile battery that every
// exported token-source constructor of every module must pass (issue 21).
//
// One table (table_test.go) lists every constructor; TestTableCoversAPI
// parses the modules' exported API and fails when a constructor returning
// a token source is missing from it, so the next source cannot skip the
// battery. Every entry then runs the same cases: an identity endpoint that
// echoes every value it received (in error fields, in the fields of a
// 200 reply, in a text body, in headers), redirects (301, 302, 303, 307,
// 308, to another host and to plain http on the same host), plain-http
// targets on a non-loopback address from every option and environment
// variable that can name an endpoint, endless and slow bodies, FIFOs,
// devices, symlinks and huge files for every file option, and Close
// during a blocked fetch. Each cell asserts that nothing sent appears in
// any error, log record or encoded value (saidcheck), that no redirect is
// followed, that the fetch is bounded in time and in what it reads, and
// that no goroutine outlives Close (leakcheck).
//
// Nothing leaves the machine: servers listen on 127.0.0.1, made-up
// names resolve there, and the non-loopback address is 192.0.2.1
// (TEST-NET-1), which every client here refuses to dial and counts.
//
//	go test -race ./internal/battery
package battery
