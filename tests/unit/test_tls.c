/* test_tls.c - pins parse; a server's certificate is judged after the
 * handshake, with an error that names the cause and offers the pin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "profile.h"
#include "tls.h"

/* A valid pin and the digest it stands for (0x00 .. 0x1f). */
#define PIN_0_31	"sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void
test_pin_parses(void **state)
{
	unsigned char	out[PROFILE_PIN_LEN];
	int		i;

	assert_int_equal(profile_parse_pin(PIN_0_31, out), 0);
	for (i = 0; i < PROFILE_PIN_LEN; i++)
		assert_int_equal(out[i], i);
}

static void
test_pin_rejects_malformed(void **state)
{
	unsigned char	out[PROFILE_PIN_LEN];

	/* curl's form only. */
	assert_int_equal(profile_parse_pin(&PIN_0_31[8], out), -1);
	assert_int_equal(profile_parse_pin("sha1//AAECAwQFBgcICQoLDA0ODxAREhM"
	    "UFRYXGBkaGxwdHh8=", out), -1);
	/* No padding, padding in the wrong place, 33 or 31 bytes. */
	assert_int_equal(profile_parse_pin("sha256//AAECAwQFBgcICQoLDA0ODxARE"
	    "hMUFRYXGBkaGxwdHh8", out), -1);
	assert_int_equal(profile_parse_pin("sha256//AAECAwQFBgcICQoLDA0ODxARE"
	    "hMUFRYXGBkaGxwdHh8A", out), -1);
	assert_int_equal(profile_parse_pin("sha256//AAECAwQFBgcICQoLDA0ODxARE"
	    "hMUFRYXGBkaGxwdHh8g", out), -1);
	assert_int_equal(profile_parse_pin("sha256//AAECAwQFBgcICQoLDA0ODxARE"
	    "hMUFRYXGBkaGxwdHg==", out), -1);
	/* A character outside base64, blanks EVP_DecodeBlock would skip. */
	assert_int_equal(profile_parse_pin("sha256//AAECAwQFBgcICQoLDA0ODxARE"
	    "hMUFRYXGBkaGxwdH*8=", out), -1);
	assert_int_equal(profile_parse_pin("sha256// AECAwQFBgcICQoLDA0ODxARE"
	    "hMUFRYXGBkaGxwdHh8=", out), -1);
	assert_int_equal(profile_parse_pin(PIN_0_31 " ", out), -1);
	assert_int_equal(profile_parse_pin("", out), -1);
}

/* A self-signed server certificate for localhost and 127.0.0.1. */
struct server {
	EVP_PKEY	*key;
	X509		*cert;
	SSL_CTX		*ctx;
};

