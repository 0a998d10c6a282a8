/* tls.c - see tls.h. */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define PIN_PREFIX	"sha256//"
/* Names of the certificate shown in a host name mismatch. */
#define TLS_NAMES_SHOWN	4

static int
is_ip_literal(const char *host)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

SSL_CTX *
tls_client_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	char	 why[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "cannot create a TLS context: %s", why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Verified, but decided after the handshake (tls_check_peer), so
	 * that the error can name the cause and offer the pin. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			tls_error_text(why, sizeof(why));
			snprintf(err, errlen, "cannot load CA file %s: %s; give "
			    "a file of PEM certificates", ca_file, why);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "cannot load the system certificate "
		    "store: %s; install ca-certificates or set ca-file", why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *
tls_client_new(SSL_CTX *ctx, const char *host)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if (is_ip_literal(host)) {
		/* RFC 6066 3: no SNI for an address. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
		    SSL_set1_host(ssl, host) != 1)
			goto fail;
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	return ssl;
 fail:
	SSL_free(ssl);
	return NULL;
}

static int
spki_sha256(X509 *cert, unsigned char md[32])
{
	unsigned char	*der = NULL;
	unsigned int	 mdlen = 0;
	int		 len, r;

	if ((len = i2d_PUBKEY(X509_get0_pubkey(cert), &der)) <= 0)
		return -1;
	r = EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return r == 1 && mdlen == 32 ? 0 : -1;
}

static char *
pin_text(const unsigned char md[32])
{
	unsigned char	 b64[4 * ((32 + 2) / 3) + 1];
	char		*s;

	EVP_EncodeBlock(b64, md, 32);
	if (asprintf(&s, PIN_PREFIX "%s", b64) == -1)
		return NULL;
	return s;
}

char *
tls_peer_pin(SSL *ssl)
{
	unsigned char	 md[32];
	X509		*cert;

	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return NULL;
	if (spki_sha256(cert, md) == -1)
		return NULL;
	return pin_text(md);
}

/* The certificate's DNS names (or subject CN), for a mismatch message. */
static void
cert_names(X509 *cert, char *buf, size_t len)
{
	GENERAL_NAMES	*names;
	GENERAL_NAME	*gn;
	X509_NAME	*subj;
	int		 i, n, shown = 0;
	size_t		 used;

	buf[0] = '\0';
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	n = names != NULL ? sk_GENERAL_NAME_num(names) : 0;
	for (i = 0; i < n && shown < TLS_NAMES_SHOWN; i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_DNS)
			continue;
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%.*s", shown ? ", " : "",
		    ASN1_STRING_length(gn->d.dNSName),
		    (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
		shown++;
	}
	GENERAL_NAMES_free(names);
	if (shown == 0 && (subj = X509_get_subject_name(cert)) != NULL)
		X509_NAME_get_text_by_NID(subj, NID_commonName, buf, (int)len);
}

static int
is_untrusted_issuer(long v)
{
	switch (v) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return 1;
	default:
		return 0;
	}
}

int
tls_check_peer(SSL *ssl, const unsigned char *pin, char *err, size_t errlen)
{
	unsigned char	 md[32];
	char		 names[256];
	char		*have;
	X509		*cert;
	long		 v;

	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL) {
		snprintf(err, errlen, "the server sent no certificate");
		return -1;
	}
	if (pin != NULL) {
		if (spki_sha256(cert, md) == -1) {
			snprintf(err, errlen, "cannot hash the server's public "
			    "key");
			return -1;
		}
		if (CRYPTO_memcmp(md, pin, sizeof(md)) == 0)
			return 0;
		have = pin_text(md);
		snprintf(err, errlen, "the server's public key does not match "
		    "the pin; the server now has pin = %s; if its key was "
		    "changed on purpose, replace the pin in [upstream]",
		    have != NULL ? have : "?");
		free(have);
		return -1;
	}

	if ((v = SSL_get_verify_result(ssl)) == X509_V_OK)
		return 0;
	if (is_untrusted_issuer(v)) {
		have = tls_peer_pin(ssl);
		snprintf(err, errlen, "certificate verify failed: %s; if you "
		    "trust this server, add to [upstream]: pin = %s",
		    X509_verify_cert_error_string(v), have != NULL ? have : "?");
		free(have);
	} else if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		cert_names(cert, names, sizeof(names));
		snprintf(err, errlen, "certificate verify failed: %s (the "
		    "certificate is for %s); set host to a name the "
		    "certificate has", X509_verify_cert_error_string(v),
		    names[0] != '\0' ? names : "no name");
	} else
		snprintf(err, errlen, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
	return -1;
}

void
tls_error_text(char *err, size_t errlen)
{
	unsigned long	e, first = 0;
	const char	*reason;

	while ((e = ERR_get_error()) != 0)
		if (first == 0)
			first = e;
	if (first == 0) {
		snprintf(err, errlen, "TLS failed (no detail from OpenSSL)");
		return;
	}
	if ((reason = ERR_reason_error_string(first)) != NULL)
		snprintf(err, errlen, "%s", reason);
	else
		ERR_error_string_n(first, err, errlen);
}
