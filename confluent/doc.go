// Package confluent connects workload identities to Confluent Cloud.
//
// It provides:
//
//   - [Extensions] and [WithExtensions]: the logicalCluster and
//     identityPoolId SASL extensions, validated;
//   - [NewSTS]: Confluent Cloud's STS token exchange, turning an external
//     identity provider's JWT into a Confluent token for the
//     control-plane REST APIs.
//
// Generic OAuth 2.0 client credentials are in the oauthclient package,
// and a Java client.properties file is read by the clientprops package.
//
// The STS source is wrapped in an [oauthbearer.Cache]. Errors start with
// "confluent:", name the setting, end with the fix and never contain a
// token or secret.
//
// The examples of [WithExtensions] and [NewSTS] show both, with a token
// source from the azure package or any other.
package confluent
