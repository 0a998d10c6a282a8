/* sasl.c - see sasl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sasl.h"

char *
sasl_b64_encode(const void *in, size_t len)
{
	char	*out;

	if (len > (1u << 20))
		return NULL;
	if ((out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

char *
sasl_b64_decode(const char *text, size_t *outlen)
{
	size_t	 len = strlen(text), pad = 0;
	char	*out;
	int	 n;

	/* EVP_DecodeBlock wants whole quanta, counts padding as data and
	 * takes '=' anywhere: allow it only at the end, at most twice. */
	if (len % 4 != 0 || len > (1u << 20))
		return NULL;
	while (pad < 2 && pad < len && text[len - 1 - pad] == '=')
		pad++;
	if (strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/") != len - pad)
		return NULL;
	if ((out = malloc(len / 4 * 3 + 1)) == NULL)
		return NULL;
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text,
	    (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n - pad;
	out[*outlen] = '\0';
	return out;
}

char *
sasl_plain_response(const char *user, const char *password)
{
	size_t	 ul = strlen(user), pl = strlen(password);
	char	*buf, *out;

	if ((buf = malloc(ul + pl + 2)) == NULL)
		return NULL;
	buf[0] = '\0';
	memcpy(buf + 1, user, ul);
	buf[1 + ul] = '\0';
	memcpy(buf + 2 + ul, password, pl);
	out = sasl_b64_encode(buf, ul + pl + 2);
	explicit_bzero(buf, ul + pl + 2);
	free(buf);
	return out;
}

char *
sasl_cram_md5_response(const char *challenge_b64, const char *user,
    const char *password)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*challenge, *line, *out;
	size_t		 clen, ul = strlen(user), i;

	if ((challenge = sasl_b64_decode(challenge_b64, &clen)) == NULL)
		return NULL;
	if (HMAC(EVP_md5(), password, (int)strlen(password),
	    (unsigned char *)challenge, clen, md, &mdlen) == NULL) {
		free(challenge);
		return NULL;
	}
	free(challenge);
	if ((line = malloc(ul + 1 + 2 * mdlen + 1)) == NULL)
		return NULL;
	memcpy(line, user, ul);
	line[ul] = ' ';
	for (i = 0; i < mdlen; i++)
		snprintf(line + ul + 1 + 2 * i, 3, "%02x", md[i]);
	out = sasl_b64_encode(line, ul + 1 + 2 * mdlen);
	explicit_bzero(line, ul + 1 + 2 * mdlen);
	explicit_bzero(md, sizeof(md));
	free(line);
	return out;
}

int
sasl_plain_split(char *msg, size_t len, const char **authcid,
    const char **passwd)
{
	char	*a, *p;

	if ((a = memchr(msg, '\0', len)) == NULL)
		return -1;
	a++;
	if ((p = memchr(a, '\0', len - (size_t)(a - msg))) == NULL)
		return -1;
	p++;
	/* No third NUL: the password runs to msg[len]. */
	if (memchr(p, '\0', len - (size_t)(p - msg)) != NULL)
		return -1;
	*authcid = a;
	*passwd = p;
	return 0;
}

/* base64 of a message built in a temporary buffer that is wiped. */
static char *
b64_wiped(char *buf, int n, size_t size)
{
	char	*out = NULL;

	if (n >= 0 && (size_t)n < size)
		out = sasl_b64_encode(buf, (size_t)n);
	explicit_bzero(buf, size);
	free(buf);
	return out;
}

char *
sasl_xoauth2_response(const char *user, const char *token)
{
	size_t	 size = strlen(user) + strlen(token) + 32;
	char	*buf;

	if ((buf = malloc(size)) == NULL)
		return NULL;
	return b64_wiped(buf, snprintf(buf, size,
	    "user=%s\001auth=Bearer %s\001\001", user, token), size);
}

char *
sasl_oauthbearer_response(const char *user, const char *host, unsigned port,
    const char *token)
{
	size_t	 size = 3 * strlen(user) + strlen(host) + strlen(token) + 64;
	char	*buf, *name, *o;
	size_t	 i;

	if ((name = malloc(3 * strlen(user) + 1)) == NULL)
		return NULL;
	for (o = name, i = 0; user[i] != '\0'; i++) {
		if (user[i] == ',' || user[i] == '=') {
			memcpy(o, user[i] == ',' ? "=2C" : "=3D", 3);
			o += 3;
		} else
			*o++ = user[i];
	}
	*o = '\0';
	if ((buf = malloc(size)) == NULL) {
		free(name);
		return NULL;
	}
	o = b64_wiped(buf, snprintf(buf, size,
	    "n,a=%s,\001host=%s\001port=%u\001auth=Bearer %s\001\001", name,
	    host, port, token), size);
	free(name);
	return o;
}

void
sasl_oauth_error_status(const char *json, size_t len, char *buf,
    size_t buflen)
{
	json_t		*doc, *st;
	const char	*v = "?";
	char		 num[32];
	size_t		 i;

	doc = json_loadb(json, len, 0, NULL);
	st = json_is_object(doc) ? json_object_get(doc, "status") : NULL;
	if (json_is_string(st))
		v = json_string_value(st);
	else if (json_is_integer(st)) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(st));
		v = num;
	}
	for (i = 0; v[i] != '\0' && i + 1 < buflen && i < 64; i++)
		buf[i] = (v[i] > 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (buflen > 0)
		buf[i] = '\0';
	json_decref(doc);
}
