/*
 * test_sasl.c - the SASL encodings: base64 both ways (RFC 4648 test
 * vectors, binary round trips, every padding length, bad input), the PLAIN
 * response and its split on the listener's side, CRAM-MD5 against the
 * worked example of RFC 2195, XOAUTH2 and OAUTHBEARER against Google's and
 * RFC 7628's examples, and the status of an OAuth error challenge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sasl.h"

/* Decode text, which must be valid, and compare with want[0..wantlen). */
static void
assert_decodes(const char *text, const void *want, size_t wantlen)
{
	char	*out;
	size_t	 n = (size_t)-1;

	out = sasl_b64_decode(text, &n);
	if (out == NULL)
		fail_msg("\"%s\" did not decode", text);
	assert_int_equal(n, wantlen);
	assert_memory_equal(out, want, wantlen);
	/* The contract promises a NUL after the data. */
	assert_int_equal(out[n], '\0');
	free(out);
}

static void
assert_refused(const char *text)
{
	char	*out;
	size_t	 n = 0;

	if ((out = sasl_b64_decode(text, &n)) != NULL) {
		free(out);
		fail_msg("\"%s\" decoded to %zu octets; it is not base64",
		    text, n);
	}
}

/* RFC 4648 section 10: padding of 0, 1 and 2 characters. */
static void
test_b64_rfc4648_vectors(void **state)
{
	static const struct {
		const char	*plain, *b64;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char	*enc;
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enc = sasl_b64_encode(v[i].plain, strlen(v[i].plain));
		assert_non_null(enc);
		assert_string_equal(enc, v[i].b64);
		free(enc);
		assert_decodes(v[i].b64, v[i].plain, strlen(v[i].plain));
	}
}

/* Every octet value, and lengths that give each padding, survive. */
static void
test_b64_binary_round_trip(void **state)
{
	unsigned char	 in[256];
	char		*enc, *dec;
	size_t		 i, len, n, pads;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	for (len = 0; len <= sizeof(in); len++) {
		enc = sasl_b64_encode(in, len);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), 4 * ((len + 2) / 3));
		pads = strlen(enc) - strcspn(enc, "=");
		assert_int_equal(pads, (3 - len % 3) % 3);
		dec = sasl_b64_decode(enc, &n);
		assert_non_null(dec);
		assert_int_equal(n, len);
		assert_memory_equal(dec, in, len);
		free(enc);
		free(dec);
	}
}

/* Not whole quanta, or characters outside the alphabet. */
static void
test_b64_decode_refuses_garbage(void **state)
{
	assert_refused("Z");
	assert_refused("Zm9");
	assert_refused("Zm9vY");
	assert_refused("Zg=");
	assert_refused("Zm9v!A==");
	assert_refused("Zm9v*m9v");
	assert_refused("Zm9v\x80m9v");
	/* Whitespace inside is not ours to skip (the caller trims lines). */
	assert_refused("Zm9 v");
}

/*
 * '=' only as one or two final characters of the last quantum: anything
 * else is not base64 (RFC 4648 3.3), and must not decode to some octets.
 */
static void
test_b64_decode_refuses_misplaced_padding(void **state)
{
	assert_refused("====");
	assert_refused("Z===");
	assert_refused("Zm=v");
	assert_refused("Zg=A");
	assert_refused("Zg==Zg==");
	assert_refused("Zm8=Zm9v");
	assert_refused("=Zm9");
}

