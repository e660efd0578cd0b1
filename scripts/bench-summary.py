#!/usr/bin/env python3
"""Prints the ratios of one `scripts/bench.sh` round against the targets of issue #16.

Input: the JSON lines hake-bench printed during the round, each tagged with its store, in
the order they ran. Each figure is divided by the ceiling measured last before it on the
same store (`livez` of the same server for submits and `states`, the spawn ceiling for
trivial jobs); the catch-up and download modes measure their static-server ceiling
themselves and report the ratio.
"""

import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    out = []
    last = {}
    by_store = {}

    def check(name, value, target, ok):
        mark = "met" if ok else "NOT met"
        out.append(f"{name:<48} {value:<34} {target:<22} {mark}")

    for r in rows:
        store, bench = r.get("store", "sqlite"), r["bench"]
        key = (store, bench)
        if bench in ("livez", "spawn"):
            last[key] = r
            continue
        if bench == "submit" and (store, "livez") in last:
            ceil = last[(store, "livez")]["rps"]
            by_store[store] = r["rps"]
            ratio = r["rps"] / ceil
            check(
                f"[{store}] signed submits / livez",
                f"{r['rps']:.0f} / {ceil:.0f} = {ratio:.2f}, p99 {r['p99_ms']:.1f} ms",
                ">= 0.25, p99 <= 10 ms",
                ratio >= 0.25 and r["p99_ms"] <= 10 and r["errors"] == 0,
            )
        elif bench == "states" and (store, "livez") in last:
            ceil = last[(store, "livez")]["rps"]
            ratio = r["rps"] / ceil
            check(
                f"[{store}] states / livez",
                f"{r['rps']:.0f} / {ceil:.0f} = {ratio:.2f}",
                ">= 0.5",
                ratio >= 0.5,
            )
        elif bench == "trivial" and r.get("concurrency", 64) > 1 and (store, "spawn") in last:
            ceil = last[(store, "spawn")]["per_s"]
            ratio = r["jobs_per_s"] / ceil
            check(
                f"[{store}] trivial Exec jobs / spawn ceiling",
                f"{r['jobs_per_s']:.0f} / {ceil:.0f} = {ratio:.2f}",
                ">= 0.7",
                ratio >= 0.7 and r["failed"] == 0,
            )
        elif bench == "catchup-summary":
            st = r["static_mb_per_s"]
            for name, key, target in (
                ("text/plain", "text_mb_per_s", 1.0),
                ("NDJSON", "ndjson_mb_per_s", 0.5),
            ):
                ratio = r[key] / st
                check(
                    f"[{store}] catch-up {name} / static (median of {r['rounds']})",
                    f"{r[key]:.0f} / {st:.0f} MB/s = {ratio:.2f}",
                    f">= {target}",
                    ratio >= target,
                )
        elif bench == "download":
            check(
                f"[{store}] result download / static",
                f"{r['hake_mb_per_s']:.0f} / {r['python_mb_per_s']:.0f} MB/s = {r['ratio']:.2f}",
                ">= 1.0",
                r["ratio"] >= 1.0,
            )
        elif bench == "logs":
            check(
                f"[{store}] follower p99, {r['followers']} x {r['rate']} lines/s",
                f"{r['p99_ms']:.1f} ms, {r['lost']} lost",
                "<= 5 ms, 0 lost",
                r["p99_ms"] <= 5 and r["lost"] == 0,
            )
        elif bench == "rss":
            check(
                f"[{store}] RSS, {r['jobs']} jobs + {r['followers']} followers",
                f"{r['with_followers_mb']:.0f} MB"
                + (
                    f" ({r['with_followers_anon_mb']:.0f} anonymous, {r['with_followers_file_mb']:.0f} file)"
                    if "with_followers_anon_mb" in r
                    else ""
                ),
                "<= 100 MB",
                r["with_followers_mb"] <= 100,
            )
    if "sqlite" in by_store and "postgres" in by_store:
        ratio = by_store["postgres"] / by_store["sqlite"]
        check(
            "PostgreSQL submits / SQLite submits",
            f"{by_store['postgres']:.0f} / {by_store['sqlite']:.0f} = {ratio:.2f}",
            ">= 0.5",
            ratio >= 0.5,
        )
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
