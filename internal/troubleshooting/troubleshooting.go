// Package troubleshooting links errors to sections of the troubleshooting
// guide (docs/troubleshooting.md), one helper for every package of the
// module; docs' tests check that each anchor passed to [See] exists there.
package troubleshooting

// troubleshootingURL is the guide the errors link to.
const troubleshootingURL = "https://github.com/streamidentity/kafka-workload-identity/blob/main/docs/troubleshooting.md"

// See points at a section of the troubleshooting guide: "see <URL>#anchor".
func See(anchor string) string { return "see " + troubleshootingURL + "#" + anchor }
