#!/usr/bin/python3
'''nm_mock.py - a NetworkManager for tests, on a private system bus.

This file is two things:

1. A python-dbusmock template (loaded by "python3 -m dbusmock --template
   nm_mock.py"): dbusmock's own "networkmanager" template, plus what libnm
   reads and that template lacks (PrimaryConnection, Metered, IP4Config and
   IP6Config objects, the Wi-Fi device's ActiveAccessPoint), plus a few
   high-level mock methods that change "where the laptop is" in one D-Bus
   call each: Connect, Disconnect, SetPrimary, SetIp, SetMetered,
   SetConnectivity.

2. A command line to run it and drive it:

     eval "$(/usr/bin/python3 nm_mock.py start DIR)"
         starts a dbus-daemon (private, session-like config) and the mock on
         it; prints DBUS_SYSTEM_BUS_ADDRESS, NM_MOCK_DIR, NM_MOCK_BUS_PID,
         NM_MOCK_PID as shell assignments (and exports the first two).
         DIR/bus-address holds the address too; DIR/mock.log the mock's log.
     nm_mock.py stop DIR              stop both
     nm_mock.py nm-stop DIR           NetworkManager goes away (name lost)
     nm_mock.py nm-start DIR          ... and comes back, with no connection

   The rest talk to the mock on $DBUS_SYSTEM_BUS_ADDRESS:

     nm_mock.py wifi --id ID --uuid UUID --ssid SSID --bssid MAC [IP...]
     nm_mock.py ethernet --id ID --uuid UUID [--iface eth0] [IP...]
     nm_mock.py vpn --id ID --uuid UUID [--parent UUID] [IP...]
         IP: --addr A/P (repeatable, v4 or v6) --gw ADDR --gw6 ADDR
             --dns DOMAIN (repeatable; search domains) --primary
         Activates a connection (the device, access point, settings
         connection, IP configs and active connection it needs are made
         on the way).
     nm_mock.py down UUID | --all     deactivate
     nm_mock.py primary UUID | none
     nm_mock.py ip UUID [IP...]       replace a connection's IP configs
     nm_mock.py connectivity unknown|none|portal|limited|full
     nm_mock.py metered unknown|yes|no|guess-yes|guess-no

Each change is made in the mock in the order a real NetworkManager makes
it: objects first, then the properties that point to them, so libnm never
sees a path to an object that does not exist yet.
'''

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import dbus
import dbus.service

# ---------------------------------------------------------------- template
#
# dbusmock reads these names from the template module.

BUS_NAME = 'org.freedesktop.NetworkManager'
MAIN_OBJ = '/org/freedesktop'
MAIN_IFACE = 'org.freedesktop.NetworkManager'
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

NM = '/org/freedesktop/NetworkManager'
NM_IFACE = 'org.freedesktop.NetworkManager'
DEVICE_IFACE = NM_IFACE + '.Device'
WIRELESS_IFACE = NM_IFACE + '.Device.Wireless'
WIRED_IFACE = NM_IFACE + '.Device.Wired'
AP_IFACE = NM_IFACE + '.AccessPoint'
AC_IFACE = NM_IFACE + '.Connection.Active'
VPN_IFACE = NM_IFACE + '.VPN.Connection'
IP4_IFACE = NM_IFACE + '.IP4Config'
IP6_IFACE = NM_IFACE + '.IP6Config'
SETTINGS = NM + '/Settings'
SETTINGS_IFACE = NM_IFACE + '.Settings'
CONN_IFACE = NM_IFACE + '.Settings.Connection'
MOCK_IFACE = 'org.freedesktop.DBus.Mock'

DEV_ETHERNET, DEV_WIFI = 1, 2
DEV_DISCONNECTED, DEV_ACTIVATED = 30, 100
AC_ACTIVATED = 2
STATE_DISCONNECTED, STATE_GLOBAL = 20, 70
CONNECTIVITY = {'unknown': 0, 'none': 1, 'portal': 2, 'limited': 3,
                'full': 4}