static void
server_init(struct server *s)
{
	X509_EXTENSION	*ext;
	X509V3_CTX	 v3;
	X509_NAME	*name;

	s->key = EVP_EC_gen("P-256");
	assert_non_null(s->key);
	s->cert = X509_new();
	X509_set_version(s->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(s->cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(s->cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(s->cert), 3600);
	X509_set_pubkey(s->cert, s->key);
	name = X509_get_subject_name(s->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(s->cert, name);
	X509V3_set_ctx(&v3, s->cert, s->cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:localhost,IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(s->cert, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(s->cert, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(s->cert, s->key, EVP_sha256()) > 0);

	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, s->cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, s->key), 1);
}

static void
server_free(struct server *s)
{
	SSL_CTX_free(s->ctx);
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
}

/* The server's pin, computed here independently of tls.c. */
static void
server_pin(struct server *s, unsigned char md[32])
{
	unsigned char	*der = NULL;
	unsigned int	 len;
	int		 n;

	n = i2d_PUBKEY(s->key, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, n, md, &len, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
}

/*
 * Handshake a client for host (with ca_file, or the system store) against
 * the server over a BIO pair.  Returns the client's SSL, handshake done;
 * *sni gets what the server saw as SNI (NULL if none; caller frees).
 */
static SSL *
handshake(struct server *s, const char *ca_file, const char *host,
    char **sni)
{
	SSL_CTX		*cctx;
	SSL		*c, *srv;
	BIO		*cb, *sb;
	const char	*name;
	char		 err[256];
	int		 rc, rs, i;

	cctx = tls_client_ctx_new(ca_file, err, sizeof(err));
	assert_non_null(cctx);
	c = tls_client_new(cctx, host);
	assert_non_null(c);
	SSL_CTX_free(cctx);		/* the SSL keeps a reference */
	srv = SSL_new(s->ctx);
	assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(srv, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(srv);
	rc = rs = 0;
	for (i = 0; i < 100 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(srv);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 1);
	name = SSL_get_servername(srv, TLSEXT_NAMETYPE_host_name);
	*sni = name != NULL ? strdup(name) : NULL;
	SSL_free(srv);
	return c;
}

static void
test_self_signed_offers_pin(void **state)
{
	struct server	 s;
	unsigned char	 md[32], parsed[PROFILE_PIN_LEN];
	char		 err[1024], *sni, *pin, *line;
	SSL		*c;

	server_init(&s);
	server_pin(&s, md);
	c = handshake(&s, NULL, "localhost", &sni);
	assert_string_equal(sni, "localhost");

	/* Without a pin, the system store does not know this server. */
	assert_int_equal(tls_check_peer(c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "self-signed certificate"));
	pin = tls_peer_pin(c);
	assert_non_null(pin);
	assert_int_equal(profile_parse_pin(pin, parsed), 0);
	assert_memory_equal(parsed, md, 32);
	assert_true(asprintf(&line, "if you trust this server, add to "
	    "[upstream]: pin = %s", pin) > 0);
	assert_non_null(strstr(err, line));

	/* The pin it offered is accepted, the chain then does not matter. */
	assert_int_equal(tls_check_peer(c, parsed, err, sizeof(err)), 0);

	/* Another pin is refused, naming the key the server has now. */
	parsed[0] ^= 1;
	assert_int_equal(tls_check_peer(c, parsed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match the pin"));
	assert_non_null(strstr(err, pin));

	free(line);
	free(pin);
	free(sni);
	SSL_free(c);
	server_free(&s);
}

static char *
write_ca(struct server *s)
{
	char	 path[] = "/tmp/test_tls_ca.XXXXXX", *p;
	FILE	*f;
	int	 fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(PEM_write_X509(f, s->cert), 1);
	fclose(f);
	p = strdup(path);
	return p;
}

static void
test_ca_file_and_host_name(void **state)
{
	struct server	 s;
	char		 err[1024], *sni, *ca;
	SSL		*c;

	server_init(&s);
	ca = write_ca(&s);

	c = handshake(&s, ca, "localhost", &sni);
	assert_int_equal(tls_check_peer(c, NULL, err, sizeof(err)), 0);
	SSL_free(c);
	free(sni);

	c = handshake(&s, ca, "mail.example.net", &sni);
	assert_string_equal(sni, "mail.example.net");
	assert_int_equal(tls_check_peer(c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hostname mismatch"));
	assert_non_null(strstr(err, "the certificate is for localhost"));
	SSL_free(c);
	free(sni);

	/* An address: checked against the IP names, and no SNI sent. */
	c = handshake(&s, ca, "127.0.0.1", &sni);
	assert_null(sni);
	assert_int_equal(tls_check_peer(c, NULL, err, sizeof(err)), 0);
	SSL_free(c);
	c = handshake(&s, ca, "127.0.0.2", &sni);
	assert_int_equal(tls_check_peer(c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "IP address mismatch"));
	SSL_free(c);

	unlink(ca);
	free(ca);
	server_free(&s);
}

static void
test_bad_ca_file_is_named(void **state)
{
	char	 err[512];
	SSL_CTX	*ctx;

	ctx = tls_client_ctx_new("/nonexistent/ca.pem", err, sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	assert_int_equal(ERR_peek_error(), 0);	/* queue drained */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_parses),
		cmocka_unit_test(test_pin_rejects_malformed),
		cmocka_unit_test(test_self_signed_offers_pin),
		cmocka_unit_test(test_ca_file_and_host_name),
		cmocka_unit_test(test_bad_ca_file_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
