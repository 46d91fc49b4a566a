#!/usr/bin/env python3
"""The C symbols the extension's SQL scripts name, and what renaming them
asks of a release.

One library serves every version of the extension, so every symbol that a
released install script names must stay exported: a database still on that
version (or CREATE EXTENSION ... VERSION it) resolves it. When the current
scripts name a function's symbol differently, the old name is kept as an
alias (src/pg/symbols_0_1_0.cpp for 0.1.0) and the upgrade script
re-creates the function with the new symbol.

    c_symbols.py list SCRIPT...
        signature and symbol of every C function the scripts create, the
        last definition of each signature winning (as when they run in
        order)
    c_symbols.py changes RELEASED NEW...
        the (old, new) symbol pairs of functions of RELEASED whose symbol
        differs in NEW (the install script of the current version), then
        the CREATE OR REPLACE statements the upgrade script needs for them,
        copied from NEW
    c_symbols.py check RELEASED ALIASES NEW...
        fails unless every symbol RELEASED names is named by NEW or aliased
        in ALIASES (a C++ file of CA_SYMBOL_0_1_0(old, new) lines) to a
        symbol NEW names or to a function still defined with CA_FUNCTION in
        src/pg (an aggregate's internal-state function, which a database
        still on the released version calls, kept beside the entry point
        that wraps it for the current state type)

NEW may be several files, read in order (extension/source/*.sql); the
upgrade script can be listed after them to check what it leaves behind.
"""
import os
import re
import sys

TYPE_ALIASES = {
    "float8": "double precision", "float4": "real", "int": "integer", "int4": "integer", "int8": "bigint",
    "int2": "smallint", "bool": "boolean", "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone", "varchar": "character varying",
}
MULTIWORD_TYPES = ("double precision", "timestamp with time zone", "timestamp without time zone",
                   "character varying")
TYPE_WORDS = {"internal", "date", "numeric", "text", "bytea", "cstring", "boolean", "bool", "integer", "int",
              "int4", "int8", "bigint", "smallint", "float8", "float4", "real", "double", "timestamptz",
              "timestamp", "regclass", "regrole", "regtype", "name", "jsonb", "json", "trigger", "void",
              "record", "anyelement"}


def statements(text):
    """The script's statements, without comments, split at top-level ';'."""
    out, current, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == "'":
            j = i + 1
            while j < n:
                if text[j] == "'" and j + 1 < n and text[j + 1] == "'":
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    j += 1
            current.append(text[i:j + 1])
            i = j + 1
            continue
        m = re.match(r"\$([A-Za-z_]*)\$", text[i:])
        if m:
            tag = m.group(0)
            j = text.find(tag, i + len(tag))
            j = n if j < 0 else j + len(tag)
            current.append(text[i:j])
            i = j
            continue
        if c == ";":
            out.append("".join(current).strip())
            current = []
        elif c == "\\" and (i == 0 or text[i - 1] == "\n"):  # a psql meta-command line
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        else:
            current.append(c)
        i += 1
    if "".join(current).strip():
        out.append("".join(current).strip())
    return out


def split_top(text, separator=","):
    parts, depth, current, quote = [], 0, [], False
    for c in text:
        if c == "'":
            quote = not quote
        if not quote:
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
            elif c == separator and depth == 0:
                parts.append("".join(current))
                current = []
                continue
        current.append(c)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def normal_type(words):
    text = " ".join(words).lower().replace("@extschema@.", "")
    array = ""
    while text.endswith("[]"):
        array += "[]"
        text = text[:-2].strip()
    return TYPE_ALIASES.get(text, text) + array


def argument_type(argument):
    argument = re.split(r"\s+DEFAULT\s+|\s*=\s*", argument.strip(), maxsplit=1, flags=re.I)[0]
    words = argument.split()
    if words and words[0].upper() in ("IN", "OUT", "INOUT", "VARIADIC"):
        words = words[1:]
    joined = " ".join(words).lower()
    if len(words) > 1 and not any(joined.startswith(t) for t in MULTIWORD_TYPES):
        base = words[0].lower().replace("@extschema@.", "").rstrip("[]")
        if base not in TYPE_WORDS or len(words) > 1:
            words = words[1:]
    return normal_type(words)