METERED = {'unknown': 0, 'yes': 1, 'no': 2, 'guess-yes': 3, 'guess-no': 4}
TYPES = {'wifi': '802-11-wireless', 'ethernet': '802-3-ethernet',
         'vpn': 'vpn'}
ROOT = dbus.ObjectPath('/')


def load(mock, parameters):
    '''dbusmock calls this once, on the main object (/org/freedesktop).'''
    import dbusmock  # pylint: disable=import-outside-toplevel
    from dbusmock.templates import networkmanager
    params = dict(parameters)
    params.setdefault('Version', '1.42.0')
    params.setdefault('Connectivity', dbus.UInt32(CONNECTIVITY['none']))
    params.setdefault('State', dbus.UInt32(STATE_DISCONNECTED))
    networkmanager.load(mock, params)
    dbusmock.get_object(NM).AddProperties(NM_IFACE, {
        'PrimaryConnection': ROOT,
        'PrimaryConnectionType': '',
        'ActivatingConnection': ROOT,
        'Metered': dbus.UInt32(METERED['unknown']),
        'Capabilities': dbus.Array([], signature='u'),
        'AllDevices': dbus.Array([], signature='o'),
        'Checkpoints': dbus.Array([], signature='o'),
        'ConnectivityCheckAvailable': False,
        'ConnectivityCheckEnabled': False,
        'ConnectivityCheckUri': '',
    })
    # The mock's bookkeeping: uuid -> what was made for that connection.
    mock.nm_conns = {}
    mock.nm_serial = 0


def _obj(path):
    import dbusmock  # pylint: disable=import-outside-toplevel
    return dbusmock.get_object(path)


def _next(self, kind):
    self.nm_serial += 1
    return f'{NM}/{kind}/{self.nm_serial}'


def _add(self, path, iface, props, extra=None):
    '''Make an object with all its interfaces, then announce it.'''
    self.AddObject(path, iface, props, [])
    for xiface, xprops in (extra or {}).items():
        _obj(path).AddProperties(xiface, xprops)
    self.object_manager_emit_added(path)


def _remove(self, path):
    self.object_manager_emit_removed(path)
    self.RemoveObject(path)


def _set(path, iface, props):
    '''Change properties and say so in one PropertiesChanged.'''
    obj = _obj(path)
    for k, v in props.items():
        obj.props[iface][k] = v
    obj.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
                   [iface, dbus.Dictionary(props, signature='sv'),
                    dbus.Array([], signature='s')])


def _ip_props(family, ip):
    data = []
    for a in ip.get('addresses', []):
        addr, _, prefix = a.partition('/')
        if (':' in addr) != (family == 6):
            continue
        data.append(dbus.Dictionary({
            'address': dbus.String(addr),
            'prefix': dbus.UInt32(int(prefix or (128 if family == 6 else 32))),
        }, signature='sv'))
    gw = ip.get('gateway6' if family == 6 else 'gateway', '')
    domains = ip.get('domains', [])
    return {
        'AddressData': dbus.Array(data, signature='a{sv}'),
        'Gateway': dbus.String(gw),
        'RouteData': dbus.Array([], signature='a{sv}'),
        'NameserverData' if family == 4 else 'Nameservers':
            dbus.Array([], signature='a{sv}' if family == 4 else 'ay'),
        'Domains': dbus.Array(domains, signature='s'),
        'Searches': dbus.Array(domains, signature='s'),
        'DnsOptions': dbus.Array([], signature='s'),
        'DnsPriority': dbus.Int32(100),
    }


