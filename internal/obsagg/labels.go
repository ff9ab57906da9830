package obsagg

// FetchBuckets returns the fetch duration histogram's buckets, in
// seconds, as a new slice each call: up to the 30 s of
// oauthbearer.DefaultFetchTimeout.
func FetchBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
}

// Mode is a fetch's mode label: "background" when a usable token was
// served meanwhile, else "wait" (callers waited for it).
func Mode(background bool) string {
	if background {
		return "background"
	}
	return "wait"
}
