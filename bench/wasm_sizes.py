#!/usr/bin/env python3
"""Where the bytes of a wasm file go: section sizes, then function bodies by
crate and the largest functions, named from the wasm "name" section.

  python3 bench/wasm_sizes.py target/wasm32-unknown-unknown/wasm-release/persistent_login.wasm

Use the file cargo builds before wasm-bindgen (it still has its names); the
shipped one in target/site/pkg has them stripped. Standard library only.
"""

import re
import sys
from collections import Counter


def leb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def sections(data):
    at = 8
    while at < len(data):
        kind = data[at]
        size, at = leb(data, at + 1)
        yield kind, data[at:at + size]
        at += size


def function_names(payload):
    name_len, at = leb(payload, 0)
    at += name_len  # "name"
    names = {}
    while at < len(payload):
        kind = payload[at]
        size, at = leb(payload, at + 1)
        end = at + size
        if kind == 1:
            count, at = leb(payload, at)
            for _ in range(count):
                index, at = leb(payload, at)
                length, at = leb(payload, at)
                names[index] = payload[at:at + length].decode("utf-8", "replace")
                at += length
        at = end
    return names


def crate_of(name):
    name = re.sub(r"^_ZN|^_R", "", name)
    name = name.lstrip("<&*( ")
    match = re.match(r"(?:\d+)?([A-Za-z_][A-Za-z0-9_]*)", name)
    return match.group(1) if match else "?"


def main():
    data = open(sys.argv[1], "rb").read()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    kinds = {0: "custom", 1: "type", 2: "import", 3: "function", 5: "memory", 7: "export",
             9: "element", 10: "code", 11: "data"}
    imported = 0
    bodies, names = [], {}
    print(f"{len(data):,} bytes")
    for kind, payload in sections(data):
        label = kinds.get(kind, str(kind))
        if kind == 0:
            length, at = leb(payload, 0)
            label = f"custom:{payload[at:at + length].decode()}"
            if label == "custom:name":
                names = function_names(payload)
        print(f"  {label:<24} {len(payload):>10,}")
        if kind == 2:
            count, at = leb(payload, 0)
            for _ in range(count):
                for _ in range(2):
                    length, at = leb(payload, at)
                    at += length
                desc = payload[at]
                at += 1
                if desc == 0:
                    _, at = leb(payload, at)
                    imported += 1
                elif desc == 1:
                    at += 1
                    flags = payload[at]
                    _, at = leb(payload, at + 1)
                    if flags & 1:
                        _, at = leb(payload, at)
                elif desc == 2:
                    flags = payload[at]
                    _, at = leb(payload, at + 1)
                    if flags & 1:
                        _, at = leb(payload, at)
                else:
                    at += 2
        if kind == 10:
            count, at = leb(payload, 0)
            for n in range(count):
                size, at = leb(payload, at)
                bodies.append((size, n))
                at += size
    by_crate = Counter()
    for size, n in bodies:
        by_crate[crate_of(names.get(n + imported, "?"))] += size
    print("\ncode by crate (first path segment):")
    for crate, size in by_crate.most_common(top):
        print(f"  {size:>9,}  {crate}")
    print(f"\nlargest {top} functions:")
    for size, n in sorted(bodies, reverse=True)[:top]:
        print(f"  {size:>9,}  {names.get(n + imported, '?')[:150]}")


if __name__ == "__main__":
    main()
