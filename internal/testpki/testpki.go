// Package testpki makes certificates and keys for tests: a private CA
// that issues client and server certificates, PKCS#8 key files, and
// PKCS#8 keys encrypted as openssl pkcs8 -topk8 -v2 aes256 -v2prf
// hmacWithSHA256 writes them (which Go's standard library cannot write).
// Tests only.
package testpki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"sync/atomic"
	"time"
)

// TB is the part of testing.TB this package uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// CA is a private certificate authority.
type CA struct {
	Cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial atomic.Int64
}

// NewCA returns a CA valid for a day.
func NewCA(t TB) *CA {
	t.Helper()
	key := must(t, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka-workload-identity test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der := must(t, func() ([]byte, error) { return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key) })
	c := must(t, func() (*x509.Certificate, error) { return x509.ParseCertificate(der) })
	ca := &CA{Cert: c, key: key}
	ca.serial.Store(1)
	return ca
}

// Pool returns a pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM returns the CA certificate in PEM.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// IssueClient returns a client certificate with subject CN=cn and its
// PKCS#8 key, both PEM.
func (ca *CA) IssueClient(t TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	der, key := ca.issue(t, cn)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
}

// IssueClientEncrypted returns a PEM keystore as Kafka's
// ssl.keystore.type=PEM reads it: the key encrypted with pass
// ("ENCRYPTED PRIVATE KEY"), then the certificate.
func (ca *CA) IssueClientEncrypted(t TB, cn, pass string) []byte {
	t.Helper()
	der, key := ca.issue(t, cn)
	return append(EncryptPKCS8(t, key, pass), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
}

func (ca *CA) issue(t TB, cn string) (der, key []byte) {
	t.Helper()
	k := must(t, func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der = must(t, func() ([]byte, error) {
		return x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &k.PublicKey, ca.key)
	})
	key = must(t, func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k) })
	return der, key
}

// KeyFile writes key (any key [x509.MarshalPKCS8PrivateKey] takes) to
// path as an unencrypted PKCS#8 "PRIVATE KEY" PEM block, readable by its
// owner only, and returns path.
func KeyFile(t TB, path string, key any) string {
	t.Helper()
	der := must(t, func() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(key) })
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	must(t, func() (struct{}, error) { return struct{}{}, os.WriteFile(path, pemKey, 0o600) })
	return path
}

// WeakRSAKey returns a 512-bit RSA key: it parses, but crypto/rsa refuses
// to sign with it (keys under 1024 bits), so a signature fails only when
// it is made. crypto/rsa will not generate such a key; it is built from
// two primes.
func WeakRSAKey(t TB) *rsa.PrivateKey {
	t.Helper()
	one := big.NewInt(1)
	for {
		p := must(t, func() (*big.Int, error) { return rand.Prime(rand.Reader, 256) })
		q := must(t, func() (*big.Int, error) { return rand.Prime(rand.Reader, 256) })
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(big.NewInt(65537), phi)
		if p.Cmp(q) == 0 || d == nil {
			continue // 65537 divides phi (rarely): other primes
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		return k
	}
}

// EncryptPKCS8 encrypts a PKCS#8 DER key with PBES2 (PBKDF2 with
// HMAC-SHA256, AES-256-CBC) as an "ENCRYPTED PRIVATE KEY" PEM block.
func EncryptPKCS8(t TB, der []byte, pass string) []byte {
	t.Helper()
	type algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	salt, iv := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(iv)
	key := must(t, func() ([]byte, error) { return pbkdf2.Key(sha256.New, pass, salt, 2048, 32) })
	n := aes.BlockSize - len(der)%aes.BlockSize
	pt := append(append([]byte{}, der...), make([]byte, n)...)
	for i := len(der); i < len(pt); i++ {
		pt[i] = byte(n)
	}
	blk := must(t, func() (cipher.Block, error) { return aes.NewCipher(key) })
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, pt)
	kdf, _ := asn1.Marshal(struct {
		Salt []byte
		Iter int
		PRF  algo
	}{salt, 2048, algo{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, Parameters: asn1.NullRawValue}})
	ivDER, _ := asn1.Marshal(iv)
	params, _ := asn1.Marshal(struct{ KDF, Scheme algo }{
		algo{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, Parameters: asn1.RawValue{FullBytes: kdf}},
		algo{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	out := must(t, func() ([]byte, error) {
		return asn1.Marshal(struct {
			Algo algo
			Data []byte
		}{algo{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, Parameters: asn1.RawValue{FullBytes: params}}, ct})
	})
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out})
}

func must[T any](t TB, f func() (T, error)) T {
	t.Helper()
	v, err := f()
	if err != nil {
		t.Fatalf("testpki: %v", err)
	}
	return v
}