def _device(self, kind, iface):
    '''The device named iface, made on first use.'''
    for path in _obj(NM).props[NM_IFACE]['Devices']:
        if _obj(path).props[DEVICE_IFACE]['Interface'] == iface:
            return path
    path = _next(self, 'Devices')
    mac = '02:00:00:00:00:%02x' % (self.nm_serial & 0xff)
    common = {
        'DeviceType': dbus.UInt32(DEV_WIFI if kind == 'wifi'
                                  else DEV_ETHERNET),
        'State': dbus.UInt32(DEV_DISCONNECTED),
        'StateReason': (dbus.UInt32(DEV_DISCONNECTED), dbus.UInt32(0)),
        'Interface': iface,
        'IpInterface': iface,
        'Driver': 'nm_mock',
        'Managed': True,
        'Autoconnect': True,
        'Real': True,
        'HwAddress': mac,
        'ActiveConnection': ROOT,
        'AvailableConnections': dbus.Array([], signature='o'),
        'Ip4Config': ROOT,
        'Ip6Config': ROOT,
        'Dhcp4Config': ROOT,
        'Dhcp6Config': ROOT,
        'Metered': dbus.UInt32(METERED['unknown']),
    }
    if kind == 'wifi':
        _add(self, path, WIRELESS_IFACE, {
            'HwAddress': mac,
            'PermHwAddress': mac,
            'Mode': dbus.UInt32(2),
            'Bitrate': dbus.UInt32(54000),
            'WirelessCapabilities': dbus.UInt32(0xff),
            'AccessPoints': dbus.Array([], signature='o'),
            'ActiveAccessPoint': ROOT,
        }, {DEVICE_IFACE: common})
        _obj(path).access_points = []
    else:
        _add(self, path, WIRED_IFACE, {
            'HwAddress': mac,
            'PermHwAddress': mac,
            'Speed': dbus.UInt32(1000),
            'Carrier': True,
        }, {DEVICE_IFACE: common})
    devices = list(_obj(NM).props[NM_IFACE]['Devices']) + [path]
    _set(NM, NM_IFACE, {'Devices': dbus.Array(devices, signature='o'),
                        'AllDevices': dbus.Array(devices, signature='o')})
    _obj(NM).EmitSignal(NM_IFACE, 'DeviceAdded', 'o', [path])
    return path


def _access_point(self, dev, ssid, bssid):
    for path in _obj(dev).props[WIRELESS_IFACE]['AccessPoints']:
        if _obj(path).props[AP_IFACE]['HwAddress'].lower() == bssid.lower():
            _set(path, AP_IFACE,
                 {'Ssid': dbus.ByteArray(ssid.encode('utf-8'))})
            return path
    path = _next(self, 'AccessPoint')
    _add(self, path, AP_IFACE, {
        'Ssid': dbus.ByteArray(ssid.encode('utf-8')),
        'HwAddress': bssid,
        'Flags': dbus.UInt32(1),
        'WpaFlags': dbus.UInt32(0),
        'RsnFlags': dbus.UInt32(0x188),
        'Frequency': dbus.UInt32(2412),
        'MaxBitrate': dbus.UInt32(54000),
        'Mode': dbus.UInt32(2),
        'Strength': dbus.Byte(80),
        'LastSeen': dbus.Int32(1),
    })
    aps = list(_obj(dev).props[WIRELESS_IFACE]['AccessPoints']) + [path]
    _set(dev, WIRELESS_IFACE, {'AccessPoints': dbus.Array(aps, signature='o')})
    _obj(dev).EmitSignal(WIRELESS_IFACE, 'AccessPointAdded', 'o', [path])
    return path


