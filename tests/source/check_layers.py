#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the layering of src/ and include/ against the layer table.

The table is written by CMake from the om_library()/om_program() calls of
CMakeLists.txt (build/layers.txt), so the link rules and these include
rules are one table. For every C file of src/NAME/ and
include/officemeter/NAME/:

  - a public header "officemeter/LIB/x.h" may be included only when LIB is
    NAME itself or a library NAME declares, directly or through others;
  - a private header ("x.h", beside its sources) may be included only from
    its own folder: never across folders, never from a public header;
  - a third-party header (<modbus.h>, <sqlite3.h>, ...) only by a library
    that declares that third-party library itself.

Tests may include any public header and a program's own headers, never a
library's private one. Prints one line per violation, file:line first, and
exits 1 when there is any.

  check_layers.py --rules BUILD/layers.txt [--root SOURCE_DIR]
"""
import argparse
import os
import re
import sys

# Third-party headers by the short names of the layer table.
THIRD_PARTY = {
    'modbus.h': 'modbus', 'modbus-rtu.h': 'modbus', 'modbus-tcp.h': 'modbus',
    'sqlite3.h': 'sqlite', 'jansson.h': 'jansson', 'yaml.h': 'yaml',
    'MQTTAsync.h': 'paho', 'MQTTClient.h': 'paho', 'xlsxwriter.h': 'xlsxwriter',
    'microhttpd.h': 'microhttpd', 'libpq-fe.h': 'pq', 'crypt.h': 'crypt',
    'nettle/sha2.h': 'nettle', 'zip.h': 'zip', 'curl/curl.h': 'curl',
}
INCLUDE_RX = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def load_rules(path):
    rules = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            name, kind, *fields = line.split()
            entry = {'kind': kind}
            for field in fields:
                key, _, value = field.partition('=')
                entry[key] = set(v for v in value.split(',') if v)
            rules[name] = entry
    return rules


def includes(path):
    with open(path, errors='replace') as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE_RX.match(line)
            if m:
                yield n, m.group(1), m.group(2)


def check_file(root, rel, lib, rules, public):
    """Violations of one file of library `lib` (None: a test file)."""
    out = []
    here = os.path.dirname(os.path.join(root, rel))
    rule = rules.get(lib) if lib else None
    allowed = (rule['closure'] | {lib}) if rule else None
    for n, kind, name in includes(os.path.join(root, rel)):
        where = f'{rel}:{n}: #include {"<" if kind == "<" else chr(34)}{name}{">" if kind == "<" else chr(34)}'
        if kind == '<':
            third = THIRD_PARTY.get(name) or ('systemd' if name.startswith('systemd/') else None)
            if third and rule is not None and third not in rule['third']:
                out.append(f'{where}: {lib} does not declare the third-party library "{third}" '
                           f'(it declares: {", ".join(sorted(rule["third"])) or "none"})')
            continue
        if name.startswith('officemeter/'):
            parts = name.split('/')
            target = parts[1] if len(parts) > 2 else None
            if not target or not os.path.exists(os.path.join(root, 'include', name)):
                out.append(f'{where}: no such public header include/{name}')
            elif target not in rules:
                out.append(f'{where}: "{target}" is not a library of the layer table')
            elif rules[target]['kind'] == 'program':
                out.append(f'{where}: {target} is a program, not a library')
            elif allowed is not None and target not in allowed:
                out.append(f'{where}: {lib} may not use {target} '
                           f'({lib} declares: {", ".join(sorted(rule["closure"])) or "nothing"})')
            continue
        # A private header: beside the including file, in the same folder.
        if '/' in name or public:
            out.append(f'{where}: a private header may be included only from its own folder'
                       + (' (public headers include public headers only)' if public else ''))
        elif not os.path.exists(os.path.join(here, name)):
            if lib is None and name.endswith('_private.h'):
                out.append(f'{where}: tests may not include a library\'s private header')
            elif lib is not None:
                out.append(f'{where}: no header {name} in {os.path.relpath(here, root)}/')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rules', required=True)
    ap.add_argument('--root', default=os.path.join(os.path.dirname(__file__), '..', '..'))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    rules = load_rules(args.rules)
    problems, nfiles = [], 0
    for base, public in (('src', False), (os.path.join('include', 'officemeter'), True)):
        top = os.path.join(root, base)
        for lib in sorted(os.listdir(top)):
            folder = os.path.join(top, lib)
            if not os.path.isdir(folder):
                problems.append(f'{base}/{lib}: a file outside any library folder')
                continue
            if lib not in rules:
                problems.append(f'{base}/{lib}/: a folder that is not in the layer table '
                                f'(declare it with om_library in CMakeLists.txt)')
                continue
            if public and rules[lib]['kind'] == 'program':
                problems.append(f'{base}/{lib}/: programs have no public headers')
            for f in sorted(os.listdir(folder)):
                if f.endswith(('.c', '.h')):
                    nfiles += 1
                    problems += check_file(root, os.path.join(base, lib, f), lib, rules, public)
    for tdir in ('tests/unit', 'tests/bench', 'tests/fuzz'):
        top = os.path.join(root, tdir)
        if os.path.isdir(top):
            for f in sorted(os.listdir(top)):
                if f.endswith(('.c', '.h')):
                    nfiles += 1
                    problems += check_file(root, os.path.join(tdir, f), None, rules, False)
    for name, rule in sorted(rules.items()):
        for f in sorted(rule.get('forbid', set()) & rule['closure']):
            problems.append(f'CMakeLists.txt: {name} must not use {f}, but its closure has it')
    for p in problems:
        print(p)
    print(f'check_layers: {nfiles} files, {len(rules)} libraries and programs, '
          f'{len(problems)} violation(s)', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
