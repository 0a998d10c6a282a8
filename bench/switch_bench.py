#!/usr/bin/python3
'''switch_bench.py - the measuring half of bench/switch_bench.sh.

Runs against a roamsmtpd that switch_bench.sh started on the mock
NetworkManager (tests/lib/nm_mock.py) with two profiles, "home" (ssid
HomeWifi) and "office" (ssid OfficeWifi), both relaying to UPSTREAM_PORT,
where this program listens itself.  Everything is timed with
time.monotonic() in this one process:

  switch  the mock's D-Bus calls that move the laptop from one Wi-Fi to the
          other (Disconnect, then Connect) are sent from here; the clock
          starts just before the first one and stops when "roamsmtpctl
          --json watch" (read here, line by line) prints the "profile" event
          naming the new profile.
  flush   a message submitted while connectivity is "none" waits in the
          queue; the clock starts just before SetConnectivity(full) and
          stops when this program's upstream accepts that message (in its
          DATA handler, before it answers 250), and again at the daemon's
          "sent" event for it.

Every repetition is checked: the profile event must name the profile the
change leads to, no other profile may show up on the way, and the message
the upstream accepts must be the one that was queued.  A failed check
prints what happened and exits 1.

The report lines go to stdout, progress to stderr, every sample to
--samples FILE.  Runs with /usr/bin/python3 (dbus-python, aiosmtpd).
'''

import argparse
import email
import json
import math
import queue
import re
import smtplib
import statistics
import subprocess
import sys
import threading
import time

import dbus
from aiosmtpd.controller import Controller

HOME_UUID = '11111111-1111-4111-8111-111111111111'
OFFICE_UUID = '33333333-3333-4333-8333-333333333333'
PLACES = {
    'home': {'type': 'wifi', 'id': 'Home', 'uuid': HOME_UUID,
             'ssid': 'HomeWifi', 'bssid': 'aa:bb:cc:00:00:01',
             'ip': {'addresses': ['192.168.1.23/24'],
                    'gateway': '192.168.1.1', 'domains': ['home.lan']},
             'primary': True},
    'office': {'type': 'wifi', 'id': 'Office', 'uuid': OFFICE_UUID,
               'ssid': 'OfficeWifi', 'bssid': 'aa:bb:cc:00:00:02',
               'ip': {'addresses': ['10.20.0.5/16'],
                      'gateway': '10.20.0.1', 'domains': ['corp.example']},
               'primary': True},
}
CONNECTIVITY_NONE, CONNECTIVITY_FULL = 1, 4
METERED_YES, METERED_UNKNOWN = 1, 0
# After each repetition the event stream must be quiet this long before the
# next begins, so that one repetition's late events (a second snapshot of a
# burst) are not taken for the next one's.
SETTLE_QUIET = 0.25
SETTLE_MAX = 5.0


class Failed(Exception):
    pass


def progress(msg):
    print(f'switch_bench: {msg}', file=sys.stderr, flush=True)


# ------------------------------------------------------------ the watch stream

class Watch:
    '''roamsmtpctl --json watch, each line stamped when it arrives.'''

    def __init__(self, ctl, conf):
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [ctl, '-c', conf, '--json', 'watch'], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.q = queue.Queue()
        self.log = []          # (time, event) of every event, in order
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            t = time.monotonic()
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {'event': '?unparsable', 'line': line.decode(
                    errors='replace')}
            self.q.put((t, ev))
        self.q.put((time.monotonic(), None))

    def next(self, deadline):
        '''The next (time, event) before deadline, or None.'''
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            t, ev = self.q.get(timeout=left)
        except queue.Empty:
            return None
        if ev is None:
            err = self.proc.stderr.read().decode(errors='replace').strip()
            raise Failed(f'roamsmtpctl watch ended: {err}')
        self.log.append((t, ev))
        return t, ev

    def until(self, what, pred, timeout):
        '''Events up to and including the first one pred accepts.'''
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            got = self.next(deadline)
            if got is None:
                raise Failed(f'no {what} within {timeout:g}s; events on the '
                             f'way: {[e for _, e in seen]}')
            seen.append(got)
            if pred(got[1]):
                return seen

    def settle(self):
        '''Wait for SETTLE_QUIET without an event; return what came.'''
        end = time.monotonic() + SETTLE_MAX
        late = []
        while time.monotonic() < end:
            got = self.next(min(end, time.monotonic() + SETTLE_QUIET))
            if got is None:
                return late
            late.append(got[1])
        raise Failed(f'events did not stop within {SETTLE_MAX:g}s: {late}')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


