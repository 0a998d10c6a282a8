#!/usr/bin/python3
"""tray_sni.py - a StatusNotifier tray host for the tray scenarios, and the
hands that work the tray's menu through D-Bus.

A desktop shows a StatusNotifierItem's icon and menu like this: the item
registers with org.kde.StatusNotifierWatcher on the session bus, a host
reads the item's properties (org.kde.StatusNotifierItem) and its menu, which
libdbusmenu exports as com.canonical.dbusmenu (GetLayout gives the tree,
Event(id, "clicked") is the user's click).  Debian has no watcher outside
the desktop shells, so this is a small one, written from the protocol
descriptions (freedesktop.org StatusNotifierItem; libdbusmenu's
dbus-menu.xml).  Runs with /usr/bin/python3 (Debian's python3-gi).

  tray_sni.py bus DIR        start a private session bus (dbus-daemon, no
                             service activation); print DBUS_SESSION_BUS_ADDRESS
                             and TRAY_BUS_PID as shell assignments
  tray_sni.py watcher        own org.kde.StatusNotifierWatcher (and be its
                             host) until killed; prints "READY" once it owns
                             the name, then one line per item registered or
                             gone
  tray_sni.py owned NAME     exit 0 when NAME has an owner on the bus
  tray_sni.py items          the registered items, one a line
  tray_sni.py notifications  what python3-dbusmock's notification_daemon
                             was sent, one JSON object a line: app, icon,
                             summary, body, urgency, category
  tray_sni.py prop NAME      a property of the (only) item: IconName, Title,
                             Status, Menu, IconThemePath, Id
  tray_sni.py menu           the menu as JSON: [{"id", "label", "enabled",
                             "visible", "toggle-type", "toggle-state",
                             "type"}], in order (separators included)
  tray_sni.py has REGEX [--enabled] [--checked|--unchecked]
                             exit 0 when an item's label matches (fully) and
                             is in that state, else 1
  tray_sni.py click REGEX    click the one enabled item whose label matches;
                             exit 1 when there is none or more than one

Every command works on the bus in DBUS_SESSION_BUS_ADDRESS.
"""

import json
import os
import re
import subprocess
import sys
import time

from gi.repository import Gio, GLib

WATCHER = 'org.kde.StatusNotifierWatcher'
WATCHER_PATH = '/StatusNotifierWatcher'
ITEM_IFACE = 'org.kde.StatusNotifierItem'
MENU_IFACE = 'com.canonical.dbusmenu'

WATCHER_XML = '''
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem">
      <arg type="s" direction="in" name="service"/>
    </method>
    <method name="RegisterStatusNotifierHost">
      <arg type="s" direction="in" name="service"/>
    </method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
    <signal name="StatusNotifierHostUnregistered"/>
  </interface>
</node>
'''

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

# A D-Bus call that takes longer is a hung tray: fail, don't wait forever.
CALL_TIMEOUT_MS = 10000


def die(msg):
    print(f'tray_sni.py: {msg}', file=sys.stderr)
    sys.exit(2)


def bus():
    addr = os.environ.get('DBUS_SESSION_BUS_ADDRESS')
    if not addr:
        die('DBUS_SESSION_BUS_ADDRESS is not set')
    return Gio.DBusConnection.new_for_address_sync(
        addr, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)


def call(conn, dest, path, iface, method, args, reply_type):
    return conn.call_sync(dest, path, iface, method, args,
                          GLib.VariantType(reply_type) if reply_type else None,
                          Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)


def get_prop(conn, dest, path, iface, name):
    v = call(conn, dest, path, 'org.freedesktop.DBus.Properties', 'Get',
             GLib.Variant('(ss)', (iface, name)), '(v)')
    return v.unpack()[0]


# ---------------------------------------------------------------- the bus

