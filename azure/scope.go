package azure

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/streamidentity/kafka-workload-identity/internal/audience"
	"github.com/streamidentity/kafka-workload-identity/internal/srvtext"
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
	switch {
	case strings.ContainsAny(aud, " \t"):
		return "", fmt.Errorf("azure: Audience %s holds more than one value; tokens are issued for one resource: set Audience to one application ID, api:// URI or <resource>/.default scope", srvtext.Quote(aud, 0))
	case strings.HasSuffix(aud, defaultSuffix) && len(aud) > len(defaultSuffix):
		return aud, nil
	case strings.HasPrefix(aud, "api://") && len(strings.TrimSuffix(aud, "/")) > len("api://"):
		return strings.TrimSuffix(aud, "/") + defaultSuffix, nil
	case guidRE.MatchString(aud):
		return aud + defaultSuffix, nil
	}
	return "", fmt.Errorf("azure: Audience %s is not an application ID, an api:// application ID URI or a <resource>/.default scope; "+
		"use the App Registration's application (client) ID, api://<app-id-uri>, or append /.default to the resource", srvtext.Quote(aud, 0))
}

// EventHubsScope returns the scope for Azure Event Hubs' Kafka endpoint in
// namespace ns: "https://<ns>.servicebus.windows.net/.default". A fully
// qualified namespace ("<ns>.servicebus.windows.net") is accepted too.
func EventHubsScope(namespace string) string {
	ns := strings.TrimSuffix(strings.TrimSpace(namespace), ".servicebus.windows.net")
	return "https://" + ns + ".servicebus.windows.net" + defaultSuffix
}