# ------------------------------------------------------------ the upstream

class Upstream:
    '''aiosmtpd's handler: stamp every message when it is accepted.'''

    def __init__(self):
        self.q = queue.Queue()

    async def handle_DATA(self, server, session, envelope):
        t = time.monotonic()
        msg = email.message_from_bytes(envelope.original_content)
        self.q.put((t, msg.get('Subject', '')))
        return '250 2.0.0 Ok: accepted'

    def next(self, timeout):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None


# ------------------------------------------------------------ helpers

def stats(xs):
    '''min, median, p95 (nearest rank), max of seconds, in ms.'''
    s = sorted(xs)
    p95 = s[max(0, math.ceil(0.95 * len(s)) - 1)]
    return [1000 * v for v in (s[0], statistics.median(s), p95, s[-1])]


def row(name, xs):
    mn, med, p95, mx = stats(xs)
    return f'{name:<34} {mn:8.1f} {med:8.1f} {p95:8.1f} {mx:8.1f}'


HEADER = f'{"":<34} {"min":>8} {"median":>8} {"p95":>8} {"max":>8}'


def submit(port, subject):
    '''Send one message to the daemon; return the reply to DATA.'''
    body = (f'From: bench@example.org\r\nTo: sink@example.net\r\n'
            f'Subject: {subject}\r\n\r\nswitch_bench\r\n').encode()
    with smtplib.SMTP('127.0.0.1', port, timeout=30) as s:
        s.ehlo('bench.example')
        code, resp = s.mail('bench@example.org')
        if code != 250:
            raise Failed(f'MAIL FROM: {code} {resp!r}')
        code, resp = s.rcpt('sink@example.net')
        if code != 250:
            raise Failed(f'RCPT TO: {code} {resp!r}')
        code, resp = s.data(body)
        if code != 250:
            raise Failed(f'DATA: {code} {resp!r}')
        return resp.decode(errors='replace')


def is_profile(name):
    return lambda e: e['event'] == 'profile' and e['profile'] == name


# ------------------------------------------------------------ the two parts

def bench_switch(mock, watch, reps, timeout, samples):
    '''Roam between the two Wi-Fi networks reps times.'''
    total, first_net, mock_time = [], [], []
    transient = 0
    here = 'home'
    for i in range(1, reps + 1):
        there = 'office' if here == 'home' else 'home'
        t0 = time.monotonic()
        mock.Disconnect(PLACES[here]['uuid'])
        mock.Connect(json.dumps(PLACES[there]))
        t1 = time.monotonic()
        seen = watch.until(f'profile event for {there} (repetition {i})',
                           is_profile(there), timeout)
        for _, e in seen:
            if e['event'] == 'profile' and e['profile'] not in (None, there):
                raise Failed(f'repetition {i}, {here} -> {there}: a profile '
                             f'event for {e["profile"]} on the way: {e}')
        transient += sum(1 for _, e in seen if e['event'] == 'profile'
                         and e['profile'] is None)
        nets = [t for t, e in seen if e['event'] == 'network']
        if not nets:
            raise Failed(f'repetition {i}: a profile event without a '
                         f'network event before it: {seen}')
        t_prof = seen[-1][0]
        total.append(t_prof - t0)
        first_net.append(nets[0] - t0)
        mock_time.append(t1 - t0)
        samples.write(f'switch {i} {here}->{there} mock={t1 - t0:.6f} '
                      f'network={nets[0] - t0:.6f} '
                      f'profile={t_prof - t0:.6f}\n')
        late = watch.settle()
        for e in late:
            if e['event'] == 'profile':
                raise Failed(f'repetition {i}: after {there} became active, '
                             f'another profile event: {e}')
        here = there
    return total, first_net, mock_time, transient, here


