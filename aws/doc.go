// Package aws gets SASL/OAUTHBEARER tokens for Kafka from a workload's AWS
// identity, with no secret to store: the IAM role of the EC2 instance, ECS
// task, Lambda function or EKS pod (IRSA or Pod Identity) is the
// credential.
//
// Two token sources, each an [oauthbearer.Cache] that refreshes in the
// background and is cheap to call on every connection:
//
//   - [NewWebIdentity] calls STS GetWebIdentityToken (IAM outbound
//     identity federation) for a JWT signed by AWS, whose "sub" is the
//     role's ARN. Any Kafka that validates JWTs against an OIDC issuer
//     accepts it (Apache Kafka 4.2+, Aiven, Confluent Cloud, Redpanda):
//     point the cluster at the account's issuer
//     (`aws iam get-outbound-web-identity-federation-info`) and its
//     /.well-known/jwks.json.
//   - [NewMSK] signs the token Amazon MSK's IAM access control accepts
//     over OAUTHBEARER: a SigV4-presigned kafka-cluster:Connect request,
//     as aws-msk-iam-sasl-signer-go makes, signed locally once per
//     refresh period.
//
// This package's name collides with the SDK's
// github.com/aws/aws-sdk-go-v2/aws. The common case needs no SDK import;
// when you need both (to pass an aws.Config), alias this one, as awsid in
// the examples of [NewWebIdentity] and [NewMSK].
//
// Credentials and region come from the SDK's default configuration
// (config.LoadDefaultConfig) unless Config is set. A region is required:
// GetWebIdentityToken is served only by regional STS endpoints
// (sts.<region>.amazonaws.com), never by the global sts.amazonaws.com,
// which this package refuses before making a request. The files the
// default configuration reads (AWS_CONFIG_FILE or ~/.aws/config,
// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CA_BUNDLE or the
// profile's ca_bundle, AWS_WEB_IDENTITY_TOKEN_FILE) must be regular files
// of at most 1 MiB (64 KiB for the token file): a FIFO, a device or a
// larger file is refused, naming its setting, within the constructor's
// context.
//
// Before the first token, once per account: enable outbound identity
// federation (`aws iam enable-outbound-web-identity-federation`, or the IAM
// console) and allow the workload's role sts:GetWebIdentityToken,
// restricted with the sts:IdentityTokenAudience condition. Errors for
// either say so.
//
// Failures: throttling, server errors and network trouble return
// [oauthbearer.TransientError] (with the server's Retry-After) and are
// retried by the cache with backoff while the current token keeps being
// served; the SDK's own retryer is turned off so that one fetch is one
// request. Configuration and permission problems are permanent errors
// that name the fix. A token never outlives the AWS credentials that
// obtained it. Neither tokens nor secret keys appear in errors or logs.
package aws
