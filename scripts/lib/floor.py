#!/usr/bin/env python3
"""The purchase's floor: a pgbench script of exactly the statements a purchase executes.

Usage: floor.py LOG MEMBERS_TABLE OUT.sql OUT.txt

LOG is PostgreSQL's log over a few purchases recorded with `log_statement = all` and
`log_line_prefix = '[%p] '` (scripts/bench sets both for a moment, in the same run as the
measurement, so the script cannot drift from the code). The transactions that stored a
purchase are read back per backend; the most common sequence of statements among them is
the purchase's. Each statement keeps its text; each `$n` becomes a pgbench variable cast to
the parameter's type, holding the value the server sent. Values that differ from one
purchase to the next are drawn per transaction: the member (at random, from MEMBERS_TABLE,
a table `(n, id)` of the business's members), and each uuid or text that must be new (the
purchase's id, its external id and whatever contains them) from one random number.

OUT.sql is the pgbench script (`pgbench -M prepared -f OUT.sql -D members=N` and a `-D` for
each line of OUT.sql.vars, the constants); OUT.txt lists
its statements for the benchmark's record.
"""

import collections
import re
import sys

LINE = re.compile(r"^\[(\d+)\] (LOG|DETAIL|ERROR|STATEMENT|HINT|CONTEXT|WARNING):  (.*)$")
EXEC = re.compile(r"^(?:execute [^:]*|statement): (.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID_IN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?$")


def read_log(path):
    """Messages per backend: (pid, kind, text), continuation lines joined."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            m = LINE.match(raw)
            if m:
                out.append([m.group(1), m.group(2), m.group(3)])
            elif out:
                out[-1][2] += "\n" + raw.lstrip("\t")
    return out


def transactions(messages):
    """Each backend's statements from BEGIN to COMMIT, with their parameters."""
    open_tx, done, last = {}, [], {}
    for pid, kind, text in messages:
        if kind == "LOG":
            m = EXEC.match(text)
            if not m:
                continue
            sql = m.group(1).strip()
            stmt = {"sql": sql, "params": {}}
            last[pid] = stmt
            head = sql.lstrip().upper()
            if head.startswith("BEGIN"):
                open_tx[pid] = [stmt]
            elif pid in open_tx:
                open_tx[pid].append(stmt)
                if head.startswith("COMMIT") or head.startswith("ROLLBACK"):
                    done.append(open_tx.pop(pid))
        elif kind == "DETAIL" and text.startswith("parameters:") and pid in last:
            for n, v in PARAM.findall(text):
                last[pid]["params"][int(n)] = None if v == "NULL" else v[1:-1].replace("''", "'")
    return done


def kind_of(value):
    if value is None:
        return None
    if UUID.match(value):
        return "uuid"
    if value.startswith("{") and UUID_IN.search(value) and not value.startswith('{"'):
        return "uuid[]"
    if value.startswith("\\x"):
        return "bytea"
    if value in ("t", "f"):
        return "boolean"
    if re.fullmatch(r"-?\d+", value):
        return "bigint"
    if TS.match(value):
        return "timestamptz"
    if value[:1] in "{[" and value[-1:] in "}]":
        return "jsonb"
    return "text"