def cmd_bus(d):
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, 'bus.conf')
    with open(conf, 'w', encoding='utf-8') as f:
        f.write(BUS_CONFIG)
    rfd, wfd = os.pipe()
    with open(os.path.join(d, 'bus.log'), 'ab') as log:
        p = subprocess.Popen(
            ['dbus-daemon', '--nofork', '--nosyslog',
             f'--config-file={conf}', f'--print-address={wfd}'],
            pass_fds=(wfd,), stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, start_new_session=True)
    os.close(wfd)
    # dbus-daemon prints its address once it listens: no sleep needed.
    with os.fdopen(rfd) as r:
        addr = r.readline().strip()
    if not addr:
        die(f'dbus-daemon gave no address; see {d}/bus.log')
    print(f"DBUS_SESSION_BUS_ADDRESS='{addr}'; "
          f"export DBUS_SESSION_BUS_ADDRESS; TRAY_BUS_PID={p.pid}")


# ---------------------------------------------------------------- watcher

class Watcher:
    def __init__(self, conn):
        self.conn = conn
        self.items = []
        self.subs = {}
        info = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML)
        conn.register_object(WATCHER_PATH, info.interfaces[0], self.on_call,
                             self.on_get, None)

    def emit(self, name, args):
        self.conn.emit_signal(None, WATCHER_PATH, WATCHER, name, args)

    def on_call(self, conn, sender, path, iface, method, params, inv):
        if method == 'RegisterStatusNotifierItem':
            arg = params.unpack()[0]
            # libayatana-appindicator gives its object path; others their
            # bus name.  Either way the item is "busname/path".
            if arg.startswith('/'):
                item = sender + arg
            else:
                item = arg + '/StatusNotifierItem'
            if item not in self.items:
                self.items.append(item)
                owner = item.split('/', 1)[0]
                self.subs[item] = conn.signal_subscribe(
                    'org.freedesktop.DBus', 'org.freedesktop.DBus',
                    'NameOwnerChanged', '/org/freedesktop/DBus', owner,
                    Gio.DBusSignalFlags.NONE, self.on_owner, item)
                print(f'REGISTERED {item}', flush=True)
                self.emit('StatusNotifierItemRegistered',
                          GLib.Variant('(s)', (item,)))
            inv.return_value(None)
        elif method == 'RegisterStatusNotifierHost':
            inv.return_value(None)
        else:
            inv.return_dbus_error('org.freedesktop.DBus.Error.UnknownMethod',
                                  method)

    def on_owner(self, conn, sender, path, iface, signal, params, item):
        name, old, new = params.unpack()
        if new == '' and item in self.items:
            self.items.remove(item)
            conn.signal_unsubscribe(self.subs.pop(item))
            print(f'UNREGISTERED {item}', flush=True)
            self.emit('StatusNotifierItemUnregistered',
                      GLib.Variant('(s)', (item,)))

    def on_get(self, conn, sender, path, iface, prop):
        if prop == 'RegisteredStatusNotifierItems':
            return GLib.Variant('as', self.items)
        if prop == 'IsStatusNotifierHostRegistered':
            return GLib.Variant('b', True)
        if prop == 'ProtocolVersion':
            return GLib.Variant('i', 0)
        return None


def cmd_watcher():
    conn = bus()
    loop = GLib.MainLoop()
    w = Watcher(conn)

    def acquired(c, name):
        print('READY', flush=True)

    def lost(c, name):
        die(f'could not own {name}')

    Gio.bus_own_name_on_connection(conn, WATCHER,
                                   Gio.BusNameOwnerFlags.NONE, acquired, lost)
    # Hosts own a name of their own; this one is its own host.
    Gio.bus_own_name_on_connection(conn, f'org.kde.StatusNotifierHost-'
                                   f'{os.getpid()}',
                                   Gio.BusNameOwnerFlags.NONE, None, None)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()
    del w


# ---------------------------------------------------------------- the item

def the_item(conn):
    items = get_prop(conn, WATCHER, WATCHER_PATH, WATCHER,
                     'RegisteredStatusNotifierItems')
    if len(items) != 1:
        print(f'tray_sni.py: {len(items)} items registered, expected one: '
              f'{items}', file=sys.stderr)
        sys.exit(1)
    name, path = items[0].split('/', 1)
    return name, '/' + path


def cmd_owned(name):
    conn = bus()
    v = call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus',
             'org.freedesktop.DBus', 'NameHasOwner',
             GLib.Variant('(s)', (name,)), '(b)')
    sys.exit(0 if v.unpack()[0] else 1)


