package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/streamidentity/kafka-workload-identity/internal/boundedfile"
)

// boundedWebIdentityToken makes the default credential chain read the web
// identity token file (AWS_WEB_IDENTITY_TOKEN_FILE, web_identity_token_file
// in the shared config) through the module's bounded reader instead of the
// SDK's os.ReadFile: a FIFO or a device named there is refused instead of
// blocking the fetch's goroutine for good (past the fetch's timeout and
// past Close), and a huge file is refused without being read.
func boundedWebIdentityToken() config.LoadOptionsFunc {
	return config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
		if f, ok := o.TokenRetriever.(stscreds.IdentityTokenFile); ok {
			o.TokenRetriever = tokenFile(f)
		}
	})
}

type tokenFile string

// GetIdentityToken reads the file. The SDK's retriever takes no context;
// the bounded reader never blocks (a FIFO is refused at open), so none is
// needed.
func (f tokenFile) GetIdentityToken() ([]byte, error) {
	b, err := boundedfile.Read(context.Background(), string(f), boundedfile.TokenLimit)
	if err != nil {
		return nil, fmt.Errorf("cannot read the web identity token file %q (AWS_WEB_IDENTITY_TOKEN_FILE or web_identity_token_file): %w; point it at the token file itself, a regular file", string(f), err)
	}
	return b, nil
}
