package azure

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/audience"
)

const defaultSuffix = "/.default"

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// NormalizeAudience turns the audience of the tokens to request (the
// Audience of every options struct of this package) into the
// Microsoft Entra scope azidentity wants. It accepts the three forms users
// copy from the Azure portal and Java client.properties files:
//
//   - an application (client) ID GUID, as in IMDS's resource parameter:
//     "0b1c...-...-..." becomes "0b1c...-...-.../.default";
//   - an application ID URI "api://x": becomes "api://x/.default";
//   - a scope that already ends in "/.default", kept as is (such as
//     [EventHubsScope]'s "https://<ns>.servicebus.windows.net/.default").
//
// Anything else is an error: client-credentials and managed-identity
// tokens can only be requested for a whole resource.
//
// Like every source's audience, it is refused rather than trimmed when
// empty or with white space around it (see the audience check the gcp,
// spiffe and aws sources share): the value requested is the value the
// broker must be configured with.
func NormalizeAudience(aud string) (string, error) {
	if err := audience.Check("azure", "Audience", aud, "for Azure, that is the Kafka App Registration's application ID, its application ID URI (api://...) or a <resource>/.default scope"); err != nil {
		return "", err
	}
	t := aud
	switch {
	case strings.ContainsAny(t, " \t\r\n"):
		return "", fmt.Errorf("azure: Audience %q holds more than one value; tokens are issued for one resource: set Audience to one application ID, api:// URI or <resource>/.default scope", t)
	case strings.HasSuffix(t, defaultSuffix) && len(t) > len(defaultSuffix):
		return t, nil
	case strings.HasPrefix(t, "api://") && len(strings.TrimSuffix(t, "/")) > len("api://"):
		return strings.TrimSuffix(t, "/") + defaultSuffix, nil
	case guidRE.MatchString(t):
		return t + defaultSuffix, nil
	}
	return "", fmt.Errorf("azure: Audience %q is not an application ID, an api:// application ID URI or a <resource>/.default scope; "+
		"use the App Registration's application (client) ID, api://<app-id-uri>, or append /.default to the resource", t)
}

// EventHubsScope returns the scope for Azure Event Hubs' Kafka endpoint in
// namespace ns: "https://<ns>.servicebus.windows.net/.default". A fully
// qualified namespace ("<ns>.servicebus.windows.net") is accepted too.
func EventHubsScope(namespace string) string {
	ns := strings.TrimSuffix(strings.TrimSpace(namespace), ".servicebus.windows.net")
	return "https://" + ns + ".servicebus.windows.net" + defaultSuffix
}
