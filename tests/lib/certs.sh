# certs.sh - test certificates, made with the openssl CLI.  Sourced.
# shellcheck shell=bash
#
#   make_certs DIR    writes into DIR:
#     ca.crt            the test CA (give it to the profile as ca-file)
#     server.crt/.key   signed by ca.crt, for DNS:localhost and IP:127.0.0.1
#     wrongca.crt       another CA
#     wrongca-server.crt/.key   signed by wrongca.crt, right names
#     wrongname.crt/.key        signed by ca.crt, for DNS:wrong.example only
#     selfsigned.crt/.key       self-signed, right names
#   cert_pin CERT     prints "sha256//BASE64" of the certificate's public key
#                     (curl's pinnedpubkey form, the profile's pin =)

# Keys are EC P-256: quick to make, and every TLS stack takes them.
_certs_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
}

# _certs_ca NAME: a CA certificate NAME.crt with key NAME.key.
_certs_ca() {
	_certs_key "$1.key"
	openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 30 \
	    -subj "/CN=roamsmtp test $1" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# _certs_leaf NAME CA SAN: NAME.crt signed by CA (a CA name, or "self").
_certs_leaf() {
	local name=$1 ca=$2 san=$3
	_certs_key "$name.key"
	if [ "$ca" = self ]; then
		openssl req -x509 -new -key "$name.key" -out "$name.crt" \
		    -days 30 -subj "/CN=roamsmtp test $name" \
		    -addext "subjectAltName=$san" 2>/dev/null
		return
	fi
	openssl req -new -key "$name.key" -out "$name.csr" \
	    -subj "/CN=roamsmtp test $name" 2>/dev/null
	printf '%s\n' "subjectAltName=$san" \
	    "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth" > "$name.ext"
	openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" \
	    -CAcreateserial -out "$name.crt" -days 30 \
	    -extfile "$name.ext" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

make_certs() {
	local dir=$1 names="DNS:localhost,IP:127.0.0.1"
	mkdir -p "$dir"
	(
		cd "$dir" || exit 1
		_certs_ca ca
		_certs_ca wrongca
		_certs_leaf server ca "$names"
		_certs_leaf wrongca-server wrongca "$names"
		_certs_leaf wrongname ca "DNS:wrong.example"
		_certs_leaf selfsigned self "$names"
	)
}

cert_pin() {
	printf 'sha256//%s\n' "$(openssl x509 -in "$1" -pubkey -noout |
	    openssl pkey -pubin -outform der |
	    openssl dgst -sha256 -binary | base64)"
}
