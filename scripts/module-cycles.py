#!/usr/bin/env python3
"""Finds import cycles between the modules (files) of Rust crates.

    scripts/module-cycles.py SRC_DIR...

Each SRC_DIR is a crate's `src/`. The crate's module tree is read from its `mod`
declarations, starting at `lib.rs` (or `main.rs`); then every `use crate::...`,
`use super::...`, `use self::...`, every `crate::x::...` path in the code and every path
that starts with a child module's name (`cors::Cors` in `middleware/mod.rs`) is resolved to
the deepest module it names. A module that names another depends on it; a file is one node
(inline modules such as `mod tests { ... }` belong to their file). A `mod x;` declaration is
containment, not a dependency.

Exits 1 and prints each cycle (each knot of files that reach each other, with one path
around it) when there is one; exits 0 when the module graph of every crate is acyclic.
Python 3 standard library only.
"""

import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_code(text):
    """The text with comments, string and char literals blanked out (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "rb" and re.match(r'(br|r)#*"', text[i:i + 260]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            m = re.match(r'(br|r)(#*)"', text[i:])
            end = '"' + m.group(2)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"' or (c == "b" and nxt == '"' and (i == 0 or not re.match(r"\w", text[i - 1]))):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}'), not a lifetime ('a).
            m = re.match(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_file(directory, name):
    """The file of module `name` declared by a file whose children live in `directory`."""
    for candidate in (os.path.join(directory, name + ".rs"), os.path.join(directory, name, "mod.rs")):
        if os.path.isfile(candidate):
            return candidate
    return None


def children_dir(path):
    """Where the file modules declared in `path` live."""
    base = os.path.basename(path)
    if base in ("lib.rs", "main.rs", "mod.rs"):
        return os.path.dirname(path)
    return os.path.splitext(path)[0]


class Crate:
    def __init__(self, src):
        self.src = src
        root = next((os.path.join(src, f) for f in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, f))), None)
        if root is None:
            raise SystemExit(f"module-cycles: no lib.rs or main.rs in {src}")
        self.files = {}  # module path (tuple) -> file
        self.code = {}  # file -> stripped code
        self.walk(root, ())

    def walk(self, path, modpath):
        self.files[modpath] = path
        with open(path, encoding="utf-8") as f:
            code = strip_code(f.read())
        self.code[path] = code
        # File modules only: `mod x;` (inline `mod x { ... }` stays in this file).
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*;", code):
            child = module_file(children_dir(path), m.group(1))
            if child:
                self.walk(child, modpath + (m.group(1),))

    def file_of(self, path):
        """The file of the deepest module that `path` (a tuple of names) starts with."""
        for k in range(len(path), -1, -1):
            if path[:k] in self.files:
                return self.files[path[:k]]
        return self.files[()]


def inline_module_at(code):
    """For each offset of `code`, the inline modules (names) it sits in."""
    spans = []  # (start, end, name)
    for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
            j += 1
        spans.append((m.end(), j, m.group(1)))
    return lambda offset: tuple(name for (s, e, name) in spans if s <= offset < e)


def use_trees(text):
    """Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths."""
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"\bas" + IDENT, "", text)

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        return parts

    def expand(s):
        brace = s.find("{")
        if brace < 0:
            return [s]
        prefix, inner = s[:brace], s[brace + 1:s.rfind("}")]
        out = []
        for part in split_top(inner):
            for tail in expand(part):
                out.append((prefix + tail) if tail != "self" else prefix.rstrip(":"))
        return out

    return [p for p in expand(text) if p]


def references(crate, path, modpath):
    """The module paths the file `path` (module `modpath`) names."""
    code = crate.code[path]
    inline_at = inline_module_at(code)
    found = []

    def resolve(names, offset):
        here = modpath + inline_at(offset)
        if not names:
            return None
        if here + (names[0],) in crate.files:
            return here + tuple(names)  # a child module, named without `self::`
        if names[0] == "crate":
            return tuple(names[1:])
        if names[0] in ("super", "self"):
            base = list(here)
            i = 0
            while i < len(names) and names[i] in ("super", "self"):
                if names[i] == "super":
                    base = base[:-1]
                i += 1
            return tuple(base) + tuple(names[i:])
        return None

    for m in re.finditer(r"\buse\s+([^;]+);", code):
        for p in use_trees(m.group(1)):
            target = resolve([x for x in p.split("::") if x and x != "*"], m.start())
            if target is not None:
                found.append(target)
    for m in re.finditer(r"(?<![\w$:])(" + IDENT + r")((?:::" + IDENT + r")+)", code):
        before = code[max(0, m.start() - 200):m.start()]
        if re.search(r"\buse\s+[^;]*$", before):
            continue  # inside a use statement: counted above
        names = [m.group(1)] + [x for x in m.group(2).split("::") if x]
        target = resolve(names, m.start())
        if target is not None:
            found.append(target)
    return found


def graph(crate):
    edges = {f: set() for f in crate.code}
    for modpath, path in crate.files.items():
        for target in references(crate, path, modpath):
            dest = crate.file_of(target)
            if dest != path:
                edges[path].add(dest)
    return edges


def knots(edges):
    """Strongly connected components with more than one file (Tarjan, iteratively)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def one_cycle(edges, knot):
    """A shortest path from the knot's first file back to itself, inside the knot."""
    members = set(knot)
    start = knot[0]
    prev = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges[node]):
            if nxt == start:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if nxt in members and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return [start]


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    failed = False
    for src in argv[1:]:
        crate = Crate(src.rstrip("/"))
        edges = graph(crate)
        rel = lambda f: os.path.relpath(f, crate.src)
        found = knots(edges)
        for knot in found:
            failed = True
            cycle = " -> ".join(rel(f) for f in one_cycle(edges, knot))
            print(f"{src}: cycle: {cycle}")
            print(f"  {len(knot)} files reach each other: {', '.join(rel(f) for f in knot)}")
        if not found:
            print(f"{src}: {len(crate.files)} modules, no import cycle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