def cmd_notifications():
    conn = bus()
    calls = call(conn, 'org.freedesktop.Notifications',
                 '/org/freedesktop/Notifications', 'org.freedesktop.DBus.Mock',
                 'GetMethodCalls', GLib.Variant('(s)', ('Notify',)),
                 '(a(tav))').unpack()[0]
    for _, args in calls:
        app, _, icon, summary, body, _, hints, _ = args
        print(json.dumps({'app': app, 'icon': icon, 'summary': summary,
                          'body': body, 'urgency': hints.get('urgency'),
                          'category': hints.get('category')},
                         ensure_ascii=False))


def cmd_items():
    conn = bus()
    for i in get_prop(conn, WATCHER, WATCHER_PATH, WATCHER,
                      'RegisteredStatusNotifierItems'):
        print(i)


def cmd_prop(prop):
    conn = bus()
    name, path = the_item(conn)
    print(get_prop(conn, name, path, ITEM_IFACE, prop))


def flatten(node, out):
    ident, props, children = node
    out.append({
        'id': ident,
        'type': props.get('type', 'standard'),
        'label': props.get('label', ''),
        'enabled': props.get('enabled', True),
        'visible': props.get('visible', True),
        'toggle-type': props.get('toggle-type', ''),
        'toggle-state': props.get('toggle-state', -1),
    })
    for child in children:
        flatten(child, out)


def menu_items(conn):
    name, path = the_item(conn)
    menu = get_prop(conn, name, path, ITEM_IFACE, 'Menu')
    # A host calls AboutToShow before it shows the menu; libdbusmenu-gtk
    # answers it, and it must not change what GetLayout says.
    call(conn, name, menu, MENU_IFACE, 'AboutToShow',
         GLib.Variant('(i)', (0,)), '(b)')
    rev, layout = call(conn, name, menu, MENU_IFACE, 'GetLayout',
                       GLib.Variant('(iias)', (0, -1, [])),
                       '(u(ia{sv}av))').unpack()
    out = []
    for child in layout[2]:
        flatten(child, out)
    return name, menu, out


def cmd_menu():
    conn = bus()
    print(json.dumps(menu_items(conn)[2], indent=1, ensure_ascii=False))


def matching(items, regex):
    r = re.compile(regex)
    return [i for i in items if i['type'] != 'separator' and i['visible']
            and r.fullmatch(i['label'])]


def cmd_has(regex, flags):
    conn = bus()
    found = matching(menu_items(conn)[2], regex)
    if '--enabled' in flags:
        found = [i for i in found if i['enabled']]
    if '--checked' in flags:
        found = [i for i in found if i['toggle-state'] == 1]
    if '--unchecked' in flags:
        found = [i for i in found if i['toggle-state'] == 0]
    sys.exit(0 if found else 1)


def cmd_click(regex):
    conn = bus()
    name, menu, items = menu_items(conn)
    found = [i for i in matching(items, regex) if i['enabled']]
    if len(found) != 1:
        print(f'tray_sni.py: {len(found)} enabled items match /{regex}/: '
              f'{[i["label"] for i in items]}', file=sys.stderr)
        sys.exit(1)
    call(conn, name, menu, MENU_IFACE, 'Event',
         GLib.Variant('(isvu)', (found[0]['id'], 'clicked',
                                 GLib.Variant('i', 0), int(time.time()))),
         None)


def main():
    a = sys.argv[1:]
    if not a:
        die('usage: tray_sni.py bus DIR | watcher | items | prop NAME | '
            'menu | has REGEX [flags] | click REGEX')
    cmds = {
        'bus': lambda: cmd_bus(a[1]),
        'watcher': cmd_watcher,
        'owned': lambda: cmd_owned(a[1]),
        'items': cmd_items,
        'notifications': cmd_notifications,
        'prop': lambda: cmd_prop(a[1]),
        'menu': cmd_menu,
        'has': lambda: cmd_has(a[1], a[2:]),
        'click': lambda: cmd_click(a[1]),
    }
    if a[0] not in cmds:
        die(f'unknown command {a[0]}')
    try:
        cmds[a[0]]()
    except GLib.Error as e:
        # No item yet, or it went away: the caller's wait_for tries again.
        print(f'tray_sni.py: {e.message}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
