package oauthclient

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// ErrPassphrase is matched with errors.Is when an encrypted private key
// cannot be decrypted with the passphrase given (or none was given).
var ErrPassphrase = errors.New("oauthclient: the private key's passphrase is wrong or missing")

// ParsePrivateKeyPEM returns the first private key in a PEM file: PKCS#8
// ("PRIVATE KEY", the form Kafka reads), PKCS#1 ("RSA PRIVATE KEY"), SEC1
// ("EC PRIVATE KEY"), or PKCS#8 encrypted with PBES2 ("ENCRYPTED PRIVATE
// KEY", PBKDF2 with HMAC-SHA1/256/512 and AES-CBC, what openssl pkcs8
// -topk8 -v2 aes256 writes and Kafka's
// sasl.oauthbearer.assertion.private.key.passphrase decrypts). The key
// must be RSA or ECDSA. Errors describe the file's structure, never its
// content.
func ParsePrivateKeyPEM(data []byte, passphrase Secret) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("oauthclient: no PEM private key block (-----BEGIN PRIVATE KEY-----) found")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			if _, enc := b.Headers["Proc-Type"]; enc {
				return nil, errors.New("oauthclient: the key uses legacy PEM encryption (Proc-Type: 4,ENCRYPTED), which is insecure and not supported; convert it with openssl pkcs8 -topk8 -v2 aes256")
			}
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			if _, enc := b.Headers["Proc-Type"]; enc {
				return nil, errors.New("oauthclient: the key uses legacy PEM encryption (Proc-Type: 4,ENCRYPTED), which is insecure and not supported; convert it with openssl pkcs8 -topk8 -v2 aes256")
			}
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			if passphrase == "" {
				return nil, fmt.Errorf("%w: the key is encrypted; set the passphrase", ErrPassphrase)
			}
			var der []byte
			der, err = decryptPBES2(b.Bytes, string(passphrase))
			if err == nil {
				k, err = x509.ParsePKCS8PrivateKey(der)
				if err != nil {
					err = fmt.Errorf("%w: the decrypted key does not parse", ErrPassphrase)
				}
			}
		default:
			continue // certificates and parameters may precede the key
		}
		if err != nil {
			if errors.Is(err, ErrPassphrase) {
				return nil, err
			}
			return nil, fmt.Errorf("oauthclient: the %s block does not parse: %v", b.Type, scrubKeyErr(err))
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("oauthclient: the key is a %T; use an RSA or ECDSA key", k)
		}
		return s, nil
	}
}

// scrubKeyErr keeps x509's structural message; it never holds key bytes.
func scrubKeyErr(err error) string { return err.Error() }

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type encryptedPrivateKeyInfo struct {
	Algo pkix
	Data []byte
}

type pkix struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KDF    pkix
	Scheme pkix
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int  `asn1:"optional"`
	PRF        pkix `asn1:"optional"`
}

// maxIterations bounds PBKDF2 so that a hostile key file cannot make
// every refresh spin for minutes.
const maxIterations = 10_000_000

// decryptPBES2 decrypts an EncryptedPrivateKeyInfo (RFC 5958) protected
// with PBES2 (RFC 8018): PBKDF2 and AES-CBC.
func decryptPBES2(der []byte, pass string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("not an EncryptedPrivateKeyInfo")
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encryption %v is not PBES2; re-encrypt with openssl pkcs8 -topk8 -v2 aes256", info.Algo.Algorithm)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil {
		return nil, errors.New("bad PBES2 parameters")
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, errors.New("the key derivation is not PBKDF2")
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, errors.New("bad PBKDF2 parameters")
	}
	if kp.Iterations < 1 || kp.Iterations > maxIterations {
		return nil, fmt.Errorf("PBKDF2 iteration count %d is out of range", kp.Iterations)
	}
	var h func() hash.Hash
	switch {
	case len(kp.PRF.Algorithm) == 0 || kp.PRF.Algorithm.Equal(oidHMACSHA1):
		h = sha1.New
	case kp.PRF.Algorithm.Equal(oidHMACSHA256):
		h = sha256.New
	case kp.PRF.Algorithm.Equal(oidHMACSHA512):
		h = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 PRF %v is not supported; use HMAC-SHA256", kp.PRF.Algorithm)
	}
	var keyLen int
	switch {
	case p.Scheme.Algorithm.Equal(oidAES128CBC):
		keyLen = 16
	case p.Scheme.Algorithm.Equal(oidAES192CBC):
		keyLen = 24
	case p.Scheme.Algorithm.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, fmt.Errorf("cipher %v is not supported; use AES-CBC", p.Scheme.Algorithm)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return nil, errors.New("bad AES-CBC IV")
	}
	if len(info.Data) == 0 || len(info.Data)%aes.BlockSize != 0 {
		return nil, errors.New("the encrypted data is not whole AES blocks")
	}
	key, err := pbkdf2.Key(h, pass, kp.Salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, errors.New("PBKDF2 failed")
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(out, info.Data)
	n := int(out[len(out)-1])
	if n < 1 || n > aes.BlockSize {
		return nil, ErrPassphrase
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, ErrPassphrase
		}
	}
	return out[:len(out)-n], nil
}
