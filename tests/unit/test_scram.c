/*
 * test_scram.c - the SCRAM-SHA-256 client against the worked exchange of
 * RFC 7677 section 3 (user "user", password "pencil"), then everything a
 * server (or someone in the path) can get wrong: a wrong signature, a
 * nonce that does not extend ours, a mandatory extension, iteration counts
 * out of bounds, an e= error; and the ASCII-only SASLprep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scram.h"

#define RFC_NONCE	"rOprNGfwEbeRWgbNEkqO"
#define RFC_SFIRST	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
			"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CFINAL	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)" \
			"hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SFINAL	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* Start with the RFC's nonce and answer server_first; returns what
 * scram_client_final returned, with the message in *out. */
static int
run_to_final(struct scram_client *s, const char *server_first,
    const char *password, char **out, char *err, size_t errlen)
{
	char	*first;

	assert_int_equal(scram_client_start(s, "user", RFC_NONCE, &first, err,
	    errlen), 0);
	free(first);
	return scram_client_final(s, server_first, strlen(server_first),
	    password, out, err, errlen);
}

static void
test_rfc7677_exchange(void **state)
{
	struct scram_client	 s;
	char			*first, *final, err[256];

	assert_int_equal(scram_client_start(&s, "user", RFC_NONCE, &first, err,
	    sizeof(err)), 0);
	assert_string_equal(first, "n,,n=user,r=" RFC_NONCE);
	free(first);
	assert_int_equal(scram_client_final(&s, RFC_SFIRST,
	    strlen(RFC_SFIRST), "pencil", &final, err, sizeof(err)), 0);
	assert_string_equal(final, RFC_CFINAL);
	free(final);
	assert_int_equal(scram_client_verify(&s, RFC_SFINAL,
	    strlen(RFC_SFINAL), err, sizeof(err)), 0);
	assert_int_equal(s.step, SCRAM_VERIFIED);
	scram_client_clear(&s);
	scram_client_clear(&s);		/* twice is harmless */
}

/* One changed character of the server's signature fails the login. */
static void
test_wrong_server_signature(void **state)
{
	struct scram_client	 s;
	char			*final, err[256];
	const char		*bad = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	const char		*short_sig = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5n";

	assert_int_equal(run_to_final(&s, RFC_SFIRST, "pencil", &final, err,
	    sizeof(err)), 0);
	free(final);
	assert_int_equal(scram_client_verify(&s, bad, strlen(bad), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "signature is wrong"));
	assert_int_not_equal(s.step, SCRAM_VERIFIED);
	/* Not base64 (a length that is no multiple of 4). */
	assert_int_equal(scram_client_verify(&s, short_sig, strlen(short_sig),
	    err, sizeof(err)), -1);
	scram_client_clear(&s);

	/* The right signature for a different password is wrong too. */
	assert_int_equal(run_to_final(&s, RFC_SFIRST, "pencil2", &final, err,
	    sizeof(err)), 0);
	assert_string_not_equal(final, RFC_CFINAL);
	free(final);
	assert_int_equal(scram_client_verify(&s, RFC_SFINAL,
	    strlen(RFC_SFINAL), err, sizeof(err)), -1);
	scram_client_clear(&s);
}

static void
test_server_error_quoted(void **state)
{
	struct scram_client	 s;
	char			*final, err[256];
	const char		*e = "e=invalid-proof";

	assert_int_equal(run_to_final(&s, RFC_SFIRST, "pencil", &final, err,
	    sizeof(err)), 0);
	free(final);
	assert_int_equal(scram_client_verify(&s, e, strlen(e), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid-proof"));
	scram_client_clear(&s);
}

static void
test_bad_server_first(void **state)
{
	static const struct {
		const char	*msg, *why;
	} v[] = {
		/* the server's nonce must start with ours and add to it */
		{ "r=XOprNGfwEbeRWgbNEkqO%hv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		    "does not extend" },
		{ "r=" RFC_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		    "does not extend" },
		{ "m=ext,r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		    "extension" },
		{ "r=" RFC_NONCE "x,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
		    "malformed" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==", "malformed" },
		{ "r=" RFC_NONCE "x,s=***,i=4096", "salt" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095",
		    "4095 SCRAM iterations" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=600001",
		    "600001 SCRAM iterations" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096",
		    "not a number" },
		{ "r=" RFC_NONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
		    "not a number" },
	};
	struct scram_client	 s;
	char			*final, err[256];
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		err[0] = '\0';
		if (run_to_final(&s, v[i].msg, "pencil", &final, err,
		    sizeof(err)) != -1)
			fail_msg("accepted server-first \"%s\"", v[i].msg);
		assert_null(final);
		if (strstr(err, v[i].why) == NULL)
			fail_msg("\"%s\": error \"%s\" lacks \"%s\"", v[i].msg,
			    err, v[i].why);
		scram_client_clear(&s);
	}
}

/* A server-final before client-final is out of order. */
static void
test_out_of_order(void **state)
{
	struct scram_client	 s;
	char			*first, err[256];

	assert_int_equal(scram_client_start(&s, "user", RFC_NONCE, &first, err,
	    sizeof(err)), 0);
	free(first);
	assert_int_equal(scram_client_verify(&s, RFC_SFINAL,
	    strlen(RFC_SFINAL), err, sizeof(err)), -1);
	scram_client_clear(&s);
}

/* ',' and '=' in the user name are escaped (RFC 5802 saslname); a fresh
 * nonce is random and printable. */
static void
test_username_escaped_and_nonce(void **state)
{
	struct scram_client	 s1, s2;
	char			*f1, *f2, err[256];

	assert_int_equal(scram_client_start(&s1, "a=b,c", NULL, &f1, err,
	    sizeof(err)), 0);
	assert_int_equal(strncmp(f1, "n,,n=a=3Db=2Cc,r=", 17), 0);
	assert_int_equal(strlen(f1 + 17), 24);
	assert_null(strchr(f1 + 17, ','));
	assert_int_equal(scram_client_start(&s2, "a=b,c", NULL, &f2, err,
	    sizeof(err)), 0);
	assert_string_not_equal(f1, f2);
	free(f1);
	free(f2);
	scram_client_clear(&s1);
	scram_client_clear(&s2);
}

static void
test_saslprep_ascii_subset(void **state)
{
	struct scram_client	 s;
	char			*out, err[256];

	assert_int_equal(scram_prep_ok("pencil"), 0);
	assert_int_equal(scram_prep_ok("with space ~!"), 0);
	assert_int_equal(scram_prep_ok(""), -1);
	assert_int_equal(scram_prep_ok("tab\there"), -1);
	assert_int_equal(scram_prep_ok("del\x7f"), -1);
	assert_int_equal(scram_prep_ok("caf\xc3\xa9"), -1);	/* café */
	assert_int_equal(scram_client_start(&s, "j\xc3\xbcrgen", NULL, &out,
	    err, sizeof(err)), -1);
	assert_null(out);
	assert_non_null(strstr(err, "auth = plain"));
	scram_client_clear(&s);
	assert_int_equal(run_to_final(&s, RFC_SFIRST, "p\xc3\xa9ncil", &out,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "password of printable ASCII"));
	scram_client_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677_exchange),
		cmocka_unit_test(test_wrong_server_signature),
		cmocka_unit_test(test_server_error_quoted),
		cmocka_unit_test(test_bad_server_first),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_username_escaped_and_nonce),
		cmocka_unit_test(test_saslprep_ascii_subset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