def bench_flush(mock, watch, upstream, port, place, reps, timeout, samples):
    '''Queue a message offline, bring connectivity back, reps times.'''
    accepted, sent, profile = [], [], []
    for i in range(1, reps + 1):
        mock.SetConnectivity(dbus.UInt32(CONNECTIVITY_NONE))
        watch.until(f'offline profile event (repetition {i})',
                    is_profile(None), timeout)
        watch.settle()
        subject = f'switch_bench flush {i} {time.monotonic_ns()}'
        reply = submit(port, subject)
        m = re.search(r'queued as ([0-9a-f]{16})\b', reply)
        if not m:
            raise Failed(f'repetition {i}: offline, the daemon answered '
                         f'DATA with {reply!r}, not "queued as ID"')
        qid = m.group(1)
        watch.until(f'queued event for {qid}', lambda e: e['event'] ==
                    'queued' and e.get('id') == qid, timeout)
        early = upstream.next(0)
        if early is not None:
            raise Failed(f'repetition {i}: the upstream accepted '
                         f'{early[1]!r} while offline')

        t0 = time.monotonic()
        mock.SetConnectivity(dbus.UInt32(CONNECTIVITY_FULL))
        got = upstream.next(timeout)
        if got is None:
            raise Failed(f'repetition {i}: {qid} not at the upstream '
                         f'{timeout:g}s after connectivity came back')
        t_acc, subj = got
        if subj != subject:
            raise Failed(f'repetition {i}: the upstream accepted {subj!r}, '
                         f'expected {subject!r} ({qid})')
        seen = watch.until(f'sent event for {qid}', lambda e: e['event'] ==
                           'sent' and e.get('id') == qid, timeout)
        profs = [(t, e) for t, e in seen if e['event'] == 'profile']
        if not profs or profs[0][1]['profile'] != place:
            raise Failed(f'repetition {i}: expected a profile event for '
                         f'{place} before the message left: {seen}')
        if seen[-1][1].get('profile') != place:
            raise Failed(f'repetition {i}: {qid} sent through '
                         f'{seen[-1][1].get("profile")}, not {place}')
        accepted.append(t_acc - t0)
        sent.append(seen[-1][0] - t0)
        profile.append(profs[0][0] - t0)
        samples.write(f'flush {i} {qid} profile={profs[0][0] - t0:.6f} '
                      f'accepted={t_acc - t0:.6f} '
                      f'sent={seen[-1][0] - t0:.6f}\n')
        watch.settle()
    return accepted, sent, profile


def warm_up(mock, watch, timeout):
    '''Make sure the watcher is registered (nothing says when the daemon
    has done it: change the network until a network event comes), then
    put the laptop at home with full connectivity.'''
    deadline = time.monotonic() + timeout
    metered = METERED_YES
    while True:
        # One change at a time: two in a row would fall in one coalesced
        # snapshot, equal to the one before, and make no event.
        mock.SetMetered(dbus.UInt32(metered))
        got = watch.next(min(deadline, time.monotonic() + 0.3))
        if got and got[1]['event'] == 'network':
            break
        if time.monotonic() >= deadline:
            raise Failed(f'no network event on the watch within {timeout}s')
        metered = METERED_UNKNOWN if metered == METERED_YES else METERED_YES
    watch.settle()
    if metered == METERED_YES:
        mock.SetMetered(dbus.UInt32(METERED_UNKNOWN))
        watch.until('network event for metered unknown',
                    lambda e: e['event'] == 'network', timeout)
        watch.settle()
    mock.Connect(json.dumps(PLACES['home']))
    mock.SetConnectivity(dbus.UInt32(CONNECTIVITY_FULL))
    watch.until('profile event for home', is_profile('home'), timeout)
    watch.settle()


def verdict(xs, aim, aim_text):
    p95, mx = stats(xs)[2], 1000 * max(xs)
    return (f'  aim {aim_text}: p95 {p95:.1f} ms, '
            f'{"met" if p95 < 1000 * aim else "NOT MET"}; max {mx:.1f} ms, '
            f'{"met" if mx < 1000 * aim else "NOT MET"}')


