package schemaregistry

// troubleshootingURL is the guide the package's errors link to; the
// anchors used with it are checked against the guide by docs' tests.
const troubleshootingURL = "https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/troubleshooting.md"

// see points at a section of the troubleshooting guide.
func see(anchor string) string { return "see " + troubleshootingURL + "#" + anchor }
