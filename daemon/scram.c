/* scram.c - see scram.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "sasl.h"
#include "scram.h"

/* The server's messages are short: nonce, salt, count, maybe an
 * extension or two. */
#define SCRAM_MSG_MAX	1024

int
scram_prep_ok(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > SCRAM_CRED_MAX)
		return -1;
	/* RFC 4013 C.2.1 prohibits the ASCII controls; the rest of ASCII is
	 * unchanged by the mapping (B.1, C.1.2) and by NFKC. */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return -1;
	return 0;
}

/* RFC 5802 saslname: ',' and '=' escaped as =2C and =3D. */
static char *
saslname(const char *s)
{
	size_t	 n = 0, i;
	char	*out, *o;

	for (i = 0; s[i] != '\0'; i++)
		n += (s[i] == ',' || s[i] == '=') ? 3 : 1;
	if ((out = malloc(n + 1)) == NULL)
		abort();
	for (o = out, i = 0; s[i] != '\0'; i++) {
		if (s[i] == ',') {
			memcpy(o, "=2C", 3);
			o += 3;
		} else if (s[i] == '=') {
			memcpy(o, "=3D", 3);
			o += 3;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

void
scram_client_clear(struct scram_client *s)
{
	free(s->first_bare);
	if (s->auth_message != NULL) {
		explicit_bzero(s->auth_message, strlen(s->auth_message));
		free(s->auth_message);
	}
	explicit_bzero(s, sizeof(*s));
}

/* RFC 5802 printable, except ','. */
static int
nonce_ok(const char *n)
{
	if (*n == '\0')
		return 0;
	for (; *n != '\0'; n++)
		if (*n < 0x21 || *n > 0x7e || *n == ',')
			return 0;
	return 1;
}

int
scram_client_start(struct scram_client *s, const char *user,
    const char *nonce, char **out, char *err, size_t errlen)
{
	unsigned char	 raw[SCRAM_NONCE_BYTES];
	char		*b64, *name;
	size_t		 len;

	*out = NULL;
	memset(s, 0, sizeof(*s));
	if (scram_prep_ok(user) == -1) {
		snprintf(err, errlen, "SCRAM-SHA-256 needs a user name of "
		    "printable ASCII (roamsmtp does not SASLprep other "
		    "characters); use auth = plain over TLS");
		return -1;
	}
	if (nonce == NULL) {
		if (RAND_bytes(raw, sizeof(raw)) != 1) {
			snprintf(err, errlen, "no random bytes for the SCRAM "
			    "nonce");
			return -1;
		}
		b64 = sasl_b64_encode(raw, sizeof(raw));
		if (b64 == NULL)
			abort();
		snprintf(s->nonce, sizeof(s->nonce), "%s", b64);
		free(b64);
	} else {
		if (strlen(nonce) >= sizeof(s->nonce) || !nonce_ok(nonce)) {
			snprintf(err, errlen, "bad SCRAM nonce");
			return -1;
		}
		snprintf(s->nonce, sizeof(s->nonce), "%s", nonce);
	}
	name = saslname(user);
	len = strlen(name) + strlen(s->nonce) + 6;
	if ((s->first_bare = malloc(len + 1)) == NULL)
		abort();
	snprintf(s->first_bare, len + 1, "n=%s,r=%s", name, s->nonce);
	free(name);
	if ((*out = malloc(len + 4)) == NULL)
		abort();
	snprintf(*out, len + 4, "n,,%s", s->first_bare);
	s->step = SCRAM_SENT_FIRST;
	return 0;
}

/* A copy of msg[0..len) as a string, or NULL when it holds a NUL or is
 * too long. */
static char *
msg_copy(const char *msg, size_t len)
{
	char	*s;

	if (len > SCRAM_MSG_MAX || memchr(msg, '\0', len) != NULL)
		return NULL;
	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, msg, len);
	s[len] = '\0';
	return s;
}

/* The value of the attribute "a=" at *p, up to the next ',' (or the end);
 * *p moves past it. */
static const char *
attr(char **p, char a)
{
	char	*v, *comma;

	if (*p == NULL || (*p)[0] != a || (*p)[1] != '=')
		return NULL;
	v = *p + 2;
	if ((comma = strchr(v, ',')) != NULL) {
		*comma = '\0';
		*p = comma + 1;
	} else
		*p = NULL;
	return v;
}

static int
hmac256(const unsigned char *key, size_t keylen, const void *data,
    size_t len, unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned int	n = 0;

	return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) ==
	    NULL || n != SHA256_DIGEST_LENGTH ? -1 : 0;
}

int
scram_client_final(struct scram_client *s, const char *server_first,
    size_t len, const char *password, char **out, char *err, size_t errlen)
{
	unsigned char	 salted[SHA256_DIGEST_LENGTH];
	unsigned char	 ckey[SHA256_DIGEST_LENGTH], skey[SHA256_DIGEST_LENGTH];
	unsigned char	 stored[SHA256_DIGEST_LENGTH];
	unsigned char	 csig[SHA256_DIGEST_LENGTH];
	unsigned char	 proof[SHA256_DIGEST_LENGTH];
	const char	*rnonce, *b64salt, *iter;
	char		*copy, *p, *salt = NULL, *proof64 = NULL;
	char		*without_proof = NULL;
	size_t		 saltlen, n, i;
	unsigned long	 count;
	int		 rc = -1;

	*out = NULL;
	if (s->step != SCRAM_SENT_FIRST) {
		snprintf(err, errlen, "SCRAM out of order");
		return -1;
	}
	if (scram_prep_ok(password) == -1) {
		snprintf(err, errlen, "SCRAM-SHA-256 needs a password of "
		    "printable ASCII (roamsmtp does not SASLprep other "
		    "characters); use auth = plain over TLS");
		return -1;
	}
	if ((copy = msg_copy(server_first, len)) == NULL) {
		snprintf(err, errlen, "the SCRAM server-first message is too "
		    "long or holds a NUL");
		return -1;
	}
	p = copy;
	if (p[0] == 'm' && p[1] == '=') {
		snprintf(err, errlen, "the server asks for a SCRAM extension "
		    "(m=) roamsmtp does not know");
		goto done;
	}
	if ((rnonce = attr(&p, 'r')) == NULL ||
	    (b64salt = attr(&p, 's')) == NULL ||
	    (iter = attr(&p, 'i')) == NULL) {
		snprintf(err, errlen, "malformed SCRAM server-first message "
		    "(want r=,s=,i=)");
		goto done;
	}
	n = strlen(s->nonce);
	if (strncmp(rnonce, s->nonce, n) != 0 || rnonce[n] == '\0' ||
	    !nonce_ok(rnonce)) {
		snprintf(err, errlen, "the SCRAM server nonce does not extend "
		    "ours");
		goto done;
	}
	if ((salt = sasl_b64_decode(b64salt, &saltlen)) == NULL ||
	    saltlen == 0) {
		snprintf(err, errlen, "the SCRAM salt is not base64");
		goto done;
	}
	if (iter[0] < '1' || iter[0] > '9' || strlen(iter) > 9 ||
	    strspn(iter, "0123456789") != strlen(iter)) {
		snprintf(err, errlen, "the SCRAM iteration count '%.16s' is "
		    "not a number", iter);
		goto done;
	}
	count = strtoul(iter, NULL, 10);
	if (count < SCRAM_ITER_MIN || count > SCRAM_ITER_MAX) {
		snprintf(err, errlen, "the server asks for %lu SCRAM "
		    "iterations; roamsmtp takes %d to %d", count,
		    SCRAM_ITER_MIN, SCRAM_ITER_MAX);
		goto done;
	}

	/* "biws" is base64("n,,"): no channel binding, no authzid. */
	n = strlen(rnonce) + 12;
	if ((without_proof = malloc(n)) == NULL)
		abort();
	snprintf(without_proof, n, "c=biws,r=%s", rnonce);
	n = strlen(s->first_bare) + 1 + len + 1 + strlen(without_proof) + 1;
	if ((s->auth_message = malloc(n)) == NULL)
		abort();
	snprintf(s->auth_message, n, "%s,%.*s,%s", s->first_bare, (int)len,
	    server_first, without_proof);

	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
	    (unsigned char *)salt, (int)saltlen, (int)count, EVP_sha256(),
	    sizeof(salted), salted) != 1 ||
	    hmac256(salted, sizeof(salted), "Client Key", 10, ckey) == -1 ||
	    hmac256(salted, sizeof(salted), "Server Key", 10, skey) == -1 ||
	    SHA256(ckey, sizeof(ckey), stored) == NULL ||
	    hmac256(stored, sizeof(stored), s->auth_message,
	    strlen(s->auth_message), csig) == -1 ||
	    hmac256(skey, sizeof(skey), s->auth_message,
	    strlen(s->auth_message), s->server_sig) == -1) {
		snprintf(err, errlen, "SCRAM computation failed in OpenSSL");
		goto done;
	}
	for (i = 0; i < sizeof(proof); i++)
		proof[i] = ckey[i] ^ csig[i];
	if ((proof64 = sasl_b64_encode(proof, sizeof(proof))) == NULL)
		abort();
	n = strlen(without_proof) + 3 + strlen(proof64) + 1;
	if ((*out = malloc(n)) == NULL)
		abort();
	snprintf(*out, n, "%s,p=%s", without_proof, proof64);
	s->step = SCRAM_SENT_FINAL;
	rc = 0;
done:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(ckey, sizeof(ckey));
	explicit_bzero(skey, sizeof(skey));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(csig, sizeof(csig));
	explicit_bzero(proof, sizeof(proof));
	if (proof64 != NULL) {
		explicit_bzero(proof64, strlen(proof64));
		free(proof64);
	}
	free(without_proof);
	free(salt);
	free(copy);
	return rc;
}

int
scram_client_verify(struct scram_client *s, const char *server_final,
    size_t len, char *err, size_t errlen)
{
	const char	*v;
	char		*copy, *p, *sig = NULL;
	size_t		 siglen;
	int		 rc = -1;

	if (s->step != SCRAM_SENT_FINAL) {
		snprintf(err, errlen, "SCRAM out of order");
		return -1;
	}
	if ((copy = msg_copy(server_final, len)) == NULL) {
		snprintf(err, errlen, "the SCRAM server-final message is too "
		    "long or holds a NUL");
		return -1;
	}
	p = copy;
	if (p[0] == 'e' && p[1] == '=') {
		v = attr(&p, 'e');
		snprintf(err, errlen, "the server ended SCRAM with an error: "
		    "%.100s", v);
		goto done;
	}
	if ((v = attr(&p, 'v')) == NULL ||
	    (sig = sasl_b64_decode(v, &siglen)) == NULL) {
		snprintf(err, errlen, "malformed SCRAM server-final message "
		    "(want v=)");
		goto done;
	}
	if (siglen != sizeof(s->server_sig) ||
	    CRYPTO_memcmp(sig, s->server_sig, siglen) != 0) {
		snprintf(err, errlen, "the server's SCRAM signature is wrong: "
		    "it does not know the password (an impostor, or a "
		    "different account)");
		goto done;
	}
	s->step = SCRAM_VERIFIED;
	rc = 0;
done:
	free(sig);
	free(copy);
	return rc;
}
