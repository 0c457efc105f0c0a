#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Hand-made seeds for fuzz_xgntd (fuzz/corpus/fuzz_xgntd/seed-*): sessions
# that reach deep paths (share with notify, map it from another domain,
# event channels both ways, copy, close in every order).
import os, struct, sys

T = dict(HELLO=0, MAP=1, UNMAP=2, COPY=3, SET_MAX=4, SHARE=5, UNSHARE=6, UNBOUND=7,
         INTERDOMAIN=8, VIRQ=9, UNBIND=10, NOTIFY=11, UNMASK=12, RESTRICT=13,
         CREATE=14, DESTROY=15, LIST=16, DUMP=17, WATCH=18, SHUTDOWN=19)
KIND = dict(gntdev=0, gntalloc=1, evtchn=2, ctl=3)

def hello(slot, kind, dom): return bytes([slot | (2 << 2), KIND[kind], dom])
def req(slot, t, payload): return bytes([slot | (1 << 2), T[t], len(payload)]) + payload
def close(slot): return bytes([slot | (3 << 2)])
def events(slot=0): return bytes([slot | (4 << 2)])
def ev(domid=0, port=0, virq=0): return struct.pack('<3I', domid, port, virq)

def share(domid, count, notify=0, off=0, port=0):
    return struct.pack('<6I', domid, count, 1, notify, off, port)

def map_(refs, ro=0, notify=0, off=0, port=0):
    return struct.pack('<6I', len(refs), ro, notify, off, port, 0) + b''.join(
        struct.pack('<2I', d, r) for d, r in refs)

def copy(segs):
    return struct.pack('<2I', len(segs), 0) + b''.join(
        struct.pack('<2I5H', sr, dr, so, do, sd, dd, ln) + struct.pack('<H', fl)
        for sr, dr, so, do, sd, dd, ln, fl in segs)

seeds = {
    # vchan-like: d0 shares with notify, d1 maps with notify, ports both ways
    'seed-vchan': hello(0, 'gntalloc', 0) + hello(1, 'evtchn', 0) + req(1, 'UNBOUND', ev(1)) +
        req(0, 'SHARE', share(1, 2, 3, 21, 1)) + hello(2, 'gntdev', 1) + hello(3, 'evtchn', 1) +
        req(3, 'INTERDOMAIN', ev(0, 1)) + req(2, 'MAP', map_([(0, 8)], 0, 3, 20, 1)) +
        req(3, 'NOTIFY', ev(0, 1)) + events() + req(1, 'UNMASK', ev(0, 1)) +
        req(2, 'COPY', copy([(9, 0, 0, 0, 0, 0, 64, 1), (8, 0, 0, 0, 0, 0, 4096, 2)])) +
        close(0) + events() + close(2) + events() + close(1) + close(3),
    # the mapper goes first
    'seed-mapper-dies': hello(0, 'gntalloc', 0) + req(0, 'SHARE', share(1, 3)) +
        hello(1, 'gntdev', 1) + req(1, 'MAP', map_([(0, 8), (0, 9), (0, 10)], 1)) +
        req(1, 'UNMAP', struct.pack('<2I', 0, 2)) + close(1) + req(0, 'UNSHARE', struct.pack('<I', 0)),
    # control: create, list, dump, destroy with handles attached
    'seed-ctl': hello(0, 'ctl', 0) + req(0, 'CREATE', struct.pack('<5I', 2, 1, 256, 1, 0)) +
        hello(1, 'gntalloc', 2) + req(1, 'SHARE', share(0, 1)) + req(0, 'LIST', b'') +
        req(0, 'DUMP', struct.pack('<I', 0xffffffff)) + req(0, 'DESTROY', struct.pack('<I', 2)) +
        hello(2, 'ctl', 1) + req(2, 'DESTROY', struct.pack('<I', 1)) + req(0, 'WATCH', b''),
    # event channel errors and VIRQs
    'seed-evtchn': hello(0, 'evtchn', 0) + req(0, 'VIRQ', ev(0, 0, 7)) + req(0, 'RESTRICT', ev(1)) +
        req(0, 'UNBOUND', ev(1)) + req(0, 'INTERDOMAIN', ev(1, 1)) + req(0, 'UNBIND', ev(0, 1)) +
        req(0, 'UNBIND', ev(0, 5000)) + req(0, 'NOTIFY', ev(0, 3)),
    # framing garbage
    'seed-garbage': bytes([0 | (0 << 2), 10]) + b'\x01\x00\x00\x00\xff\xff\xff\xff\x00\x00' +
        hello(1, 'gntdev', 0) + bytes([1 | (0 << 2), 16]) + struct.pack('<IIiHH', 16, 100, 0, 1, 0),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'fuzz_xgntd')
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
