#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the hand-made seeds (seed-*) of fuzz/corpus/: valid sequences
# that reach deep paths, in each harness's input encoding (see the
# decoders in fuzz_hypercalls.c and fuzz_hostile.c). The fuzzer grows the
# corpus from these (scripts/fuzz.sh); run this again after changing an
# encoding.
import os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))

# fuzz_hypercalls: the op indices of its ops[] table.
MAP, UNMAP, COPY, GRANT, END, EVENT, SETUP, VERSION, ATP, TRANSFER, SWAP, \
    STATUS, UPDATE_VA, RFP, RESERVATION, UNMAP_REPLACE, FLUSH, VCPU, SCRIBBLE, \
    BAD, DESTROY = range(21)
SELF = 0xf0  # dom_arg byte for DOMID_SELF
HOST = 0x08  # map flags byte: GNTMAP_host_map
# EVTCHNOPs
BIND_INTER, BIND_VIRQ, BIND_PIRQ, CLOSE, SEND, ST, ALLOC, IPI, BVCPU, UNMASK, \
    RESET, INIT_CONTROL, EXPAND = range(13)

def u16(v): return list(struct.pack('<H', v))
def u64(v): return list(struct.pack('<Q', v))

def dom(typ, nr_gf=1, vcpus=1, priv=False):
    return typ | (priv << 2) | ((nr_gf - 1) << 3) | ((vcpus - 1) << 5)

def grant(d, ref, to, kind, frame_b, off=0, ln=0):
    return [GRANT, d, ref, to, kind, frame_b] + u16(off) + u16(ln)

def map1(caller, granter, ref, flags=HOST, slot=0):
    return [MAP, caller, 0, flags, granter, ref, slot]

def ev(caller, cmd, *args):
    return [EVENT, caller, cmd, *args, 0]

def hypercalls():
    seeds = {}
    # Two HVM domains: grant, map, copy out of it, unmap, end; a channel.
    seeds['seed-hvm-map-copy-unmap'] = [0, 0, dom(0), dom(0)] + \
        grant(0, 8, 1, 0, 3) + map1(1, 0, 8) + \
        [COPY, 1, 0, 1, 0, 0, 0, 8, SELF, 0, 0, 5, 0, 0xf0] + \
        [UNMAP, 1, 0, 0] + [END, 0, 8] + \
        ev(0, ALLOC, SELF, 1) + ev(1, BIND_INTER, 0, 1) + ev(1, SEND, 1) + \
        ev(0, SEND, 1) + ev(0, CLOSE, 1)
    # PV granter: setup_table, its frame mapped by update_va_mapping, a
    # grant mapped by an HVM domain, a transfer into an accepting entry.
    seeds['seed-pv-setup-map-transfer'] = [0, 0, dom(1, 2), dom(0)] + \
        [SETUP, 0, 1, SELF, 0] + [UPDATE_VA, 0, 1, 3] + \
        grant(0, 9, 1, 0, 2) + map1(1, 0, 9, HOST | 4) + \
        [RESERVATION, 1, 0, SELF, 1, 0, 7, 0, 0, 0, 0, 0, 0] + \
        grant(1, 10, 0, 2, 7) + [TRANSFER, 0, 0, 4, 1, 10] + \
        [UNMAP, 1, 0, 0] + [END, 0, 9] + [END, 1, 10]
    # v2 on three HVM domains: sub-page grant, transitive grant through d1,
    # copies through both; status frame placed with add_to_physmap.
    seeds['seed-v2-subpage-transitive'] = [0, 1, dom(0), dom(0), dom(0)] + \
        [VERSION, 0, 5] + [VERSION, 1, 5] + [ATP, 0, 1, SELF, 1, 0, 0] + \
        grant(0, 8, 1, 3, 3, 64, 512) + \
        [COPY, 1, 0, 1, 0, 0, 4, 8, SELF, 0, 0, 5, 0, 30] + \
        [GRANT, 1, 9, 2, 5, 0, 8, 0, 0, 0, 0] + \
        [COPY, 2, 0, 1, 1, 0, 4, 9, SELF, 0, 0, 6, 0, 20] + \
        map1(1, 0, 8, HOST | 4) + [UNMAP, 1, 0, 0] + [VERSION, 0, 3]
    # FIFO: control block and event array, an interdomain channel, sends,
    # unmask; then an Arm domain's grant mapped and the granter destroyed.
    seeds['seed-fifo-arm-destroy'] = [1, 0, dom(0, 1, 2), dom(2)] + \
        ev(0, INIT_CONTROL, 30, 0, 0, 0) + ev(0, EXPAND, 31) + \
        ev(1, ALLOC, SELF, 0) + ev(0, BIND_INTER, 1, 1) + ev(1, SEND, 1) + \
        ev(0, UNMASK, 1) + ev(0, IPI, 1) + ev(0, SEND, 2) + \
        grant(1, 8, 0, 1, 4) + map1(0, 1, 8, HOST | 4) + [DESTROY, 1, 0xff] + \
        [UNMAP, 0, 0, 0]
    return seeds

# fuzz_hostile
H_MAP, H_SCRIB, H_UNMAP, H_COPY, H_SCRIB2, H_SEND, H_EVSCRIB, H_UNMASK, H_END, \
    H_VERSION, H_REBIND, H_SWAP, H_DESTROY = range(13)

def hostile():
    seeds = {}
    # HVM v1 2-level: map rw, the granter flips flags and frame, copy, sends.
    seeds['seed-v1-flip-while-mapped'] = [0] + \
        [H_MAP, 0, 0] + [H_SCRIB, 0, 0x10] + u64(0) + [H_MAP, 1 | 8, 1] + \
        [H_SCRIB, 1, 0x24] + u64(0xdead) + [H_COPY, 1, 1, 0, 0, 0, 10] + \
        [H_SEND, 0, H_SEND, 1] + [H_EVSCRIB, 0x00, 0, 0, 0, 0, 0, 0] + \
        [H_UNMASK, 1] + [H_UNMAP, 0] + [H_END, 1, 0] + [H_REBIND, 0] + [H_SEND, 1]
    # PV granter, v2, FIFO on both: maps, event-word scribbles, version
    # switch refused while pinned, then the granter is destroyed.
    seeds['seed-pv-v2-fifo-destroy'] = [58] + \
        [H_MAP, 0, 2, H_MAP, 1 | 8, 3] + [H_SCRIB, 2, 0x30] + u64(0xffffffffffffffff) + \
        [H_EVSCRIB, 3, 1, 0, 0xff, 0xff, 0xff, 0xff] + [H_SEND, 1, H_SEND, 0] + \
        [H_UNMASK, 0, H_UNMASK, 1] + [H_VERSION, 0] + [H_SWAP, 5, 6] + \
        [H_DESTROY, 0xff] + [H_UNMAP, 0] + [H_SEND, 0]
    # Arm granter, PV mapper: device and host maps, copy into the grant.
    seeds['seed-arm-pv-device'] = [6] + \
        [H_MAP, 2, 0, H_MAP, 4 | 16, 1, H_MAP, 1, 3] + [H_COPY, 0, 0, 0, 2, 0, 200] + \
        [H_SCRIB, 0, 0x20] + u64(7) + [H_END, 1, 0] + [H_UNMAP, 1] + [H_EVSCRIB, 0x82, 1, 0, 1, 0, 0, 0]
    return seeds

def write(name, seeds):
    d = os.path.join(HERE, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), 'wb') as f:
            f.write(bytes(v))

if __name__ == '__main__':
    write('fuzz_hypercalls', hypercalls())
    write('fuzz_hostile', hostile())
