#!/usr/bin/env python3
"""The layers of docs/architecture.md, checked on the built objects (TAP).

Each object file belongs to a layer by the folder of its source. A file may
use symbols (nm) only from its own layer or from the layers that layer is
allowed to use; and no two files may use each other, directly or in a
circle. Usage: check-layers.py BUILD_DIR"""
import collections
import os
import subprocess
import sys

# layer: the layers below it that it may use (not transitive: listed whole).
SHARED = ['lib/shared']
ANALYSIS = SHARED + ['lib/analysis']
MODEL = ANALYSIS + ['daemon/base', 'daemon/model']
BACKEND = MODEL + ['daemon/backend']
CORE = BACKEND + ['daemon/backend/pkcs11', 'daemon/backend/skf', 'daemon/core']
ALLOWED = {
    'lib/shared': [],
    'lib/analysis': SHARED,
    'lib/libukey': SHARED,
    'tools/common': ['lib/libukey'],  # words both front ends show
    'tools': ANALYSIS + ['lib/libukey', 'tools/common'],
    'tools/notify': ['lib/libukey', 'tools/common'],  # no daemon code, no analysis
    'daemon/base': SHARED,
    'daemon/model': ANALYSIS + ['daemon/base'],
    'daemon/backend': MODEL,
    'daemon/backend/pkcs11': BACKEND,
    'daemon/backend/skf': BACKEND,
    'daemon/core': BACKEND,  # backends are reached through the interface only
    'daemon/usb': CORE,
    'daemon/service': CORE,
    'daemon': CORE + ['daemon/usb', 'daemon/service'],
}


def layer_of(obj):
    d, f = os.path.split(obj)
    d = os.path.relpath(d, build)
    if d.startswith('lib/libukey.so'):
        return 'lib/libukey'
    if d.startswith('lib/libukey-shared'):
        return 'lib/shared'
    folder = os.path.dirname(d)
    if folder == 'daemon/backend' and f.startswith('pkcs11_'):
        return 'daemon/backend/pkcs11'
    if folder == 'daemon/backend' and f.startswith('skf_'):
        return 'daemon/backend/skf'
    return folder


build = sys.argv[1]
objs = []
for sub in ('lib', 'daemon', 'tools'):
    for root, _, files in os.walk(os.path.join(build, sub)):
        objs += [os.path.join(root, f) for f in files if f.endswith('.o')]
defs, uses = collections.defaultdict(set), {}
for o in objs:
    out = subprocess.run(['nm', '--defined-only', '-g', o], capture_output=True, text=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in 'TDBRVW':
            defs[p[2]].add(o)
    out = subprocess.run(['nm', '-u', o], capture_output=True, text=True).stdout
    uses[o] = {line.split()[-1] for line in out.splitlines()}

name = lambda o: os.path.relpath(o, build)
upward, edges = [], collections.defaultdict(set)
for o in objs:
    lo = layer_of(o)
    for s in uses[o]:
        for d in defs.get(s, ()):
            ld = layer_of(d)
            # The library's own copy of the shared objects is the same code.
            if ld == lo or ld in ALLOWED.get(lo, []):
                if ld == lo and d != o:
                    edges[o].add(d)
                continue
            upward.append(f'{name(o)} ({lo}) uses {s} from {name(d)} ({ld})')

index, low, stack, on, circles, n = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = n[0]
    n[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop()
            on.discard(w)
            c.append(w)
            if w == v:
                break
        if len(c) > 1:
            circles.append(c)


for v in objs:
    if v not in index:
        visit(v)

print('1..2')
if not objs:
    print('not ok 1 - no objects under', build)
    print('not ok 2 - no objects')
    sys.exit(1)
unknown = sorted({layer_of(o) for o in objs} - set(ALLOWED))
for u in unknown:
    upward.append(f'{u}: a folder that is no layer (add it to tests/check-layers.py)')
print(('ok' if not upward else 'not ok') + f' 1 - {len(objs)} objects use no layer above their own')
for u in upward:
    print('# ' + u)
print(('ok' if not circles else 'not ok') + ' 2 - no two files use each other')
for c in circles:
    print('# circle: ' + ' <-> '.join(sorted(name(x) for x in c)))
sys.exit(1 if upward or circles else 0)
