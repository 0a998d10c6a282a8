# nm_mock.sh - a mock NetworkManager for end-to-end scenarios; source it
# after common.sh.  It runs tests/lib/nm_mock.py (python-dbusmock's
# NetworkManager, extended) on a private system bus of the test's own, and
# exports DBUS_SYSTEM_BUS_ADDRESS so that a roamsmtpd started afterwards
# finds it through libnm.  Both processes join PIDS, so common.sh's cleanup
# stops them; their logs stay in $T/nm/ (bus.log, mock.log).
#
#	nm_mock_start
#	nm wifi --id Home --uuid "$HOME_UUID" --ssid HomeWifi \
#	    --bssid 00:11:22:33:44:55 --addr 192.168.1.23/24 \
#	    --gw 192.168.1.1 --dns home.lan --primary
#	nm connectivity full
#	nm down "$HOME_UUID"          (or: nm down --all)
#	nm ethernet --id Office --uuid "$U" --iface eth1 --addr ... --primary
#	nm vpn --id "Corp VPN" --uuid "$V" --parent "$U" --addr ... --primary
#	nm primary "$U" | none;  nm metered yes|no|guess-yes|guess-no|unknown
#	nm ip "$U" --addr ... --gw ... --dns ...   (replace its IP configs)
#	nm_mock_nm_stop; nm_mock_nm_start          (NetworkManager restarts)
#
# Every nm command returns once the mock has sent its D-Bus signals; wait
# for their effect on the daemon with wait_for, never with sleep.

NM_MOCK_PY=$LIB/nm_mock.py

nm() {
	"$PY" "$NM_MOCK_PY" "$@"
}

nm_mock_start() {
	eval "$("$PY" "$NM_MOCK_PY" start "$T/nm")"
	PIDS+=("$NM_MOCK_PID" "$NM_MOCK_BUS_PID")
}

# NetworkManager leaves the bus (libnm: nm-running false) ...
nm_mock_nm_stop() {
	nm nm-stop "$NM_MOCK_DIR"
}

# ... and comes back with no connection and connectivity "none".
nm_mock_nm_start() {
	NM_MOCK_PID=$(nm nm-start "$NM_MOCK_DIR")
	PIDS+=("$NM_MOCK_PID")
}