def _settings_connection(self, spec):
    from dbusmock.templates import networkmanager  # pylint: disable=import-outside-toplevel
    path = _next(self, 'Settings')
    settings = {'connection': {'id': spec['id'], 'uuid': spec['uuid'],
                               'type': TYPES[spec['type']]}}
    if spec['type'] == 'wifi':
        settings['802-11-wireless'] = {
            'ssid': dbus.ByteArray(spec['ssid'].encode('utf-8'))}
    self.AddObject(path, CONN_IFACE, {'Unsaved': False, 'Flags':
                                      dbus.UInt32(0), 'Filename': ''}, [
        ('GetSettings', '', 'a{sa{sv}}',
         'ret = self.ConnectionGetSettings(self)'),
        ('GetSecrets', 's', 'a{sa{sv}}',
         'ret = self.ConnectionGetSecrets(self, args[0])'),
    ])
    obj = _obj(path)
    obj.settings = settings
    obj.connection_path = path
    obj.ConnectionGetSettings = networkmanager.ConnectionGetSettings
    obj.ConnectionGetSecrets = networkmanager.ConnectionGetSecrets
    self.object_manager_emit_added(path)
    conns = list(_obj(SETTINGS).props[SETTINGS_IFACE]['Connections'])
    _set(SETTINGS, SETTINGS_IFACE,
         {'Connections': dbus.Array(conns + [path], signature='o')})
    _obj(SETTINGS).EmitSignal(SETTINGS_IFACE, 'NewConnection', 'o', [path])
    return path


