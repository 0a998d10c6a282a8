#!/bin/bash
# hostile_upstream_certs: upstreams whose certificate must not be trusted,
# each on STARTTLS with AUTH offered only after it: an expired certificate
# signed by the profile's CA, one for another name, a self-signed one with
# no pin, and one from another CA.  Each time the message is queued (250
# queued as ID), stays queued after a retry with a last_error about the
# certificate, and the upstream sees no AUTH, no MAIL and no message; the
# password never appears in the log.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
# Expired: valid for ten days that ended yesterday, signed by the test CA.
"$PY" - "$T/certs" <<'PYEOF'
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
d = sys.argv[1]
ca_key = serialization.load_pem_private_key(open(f"{d}/ca.key", "rb").read(), None)
ca = x509.load_pem_x509_certificate(open(f"{d}/ca.crt", "rb").read())
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired")]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=10))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(ca_key, hashes.SHA256()))
open(f"{d}/expired.crt", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(f"{d}/expired.key", "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()))
PYEOF

write_secret "$T/pass" Cert-pw-9
start_daemon
n=0
faults=0
for cert in expired wrongname selfsigned wrongca-server; do
	n=$((n + 1))
	step "certificate: $cert"
	up=$(free_port)
	name=u$n
	start_upstream "$name" "$up" \
	    --starttls "$T/certs/$cert.crt" "$T/certs/$cert.key" \
	    --auth alice:Cert-pw-9 --auth-require-tls
	rm -f "$PROFILES"/*.conf
	write_profile home <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = starttls
auth = plain
user = alice
password-file = $T/pass
ca-file = $T/certs/ca.crt
EOC
	ctl_ok reload
	make_message "$T/$cert.eml" "cert $cert"
	smtplib send --from alice@example.org --to bob@example.net "$T/$cert.eml"
	client_ok
	assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$CLIENT_OUT" \
	    "reply with a $cert certificate"
	id=$(queued_id)
	ctl_ok retry "$id"
	wait_queue_error "$id"
	assert_eq queued "$(queue_field "$id" state)" "state of $id"
	assert_match '[Cc]ertificate|[Hh]ost ?name|name mismatch|expired|verif' \
	    "$(queue_field "$id" last_error)" "last_error with a $cert certificate"
	assert_eq 0 "$(upstream_count "$name")" "messages at the $cert upstream"
	assert_eq 0 "$(upstream_events "$name" AUTH)" "AUTH at the $cert upstream"
	assert_eq 0 "$(upstream_events "$name" MAIL)" "MAIL at the $cert upstream"
	stop_upstream "$name"
	ctl_ok delete "$id"
	faults=$((faults + 1))
done
assert_no_grep 'Cert-pw-9' "$DAEMON_LOG" "password in the daemon log"
printf 'FIGURES hostile_certs faults=%s survived=%s\n' "$faults" "$faults"
pass