def report(opts, switch, flush):
    total, net, mock_t, transient = switch
    accepted, sent, prof = flush
    co, _, co_file = opts.coalesce.partition(':')
    if co:
        co_line = (f'NM_COALESCE_MS = {co} ms ({co_file}): the watcher '
                   f'takes its snapshot\n  {co} ms after the first '
                   f'notification of a burst')
    else:
        co_line = 'NM_COALESCE_MS: not found in daemon/*.c'
    print(f'(a) network change -> new profile active: {opts.reps} '
          f'switches between two Wi-Fi')
    print('networks (the mock\'s Disconnect, then Connect; the clock starts '
          'before the')
    print('first call), ms')
    print(HEADER)
    print(row('change -> "profile" event', total))
    print(row('  change -> "network" event', net))
    print(row('  "network" -> "profile" event',
              [a - b for a, b in zip(total, net)]))
    print(row('  the mock sending its signals', mock_t))
    print(f'  {co_line};')
    if co:
        co_s = float(co) / 1000
        print(f'  that is {100 * co_s / statistics.median(total):.0f}% of '
              f'the median; the other '
              f'{1000 * (statistics.median(total) - co_s):.1f} ms are D-Bus, '
              f'libnm, the')
        print("  snapshot, the match and the event's way to roamsmtpctl.")
    print(f'  a transient "no profile" between the two networks: '
          f'{transient} time(s)')
    print(verdict(total, 0.100, 'under 100 ms'))
    print()
    print('(b) connectivity "none" -> "full" -> the message queued offline '
          'accepted')
    print(f'upstream: {opts.reps} messages, one at a time (the clock starts '
          f'before')
    print('SetConnectivity), ms')
    print(HEADER)
    print(row('connectivity -> upstream accepts', accepted))
    print(row('  connectivity -> "profile" event', prof))
    print(row('  "profile" event -> accepted',
              [a - b for a, b in zip(accepted, prof)]))
    print(row('  connectivity -> "sent" event', sent))
    if co:
        print(f'  the same {co} ms coalescing timer is in the "profile" '
              f'event\'s time.')
    print(verdict(accepted, 1.0, 'under 1 s'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ctl', required=True)
    ap.add_argument('--conf', required=True)
    ap.add_argument('--port', type=int, required=True, help="roamsmtpd's")
    ap.add_argument('--upstream-port', type=int, required=True)
    ap.add_argument('--nm-lib', required=True, help='tests/lib')
    ap.add_argument('--reps', type=int, required=True)
    ap.add_argument('--timeout', type=float, required=True)
    ap.add_argument('--coalesce', default='',
                    help='MS:FILE, NM_COALESCE_MS and where it is defined')
    ap.add_argument('--samples', required=True)
    opts = ap.parse_args()

    sys.path.insert(0, opts.nm_lib)
    sys.dont_write_bytecode = True     # no __pycache__ in the source tree
    import nm_mock  # pylint: disable=import-outside-toplevel,import-error

    upstream = Upstream()
    ctrl = Controller(upstream, hostname='127.0.0.1',
                      port=opts.upstream_port)
    ctrl.start()
    mock = nm_mock._mock()  # pylint: disable=protected-access
    watch = Watch(opts.ctl, opts.conf)
    try:
        with open(opts.samples, 'w', encoding='utf-8') as samples:
            progress('warm-up: waiting for the watcher, then home Wi-Fi')
            warm_up(mock, watch, opts.timeout)
            progress(f'network change -> profile: {opts.reps} repetitions')
            total, net, mock_t, transient, place = bench_switch(
                mock, watch, opts.reps, opts.timeout, samples)
            progress(f'connectivity back -> queued message accepted: '
                     f'{opts.reps} repetitions')
            accepted, sent, prof = bench_flush(
                mock, watch, upstream, opts.port, place, opts.reps,
                opts.timeout, samples)
    except Failed as e:
        progress(f'FAILED: {e}')
        progress('the last events on the watch:')
        for t, e in watch.log[-15:]:
            print(f'  {t:.6f} {json.dumps(e)}', file=sys.stderr)
        return 1
    finally:
        watch.stop()
        ctrl.stop()

    report(opts, (total, net, mock_t, transient),
           (accepted, sent, prof))
    return 0


if __name__ == '__main__':
    sys.exit(main())