def _global_state(self):
    acs = _obj(NM).props[NM_IFACE]['ActiveConnections']
    state = STATE_GLOBAL if acs else STATE_DISCONNECTED
    if _obj(NM).props[NM_IFACE]['State'] != state:
        _set(NM, NM_IFACE, {'State': dbus.UInt32(state)})
        _obj(NM).EmitSignal(NM_IFACE, 'StateChanged', 'u',
                            [dbus.UInt32(state)])


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='s')
def Connect(self, spec_json):
    '''Activate a connection described by a JSON object: type (wifi,
    ethernet, vpn), id, uuid, iface, ssid, bssid (wifi), parent (vpn: the
    uuid of the connection it runs over), ip {addresses, gateway, gateway6,
    domains}, primary.  Returns the active connection's path.'''
    spec = json.loads(spec_json)
    if spec['uuid'] in self.nm_conns:
        Disconnect(self, spec['uuid'])
    kind = spec['type']
    ip = spec.get('ip', {})
    rec = {'spec': spec, 'devices': [], 'ap': None}

    rec['ip4'] = _next(self, 'IP4Config')
    _add(self, rec['ip4'], IP4_IFACE, _ip_props(4, ip))
    rec['ip6'] = _next(self, 'IP6Config')
    _add(self, rec['ip6'], IP6_IFACE, _ip_props(6, ip))
    if kind == 'wifi':
        dev = _device(self, kind, spec.get('iface', 'wlan0'))
        rec['ap'] = _access_point(self, dev, spec['ssid'], spec['bssid'])
        rec['devices'] = [dev]
    elif kind == 'ethernet':
        rec['devices'] = [_device(self, kind, spec.get('iface', 'eth0'))]
    elif spec.get('parent'):
        rec['devices'] = list(self.nm_conns[spec['parent']]['devices'])
    rec['settings'] = _settings_connection(self, spec)

    rec['ac'] = _next(self, 'ActiveConnection')
    extra = {}
    if kind == 'vpn':
        extra[VPN_IFACE] = {'VpnState': dbus.UInt32(5), 'Banner': ''}
    _add(self, rec['ac'], AC_IFACE, {
        'Connection': dbus.ObjectPath(rec['settings']),
        'SpecificObject': dbus.ObjectPath(rec['ap'] or '/'),
        'Id': spec['id'],
        'Uuid': spec['uuid'],
        'Type': TYPES[kind],
        'Devices': dbus.Array(rec['devices'], signature='o'),
        'State': dbus.UInt32(AC_ACTIVATED),
        'StateFlags': dbus.UInt32(0),
        'Default': bool(spec.get('primary')),
        'Default6': False,
        'Vpn': kind == 'vpn',
        'Ip4Config': dbus.ObjectPath(rec['ip4']),
        'Ip6Config': dbus.ObjectPath(rec['ip6']),
        'Dhcp4Config': ROOT,
        'Dhcp6Config': ROOT,
        'Master': ROOT,
    }, extra)

    if kind != 'vpn':
        dev = rec['devices'][0]
        old = _obj(dev).props[DEVICE_IFACE]['State']
        _set(dev, DEVICE_IFACE, {
            'ActiveConnection': dbus.ObjectPath(rec['ac']),
            'Ip4Config': dbus.ObjectPath(rec['ip4']),
            'Ip6Config': dbus.ObjectPath(rec['ip6']),
            'State': dbus.UInt32(DEV_ACTIVATED),
            'StateReason': (dbus.UInt32(DEV_ACTIVATED), dbus.UInt32(0)),
        })
        _obj(dev).EmitSignal(DEVICE_IFACE, 'StateChanged', 'uuu', [
            dbus.UInt32(DEV_ACTIVATED), old, dbus.UInt32(0)])
        if rec['ap']:
            _set(dev, WIRELESS_IFACE,
                 {'ActiveAccessPoint': dbus.ObjectPath(rec['ap'])})
    self.nm_conns[spec['uuid']] = rec
    acs = list(_obj(NM).props[NM_IFACE]['ActiveConnections'])
    _set(NM, NM_IFACE, {'ActiveConnections': dbus.Array(acs + [rec['ac']],
                                                        signature='o')})
    _global_state(self)
    if spec.get('primary'):
        SetPrimary(self, spec['uuid'])
    return rec['ac']


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def Disconnect(self, uuid):
    '''Deactivate the connection with this uuid ("" for all).'''
    uuids = [uuid] if uuid else list(self.nm_conns)
    for u in uuids:
        if u not in self.nm_conns:
            raise dbus.exceptions.DBusException(f'no active connection {u}',
                                                name=MOCK_IFACE + '.NotFound')
        rec = self.nm_conns.pop(u)
        if _obj(NM).props[NM_IFACE]['PrimaryConnection'] == rec['ac']:
            SetPrimary(self, '')
        acs = [a for a in _obj(NM).props[NM_IFACE]['ActiveConnections']
               if a != rec['ac']]
        _set(NM, NM_IFACE, {'ActiveConnections': dbus.Array(
            acs, signature='o')})
        for dev in rec['devices']:
            if _obj(dev).props[DEVICE_IFACE]['ActiveConnection'] != rec['ac']:
                continue    # a VPN's parent device
            if WIRELESS_IFACE in _obj(dev).props:
                _set(dev, WIRELESS_IFACE, {'ActiveAccessPoint': ROOT})
            _set(dev, DEVICE_IFACE, {
                'ActiveConnection': ROOT, 'Ip4Config': ROOT,
                'Ip6Config': ROOT, 'State': dbus.UInt32(DEV_DISCONNECTED),
                'StateReason': (dbus.UInt32(DEV_DISCONNECTED),
                                dbus.UInt32(0)),
            })
            _obj(dev).EmitSignal(DEVICE_IFACE, 'StateChanged', 'uuu', [
                dbus.UInt32(DEV_DISCONNECTED), dbus.UInt32(DEV_ACTIVATED),
                dbus.UInt32(0)])
        _global_state(self)
        _remove(self, rec['ac'])
        _remove(self, rec['ip4'])
        _remove(self, rec['ip6'])


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def SetPrimary(self, uuid):
    '''The primary connection (the default route's), by uuid; "" none.'''
    if uuid and uuid not in self.nm_conns:
        raise dbus.exceptions.DBusException(f'no active connection {uuid}',
                                            name=MOCK_IFACE + '.NotFound')
    path, ctype = ROOT, ''
    for u, rec in self.nm_conns.items():
        is_primary = (u == uuid)
        _set(rec['ac'], AC_IFACE, {'Default': is_primary})
        if is_primary:
            path = dbus.ObjectPath(rec['ac'])
            ctype = TYPES[rec['spec']['type']]
    _set(NM, NM_IFACE, {'PrimaryConnection': path,
                        'PrimaryConnectionType': ctype})


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='')
def SetIp(self, uuid, ip_json):
    '''Replace the IP configuration (JSON like Connect's "ip").'''
    rec = self.nm_conns[uuid]
    ip = json.loads(ip_json)
    _set(rec['ip4'], IP4_IFACE, _ip_props(4, ip))
    _set(rec['ip6'], IP6_IFACE, _ip_props(6, ip))


