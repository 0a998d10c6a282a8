# dovecot.sh - a Dovecot POP3 server for the POP-before-SMTP scenarios;
# source it after common.sh (and make_certs).
# shellcheck shell=bash
#
#	dovecot_start USER PASSWORD CERTDIR [NMSG]
#
# starts Dovecot's POP3 server (dovecot-pop3d) on 127.0.0.1 with a config of
# its own (nothing of /etc/dovecot is read): a passwd-file with one user,
# whose maildir holds NMSG messages (default 2); POP3 with STLS on
# $DOVECOT_POP3_PORT and POP3S on $DOVECOT_POP3S_PORT, with CERTDIR's
# server.crt (the test CA's, for localhost and 127.0.0.1); APOP offered.
# Every good login runs a post-login script (service pop3 { executable =
# pop3 postlogin }) that appends a line to $DOVECOT_LOGINS: the upstream's
# --pop-window reads that file's age, as a provider's POP-before-SMTP
# database would.
#
#	dovecot_logins          logins recorded so far
#	dovecot_mailbox         the mailbox's messages, one base name a line,
#	                        sorted (Dovecot may move a message from new/ to
#	                        cur/ and add flags; its name stays)
#
# Without dovecot, or not as root, the scenario is skipped (exit 77, as
# ctest's SKIP_RETURN_CODE).  Dovecot runs as root (its master must) with default_internal_user and
# default_login_user set to the system's dovecot and dovenull; mail and the
# login record belong to nobody.  Its sockets live in a short folder under
# /tmp (a Unix socket path holds 107 bytes), removed on exit.

DOVECOT_DIR=
DOVECOT_BASE=
DOVECOT_PID=
DOVECOT_POP3_PORT=
DOVECOT_POP3S_PORT=
DOVECOT_LOGINS=
DOVECOT_MAILDIR=

_dovecot_exit() {
	local rc=$?
	[ -z "$DOVECOT_PID" ] || _stop_pid "$DOVECOT_PID"
	if [ "$rc" -ne 0 ] && [ -n "$DOVECOT_DIR" ]; then
		_show "dovecot log" "$DOVECOT_DIR/log"
		_show "dovecot logins" "$DOVECOT_LOGINS"
	fi
	[ -z "$DOVECOT_BASE" ] || rm -rf "$DOVECOT_BASE"
	(exit "$rc")
	cleanup
}
trap _dovecot_exit EXIT

_dovecot_ready() {
	kill -0 "$DOVECOT_PID" 2>/dev/null || {
		_show "dovecot log" "$DOVECOT_DIR/log"
		fail "dovecot exited while starting"
	}
	"$PY" - "$DOVECOT_POP3_PORT" "$DOVECOT_POP3S_PORT" <<'EOF' 2>/dev/null
import socket, sys
for port in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
EOF
}

dovecot_start() {
	local user=$1 password=$2 certs=$3 nmsg=${4:-2} i
	local why=
	command -v dovecot >/dev/null ||
	    why="missing dovecot (packaging/install-deps.sh test)"
	# Dovecot's master runs as root, as the package's does.
	[ -n "$why" ] || [ "$(id -u)" -eq 0 ] || why="Dovecot needs root"
	if [ -n "$why" ]; then
		printf 'SKIP %s: %s\n' "$TEST_NAME" "$why"
		exit 77
	fi
	DOVECOT_DIR=$T/dovecot
	DOVECOT_BASE=$(mktemp -d /tmp/dovecot.XXXXXX)
	DOVECOT_POP3_PORT=$(free_port)
	DOVECOT_POP3S_PORT=$(free_port)
	DOVECOT_LOGINS=$DOVECOT_DIR/record/logins
	DOVECOT_MAILDIR=$DOVECOT_DIR/mail/$user/Maildir
	mkdir -p "$DOVECOT_DIR/state" "$DOVECOT_DIR/record" \
	    "$DOVECOT_MAILDIR"/{new,cur,tmp}
	# The mail user (nobody) must reach its maildir and the record.
	chmod 711 "$T" "$DOVECOT_DIR"
	for i in $(seq "$nmsg"); do
		printf '%s\r\n' "From: postmaster@pop.test" "To: $user@pop.test" \
		    "Subject: mail waiting $i" "" "Message $i, never to be fetched." \
		    > "$DOVECOT_MAILDIR/new/100000000$i.M${i}P1.pop.test"
	done
	chown -R nobody:nogroup "$DOVECOT_DIR/mail"
	# The post-login script runs as the postlogin service's user.
	chmod 1777 "$DOVECOT_DIR/record"
	printf '%s:{PLAIN}%s:65534:65534::%s::\n' "$user" "$password" \
	    "$DOVECOT_DIR/mail/$user" > "$DOVECOT_DIR/passwd"
	cat > "$DOVECOT_DIR/postlogin.sh" <<EOF
#!/bin/sh
# A provider's POP-before-SMTP database: who logged in, from where, when.
echo "\$(date +%s) \$USER \$IP" >> "$DOVECOT_LOGINS"
exec "\$@"
EOF
	chmod 755 "$DOVECOT_DIR/postlogin.sh"
	cat > "$DOVECOT_DIR/dovecot.conf" <<EOF
base_dir = $DOVECOT_BASE
state_dir = $DOVECOT_DIR/state
instance_name = roamsmtp-test-$$
protocols = pop3
listen = 127.0.0.1
log_path = $DOVECOT_DIR/log
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 65534
auth_mechanisms = plain apop
disable_plaintext_auth = no
ssl = yes
ssl_cert = <$certs/server.crt
ssl_key = <$certs/server.key
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT_DIR/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $DOVECOT_DIR/passwd
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DOVECOT_POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $DOVECOT_POP3S_PORT
    ssl = yes
  }
}
service pop3 {
  executable = pop3 postlogin
}
service postlogin {
  executable = script-login $DOVECOT_DIR/postlogin.sh
  user = \$default_internal_user
  unix_listener postlogin {
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
EOF
	dovecot -F -c "$DOVECOT_DIR/dovecot.conf" >> "$DOVECOT_DIR/stderr" 2>&1 &
	DOVECOT_PID=$!
	PIDS+=("$DOVECOT_PID")
	wait_for "Dovecot's POP3 ports" _dovecot_ready
}

dovecot_logins() {
	local n=0
	[ ! -f "$DOVECOT_LOGINS" ] || n=$(wc -l < "$DOVECOT_LOGINS")
	echo "$n"
}

dovecot_mailbox() {
	find "$DOVECOT_MAILDIR/new" "$DOVECOT_MAILDIR/cur" -type f \
	    -printf '%f\n' | sed 's/:.*//' | sort
}