def main():
    log, members_table, out_sql, out_txt = sys.argv[1:5]
    txs = [t for t in transactions(read_log(log))
           if any("INSERT INTO purchases" in s["sql"] for s in t)]
    if len(txs) < 2:
        sys.exit(f"floor: {len(txs)} purchase transactions in the log (need 2 or more)")
    shapes = collections.Counter(tuple(s["sql"] for s in t) for t in txs)
    shape, count = shapes.most_common(1)[0]
    same = [t for t in txs if tuple(s["sql"] for s in t) == shape]
    if len(same) < 2:
        sys.exit("floor: no statement sequence was seen twice")
    a, b = same[-1], same[-2]
    # The member: the first uuid parameter of the statement that opens the purchase.
    member = None
    for s in a:
        if "FROM members m" in s["sql"] and s["params"]:
            member = s["params"].get(1)
            break
    if not member or not UUID.match(member):
        sys.exit("floor: the member could not be found in the purchase's first read")
    # Values that change from one purchase to the next, other than the member: drawn anew.
    fresh = {}
    for sa, sb in zip(a, b):
        for n, va in sa["params"].items():
            vb = sb["params"].get(n)
            if va is None or va == vb or va == member:
                continue
            k = kind_of(va)
            if k == "uuid":
                fresh.setdefault(va, f"f{len(fresh)}")
            elif k == "text" and not UUID_IN.search(va):
                fresh.setdefault(va, f"f{len(fresh)}")
    def draw(tag, value):
        # The same expression for the same value, so that a transaction's statements agree.
        if kind_of(value) == "uuid":
            return f"md5(:r::text || '{tag}')::uuid::text"
        return f"'floor-' || :client_id || '-' || :r || '-{tag}'"

    variables = {}  # name -> (value, type)
    per_tx = {}  # name -> SQL expression giving it per transaction
    statements = []
    for i, s in enumerate(a):
        sql = s["sql"]

        def param(m, i=i, s=s):
            n = int(m.group(1))
            v = s["params"].get(n)
            k = kind_of(v)
            if v is None:
                return "NULL"
            # Parameters go untyped, as values of a type PostgreSQL infers from where they
            # stand (the server sends the same types explicitly); a uuid is cast, since it
            # also stands where text would do.
            cast = {"uuid": "::uuid", "uuid[]": "::uuid[]"}.get(k, "")
            name = f"s{i}_p{n}"
            if v == member:
                per_tx["member"] = "id"
                return f":member{cast}"
            if v in fresh:
                tag = fresh[v]
                per_tx[tag] = draw(tag, v)
                return f":{tag}{cast}"
            if k in ("text", "jsonb") and (member in v or any(f in v for f in fresh)):
                # A text holding a fresh value (a key such as `purchase:<id>`): built per
                # transaction from the same draws.
                expr = "'" + v.replace("'", "''") + "'"
                for f, tag in fresh.items():
                    if f in v:
                        expr = f"replace({expr}, '{f}', {draw(tag, f)})"
                if member in v:
                    expr = f"replace({expr}, '{member}', id::text)"
                per_tx[name] = expr
                return f":{name}"
            variables[name] = (v, k)
            return f":{name}{cast}"

        body = re.sub(r"\$(\d+)", param, sql) if s["params"] else sql
        # A message of several statements (BEGIN with the search path) stays one round trip:
        # pgbench cannot prepare it whole, so its statements go in one pipeline.
        parts = [p.strip() for p in body.strip().rstrip(";").split(";") if p.strip()]
        if len(parts) > 1 and not s["params"]:
            statements.append("\\startpipeline\n" + "".join(p + ";\n" for p in parts)
                              + "\\endpipeline")
        else:
            statements.append(body.strip().rstrip(";") + ";")
    with open(out_sql, "w", encoding="utf-8") as f:
        f.write("-- generated by scripts/lib/floor.py from the statements of a purchase\n")
    # The constants: pgbench variables set once for every client (`-D name=value`, one per
    # line of OUT.sql.vars).
    with open(out_sql + ".vars", "w", encoding="utf-8") as f:
        for name, (v, _) in variables.items():
            if "\n" in v:
                sys.exit(f"floor: parameter {name} holds a line break")
            f.write(f"{name}={v}\n")
    with open(out_sql, "a", encoding="utf-8") as f:
        f.write("\\set m random(0, :members - 1)\n\\set r random(1, 1000000000000000)\n")
        draws = [f"{expr} AS {name}" for name, expr in per_tx.items() if name != "member"]
        cols = ", ".join(["id::text AS member"] + draws)
        f.write(f"SELECT {cols} FROM {members_table} WHERE n = :m \\gset\n")
        for st in statements:
            f.write(st + "\n")
    with open(out_txt, "w", encoding="utf-8") as f:
        f.write(f"{len(statements)} statements per purchase ({count} of {len(txs)} purchases "
                f"had this sequence)\n")
        for s in a:
            f.write(re.sub(r"\s+", " ", s["sql"])[:160] + "\n")
    print(f"floor: {len(statements)} statements per purchase, {len(variables)} constants, "
          f"{len(per_tx)} values drawn per transaction; {count} of {len(txs)} purchases had "
          f"this sequence")


if __name__ == "__main__":
    main()