@dbus.service.method(MOCK_IFACE, in_signature='u', out_signature='')
def SetMetered(_self, value):
    _set(NM, NM_IFACE, {'Metered': dbus.UInt32(value)})


@dbus.service.method(MOCK_IFACE, in_signature='u', out_signature='')
def SetConnectivity(_self, value):
    _set(NM, NM_IFACE, {'Connectivity': dbus.UInt32(value)})


# ---------------------------------------------------------------- command line

PY = '/usr/bin/python3'
DEADLINE = 30   # seconds before a start that never comes counts as a hang

BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
'''


def _die(msg):
    print(f'nm_mock: {msg}', file=sys.stderr)
    sys.exit(1)


def _bus(address=None):
    address = address or os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
    if not address:
        _die('DBUS_SYSTEM_BUS_ADDRESS is not set (eval "$(nm_mock.py start DIR)")')
    return dbus.bus.BusConnection(address)


def _mock(address=None):
    return dbus.Interface(_bus(address).get_object(BUS_NAME, MAIN_OBJ),
                          MOCK_IFACE)


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read().strip()


def _start_mock(d, address):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
    with open(os.path.join(d, 'mock.log'), 'ab') as log:
        p = subprocess.Popen(  # pylint: disable=consider-using-with
            [PY, '-m', 'dbusmock', '--system', '--template',
             os.path.abspath(__file__)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
    bus = _bus(address)
    end = time.monotonic() + DEADLINE
    while not bus.name_has_owner(BUS_NAME):
        if p.poll() is not None:
            _die(f'the mock exited with status {p.returncode}; see {d}/mock.log')
        if time.monotonic() > end:
            _die(f'the mock took {DEADLINE}s to appear on the bus')
        time.sleep(0.02)
    # The name is taken before the template's objects exist: wait for them.
    mgr = bus.get_object(BUS_NAME, NM)
    while True:
        try:
            mgr.Get(NM_IFACE, 'PrimaryConnection',
                    dbus_interface=dbus.PROPERTIES_IFACE)
            break
        except dbus.exceptions.DBusException:
            if time.monotonic() > end:
                _die('the mock has no NetworkManager object')
            time.sleep(0.02)
    with open(os.path.join(d, 'mock.pid'), 'w', encoding='utf-8') as f:
        f.write(f'{p.pid}\n')
    return p.pid


def _kill(pidfile):
    try:
        pid = int(_read(pidfile))
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    os.unlink(pidfile)


def cmd_start(args):
    d = os.path.abspath(args[0])
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, 'bus.conf')
    with open(conf, 'w', encoding='utf-8') as f:
        f.write(BUS_CONFIG)
    rfd, wfd = os.pipe()
    with open(os.path.join(d, 'bus.log'), 'ab') as log:
        bus = subprocess.Popen(  # pylint: disable=consider-using-with
            ['dbus-daemon', '--nofork', '--nosyslog', f'--config-file={conf}',
             f'--print-address={wfd}'],
            pass_fds=(wfd,), stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, start_new_session=True)
    os.close(wfd)
    with os.fdopen(rfd) as r:
        address = r.readline().strip()
    if not address:
        _die(f'dbus-daemon gave no address; see {d}/bus.log')
    with open(os.path.join(d, 'bus.pid'), 'w', encoding='utf-8') as f:
        f.write(f'{bus.pid}\n')
    with open(os.path.join(d, 'bus-address'), 'w', encoding='utf-8') as f:
        f.write(address + '\n')
    pid = _start_mock(d, address)
    q = shlex.quote
    print(f'DBUS_SYSTEM_BUS_ADDRESS={q(address)}')
    print(f'NM_MOCK_DIR={q(d)}')
    print(f'NM_MOCK_BUS_PID={bus.pid}')
    print(f'NM_MOCK_PID={pid}')
    print('export DBUS_SYSTEM_BUS_ADDRESS NM_MOCK_DIR')


def cmd_stop(args):
    d = args[0]
    _kill(os.path.join(d, 'mock.pid'))
    _kill(os.path.join(d, 'bus.pid'))


def cmd_nm_stop(args):
    _kill(os.path.join(args[0], 'mock.pid'))


def cmd_nm_start(args):
    d = os.path.abspath(args[0])
    print(_start_mock(d, _read(os.path.join(d, 'bus-address'))))


def _ip_args(args):
    '''--addr A/P --gw G --gw6 G --dns D --primary; returns (ip, primary,
    the rest).'''
    ip = {'addresses': [], 'gateway': '', 'gateway6': '', 'domains': []}
    primary, rest = False, {}
    it = iter(args)
    for a in it:
        if a == '--primary':
            primary = True
            continue
        try:
            v = next(it)
        except StopIteration:
            _die(f'{a} needs a value')
        if a == '--addr':
            ip['addresses'].append(v)
        elif a == '--gw':
            ip['gateway'] = v
        elif a == '--gw6':
            ip['gateway6'] = v
        elif a == '--dns':
            ip['domains'].append(v)
        elif a.startswith('--'):
            rest[a[2:]] = v
        else:
            _die(f'unexpected argument {a}')
    return ip, primary, rest


def cmd_connect(kind, args):
    ip, primary, rest = _ip_args(args)
    need = {'wifi': ('id', 'uuid', 'ssid', 'bssid'),
            'ethernet': ('id', 'uuid'), 'vpn': ('id', 'uuid')}[kind]
    for k in need:
        if k not in rest:
            _die(f'{kind} needs --{k}')
    spec = dict(rest, type=kind, ip=ip, primary=primary)
    print(_mock().Connect(json.dumps(spec)))


def cmd_down(args):
    if args == ['--all']:
        _mock().Disconnect('')
    elif len(args) == 1:
        _mock().Disconnect(args[0])
    else:
        _die('usage: down UUID | --all')


def cmd_primary(args):
    _mock().SetPrimary('' if args[0] == 'none' else args[0])


def cmd_ip(args):
    ip, _, rest = _ip_args(args[1:])
    if rest:
        _die(f'ip: unexpected --{next(iter(rest))}')
    _mock().SetIp(args[0], json.dumps(ip))


def cmd_connectivity(args):
    if args[0] not in CONNECTIVITY:
        _die(f'connectivity is one of {", ".join(CONNECTIVITY)}')
    _mock().SetConnectivity(dbus.UInt32(CONNECTIVITY[args[0]]))


def cmd_metered(args):
    if args[0] not in METERED:
        _die(f'metered is one of {", ".join(METERED)}')
    _mock().SetMetered(dbus.UInt32(METERED[args[0]]))


def main(argv):
    cmds = {
        'start': (cmd_start, 1), 'stop': (cmd_stop, 1),
        'nm-stop': (cmd_nm_stop, 1), 'nm-start': (cmd_nm_start, 1),
        'wifi': (lambda a: cmd_connect('wifi', a), 0),
        'ethernet': (lambda a: cmd_connect('ethernet', a), 0),
        'vpn': (lambda a: cmd_connect('vpn', a), 0),
        'down': (cmd_down, 1), 'primary': (cmd_primary, 1),
        'ip': (cmd_ip, 1), 'connectivity': (cmd_connectivity, 1),
        'metered': (cmd_metered, 1),
    }
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    fn, nargs = cmds[argv[1]]
    if len(argv) - 2 < nargs:
        _die(f'{argv[1]} needs {nargs} argument(s)')
    try:
        fn(argv[2:])
    except dbus.exceptions.DBusException as e:
        _die(f'{argv[1]}: {e.get_dbus_message()}')


if __name__ == '__main__':
    main(sys.argv)
