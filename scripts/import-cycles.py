#!/usr/bin/env python3
"""Counts the largest circle of files of a crate's `src` that import each other.

A file imports another when it names a path into it: `use crate::a::b`, `crate::a::b::f()`,
`super::x`, `self::x` or a child module's name (`use hub::Hub` in `live/mod.rs`). Paths are
resolved to the deepest module file that exists. The files that import each other, directly
or around a circle, form a strongly connected component (Tarjan); the script prints the size
of the largest one and its members, then every other component with more than one file.
With `--with-mod`, a `mod child;` declaration counts as an import of the child too (the
measure issue 13's "24 files" used); without it only paths count.

Usage: scripts/import-cycles.py [--with-mod] [crates/server/src]
"""

import os
import re
import sys


def module_of(rel):
    """The module path of a file: `api/mod.rs` -> ('api',), `lib.rs` -> ()."""
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    # String literals can hold `crate::` in messages; drop their contents.
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand_use(tree):
    """`a::{b, c::{d}}` -> ['a::b', 'a::c::d']."""
    tree = tree.strip()
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if start is None:
        return [tree.split(" as ")[0].strip()]
    prefix = tree[:start]
    inner = tree[start + 1 : tree.rindex("}")]
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for item in items:
        if item.strip():
            out.extend(prefix + p for p in expand_use(item))
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--with-mod"]
    with_mod = "--with-mod" in sys.argv[1:]
    root = args[0] if args else "crates/server/src"
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                files[module_of(rel)] = rel
    edges = {rel: set() for rel in files.values()}

    def resolve(base, path):
        segs = [s for s in path.split("::") if s]
        mod = list(base)
        if segs and segs[0] == "crate":
            mod, segs = [], segs[1:]
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                mod = mod[:-1]
            segs = segs[1:]
        best = None
        for n in range(len(segs) + 1):
            key = tuple(mod + segs[:n])
            if key in files:
                best = files[key]
        return best

    for mod, rel in files.items():
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = strip_comments(f.read())
        # Test modules are not part of the build's import graph.
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]
        paths = []
        for m in re.finditer(r"\buse\s+([^;]+);", text):
            paths.extend(expand_use(m.group(1)))
        paths.extend(m.group(0) for m in re.finditer(r"\b(?:crate|super)(?:::\w+)+", text))
        children = {k[-1] for k in files if len(k) == len(mod) + 1 and k[:-1] == mod}
        for path in paths:
            path = re.sub(r"\s+", "", path)
            first = path.split("::")[0]
            if first in ("crate", "super", "self"):
                target = resolve(mod, path)
            elif first in children:
                target = resolve(mod, path)
            else:
                continue
            if target and target != rel:
                edges[rel].add(target)
        if with_mod:
            for m in re.finditer(r"\bmod\s+(\w+)\s*;", text):
                child = files.get(mod + (m.group(1),))
                if child:
                    edges[rel].add(child)

    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    comps.sort(key=len, reverse=True)
    largest = comps[0] if comps else []
    how = "paths and mod declarations" if with_mod else "paths only"
    print(f"largest import circle in {root} ({how}): {len(largest)} files")
    for rel in largest:
        print(f"  {rel}")
    for comp in comps[1:]:
        if len(comp) > 1:
            print(f"other circle ({len(comp)}): {', '.join(comp)}")


if __name__ == "__main__":
    main()