def c_functions(paths):
    """{signature: (symbol, statement)} of the C functions the scripts create."""
    functions = {}
    for path in paths:
        for statement in statements(open(path, encoding="utf-8").read()):
            m = re.match(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([\w@.\"]+)\s*\(", statement, re.I)
            if not m:
                continue
            start = m.end()
            depth, j = 1, start
            while depth:
                depth += {"(": 1, ")": -1}.get(statement[j], 0)
                j += 1
            arguments = statement[start:j - 1]
            name = m.group(1).replace("@extschema@.", "").lower()
            signature = "%s(%s)" % (name, ", ".join(argument_type(a) for a in split_top(arguments)))
            s = re.search(r"AS\s+'MODULE_PATHNAME'\s*,\s*'(\w+)'", statement[j:], re.I)
            if s and re.search(r"LANGUAGE\s+C\b", statement[j:], re.I):
                functions[signature] = (s.group(1), statement)
            else:
                functions.pop(signature, None)  # replaced by a function in another language
    return functions


def aliases(path):
    text = open(path, encoding="utf-8").read()
    return dict(re.findall(r"^CA_SYMBOL_0_1_0\(\s*(\w+)\s*,\s*(\w+)\s*\)", text, re.M))


def main(argv):
    if len(argv) >= 2 and argv[0] == "list":
        for signature, (symbol, _) in sorted(c_functions(argv[1:]).items()):
            print("%s\t%s" % (signature, symbol))
        return 0
    if len(argv) >= 3 and argv[0] == "changes":
        released, new = c_functions([argv[1]]), c_functions(argv[2:])
        new_symbols = {symbol for symbol, _ in new.values()}
        pairs, statements_out = {}, []
        for signature in sorted(set(released) - set(new)):
            print("-- %s is gone (drop it in the upgrade script)" % signature)
        # In the order of the new install script, which groups them by concept.
        for signature, (symbol, statement) in new.items():
            if signature in released and released[signature][0] != symbol:
                statements_out.append(re.sub(r"^CREATE\s+FUNCTION", "CREATE OR REPLACE FUNCTION", statement,
                                             flags=re.I) + ";")
                old = released[signature][0]
                if old not in new_symbols:
                    pairs.setdefault(old, symbol)
        print("-- (old, new) symbols: %d" % len(pairs))
        for old, now in pairs.items():
            print("CA_SYMBOL_0_1_0(%s, %s)" % (old, now))
        print("-- functions of the released version whose symbol changed: %d" % len(statements_out))
        for statement in statements_out:
            print(statement)
        return 0
    if len(argv) >= 4 and argv[0] == "check":
        released, kept, new = c_functions([argv[1]]), aliases(argv[2]), c_functions(argv[3:])
        new_symbols = {symbol for symbol, _ in new.values()}
        glue = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "pg")
        defined = set()
        for name in sorted(os.listdir(glue)):
            if name.endswith(".cpp"):
                defined |= set(re.findall(r"^CA_FUNCTION\((\w+)\)", open(os.path.join(glue, name)).read(), re.M))
        problems = []
        for signature, (symbol, _) in sorted(released.items()):
            # An alias can stand for one function only: every function of
            # the released version that shared a symbol must still share one.
            now = new.get(signature, (None,))[0]
            if symbol in kept and now is not None and now != kept[symbol]:
                problems.append("%s is aliased to %s, but %s now names %s" % (symbol, kept[symbol], signature, now))
            if symbol in new_symbols:
                if now is not None and now != symbol:
                    problems.append("%s names %s, which now belongs to another function" % (signature, symbol))
                continue
            if symbol not in kept:
                problems.append("%s names %s, which is neither named now nor aliased" % (signature, symbol))
            elif kept[symbol] not in new_symbols and kept[symbol] not in defined:
                problems.append("%s is aliased to %s, which no script names and src/pg does not define" % (
                    symbol, kept[symbol]))
        for old in sorted(set(kept) - {s for s, _ in released.values()}):
            problems.append("%s is aliased but the released script does not name it" % old)
        for problem in problems:
            print(problem)
        print("%d symbols of %s: %d named now, %d aliased, %d problems" % (
            len({s for s, _ in released.values()}), argv[1],
            len({s for s, _ in released.values()} & new_symbols), len(kept), len(problems)))
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