/* RFC 4616: message = [authzid] NUL authcid NUL passwd. */
static void
test_plain_response(void **state)
{
	static const char	 want[] = "\0tim\0tanstaaftanstaaf";
	char			*r, *dec;
	size_t			 n;

	r = sasl_plain_response("tim", "tanstaaftanstaaf");
	assert_non_null(r);
	/* Independent of our encoder: the expected text, worked out by hand. */
	assert_string_equal(r, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	dec = sasl_b64_decode(r, &n);
	assert_non_null(dec);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(dec, want, sizeof(want) - 1);
	free(dec);
	free(r);

	/* Empty user and password still give both NULs. */
	r = sasl_plain_response("", "");
	assert_non_null(r);
	assert_string_equal(r, "AAA=");
	free(r);
}

static void
test_plain_split_good(void **state)
{
	char		 m1[] = "\0alice@example.net\0s3cr\xc3\xa9t";
	char		 m2[] = "admin\0alice\0pw";
	const char	*a = NULL, *p = NULL;

	assert_int_equal(sasl_plain_split(m1, sizeof(m1) - 1, &a, &p), 0);
	assert_string_equal(a, "alice@example.net");
	assert_string_equal(p, "s3cr\xc3\xa9t");
	/* The pointers go into the message, as documented. */
	assert_ptr_equal(a, m1 + 1);

	/* An authzid is allowed; the authcid is what follows it. */
	assert_int_equal(sasl_plain_split(m2, sizeof(m2) - 1, &a, &p), 0);
	assert_string_equal(a, "alice");
	assert_string_equal(p, "pw");
}

static void
test_plain_split_missing_nul(void **state)
{
	char		 none[] = "alicepw";
	char		 one[] = "\0alicepw";
	char		 one_mid[] = "alice\0pw";
	const char	*a = NULL, *p = NULL;

	assert_int_equal(sasl_plain_split(none, sizeof(none) - 1, &a, &p), -1);
	assert_int_equal(sasl_plain_split(one, sizeof(one) - 1, &a, &p), -1);
	assert_int_equal(sasl_plain_split(one_mid, sizeof(one_mid) - 1, &a,
	    &p), -1);
	/* Nothing was handed out on failure. */
	assert_null(a);
	assert_null(p);
}

/* A third NUL would let a password hide a second field: refused. */
static void
test_plain_split_extra_nul(void **state)
{
	char		 m[] = "\0alice\0pw\0more";
	char		 trailing[] = "\0alice\0pw\0";
	const char	*a = NULL, *p = NULL;

	assert_int_equal(sasl_plain_split(m, sizeof(m) - 1, &a, &p), -1);
	assert_int_equal(sasl_plain_split(trailing, sizeof(trailing) - 1, &a,
	    &p), -1);
	assert_null(a);
	assert_null(p);
}

/* RFC 2195 section 2, the example exchange. */
static void
test_cram_md5_rfc2195(void **state)
{
	static const char	 line[] =
	    "tim b913a602c7eda7a495b4e6e7334d3890";
	const char		*challenge =
	    "<1896.697170952@postoffice.reston.mci.net>";
	char			*c64, *r, *dec;
	size_t			 n;

	c64 = sasl_b64_encode(challenge, strlen(challenge));
	assert_non_null(c64);
	/* The challenge as the RFC prints it on the wire. */
	assert_string_equal(c64,
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
	r = sasl_cram_md5_response(c64, "tim", "tanstaaftanstaaf");
	assert_non_null(r);
	assert_string_equal(r,
	    "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
	dec = sasl_b64_decode(r, &n);
	assert_non_null(dec);
	assert_int_equal(n, sizeof(line) - 1);
	assert_memory_equal(dec, line, sizeof(line) - 1);
	free(dec);
	free(r);

	/* Another password gives another digest. */
	r = sasl_cram_md5_response(c64, "tim", "tanstaaftanstaafX");
	assert_non_null(r);
	assert_string_not_equal(r,
	    "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
	free(r);
	free(c64);
}

static void
test_cram_md5_bad_challenge(void **state)
{
	assert_null(sasl_cram_md5_response("not base64!", "tim", "pw"));
	assert_null(sasl_cram_md5_response("PDE4OTYu*", "tim", "pw"));
}

/* Google's XOAUTH2 documentation, its example request. */
static void
test_xoauth2_google_example(void **state)
{
	char	*r;

	r = sasl_xoauth2_response("someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
	assert_non_null(r);
	assert_string_equal(r, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJl"
	    "YXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0"
	    "Q2cBAQ==");
	free(r);
}

/* RFC 7628 section 4.1, the example's initial client response. */
static void
test_oauthbearer_rfc7628(void **state)
{
	char	*r, *dec;
	size_t	 n;

	r = sasl_oauthbearer_response("user@example.com", "server.example.com",
	    143, "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==");
	assert_non_null(r);
	assert_string_equal(r, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVy"
	    "LmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52"
	    "YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	free(r);
	/* ',' and '=' in the authzid are escaped as in RFC 5802. */
	r = sasl_oauthbearer_response("a,b=c", "h", 587, "t");
	assert_non_null(dec = sasl_b64_decode(r, &n));
	assert_string_equal(dec,
	    "n,a=a=2Cb=3Dc,\001host=h\001port=587\001auth=Bearer t\001\001");
	free(dec);
	free(r);
}

static void
test_oauth_error_status(void **state)
{
	static const struct {
		const char	*json, *want;
	} v[] = {
		{ "{\"status\":\"401\",\"schemes\":\"Bearer\","
		    "\"scope\":\"https://mail.google.com/\"}", "401" },
		{ "{\"status\":\"invalid_token\",\"scope\":\"x\"}",
		    "invalid_token" },
		{ "{\"status\":401}", "401" },
		{ "not json", "?" },
		{ "[\"status\"]", "?" },
		{ "{\"status\":\"a b\\u0001\"}", "a?b?" },
	};
	char	buf[16];
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sasl_oauth_error_status(v[i].json, strlen(v[i].json), buf,
		    sizeof(buf));
		assert_string_equal(buf, v[i].want);
	}
	/* Cut to the buffer, always terminated. */
	sasl_oauth_error_status("{\"status\":\"0123456789abcdefghij\"}", 33,
	    buf, 8);
	assert_string_equal(buf, "0123456");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_rfc4648_vectors),
		cmocka_unit_test(test_b64_binary_round_trip),
		cmocka_unit_test(test_b64_decode_refuses_garbage),
		cmocka_unit_test(test_b64_decode_refuses_misplaced_padding),
		cmocka_unit_test(test_plain_response),
		cmocka_unit_test(test_plain_split_good),
		cmocka_unit_test(test_plain_split_missing_nul),
		cmocka_unit_test(test_plain_split_extra_nul),
		cmocka_unit_test(test_cram_md5_rfc2195),
		cmocka_unit_test(test_cram_md5_bad_challenge),
		cmocka_unit_test(test_xoauth2_google_example),
		cmocka_unit_test(test_oauthbearer_rfc7628),
		cmocka_unit_test(test_oauth_error_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
