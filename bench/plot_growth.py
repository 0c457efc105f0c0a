#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Plot xgnt_bench's growth curves (cost per operation as live grants and
live mappings grow) from its JSON output. Not run by CI; needs matplotlib
(Debian: apt-get install python3-matplotlib, then /usr/bin/python3).

    python3 bench/plot_growth.py build-bench/bench.json bench/growth.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(results, prefix, suffix):
    """(n, xgnt ns/op, floor ns/op) of the growth rows named prefix ... suffix."""
    rows = [r for r in results
            if r["bench"] == "growth" and r["op"].startswith(prefix)
            and r["op"].endswith(suffix)]
    rows.sort(key=lambda r: r["n"])
    return ([r["n"] for r in rows], [r["ns_per_op"] for r in rows],
            [r["floor_ns_per_op"] for r in rows])


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_growth.py BENCH.json OUT.png")
    with open(sys.argv[1]) as f:
        data = json.load(f)
    res = data["results"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))

    for prefix, label, floor, colour in (
            ("grant + end access, ", "grant + end access", "two CAS", "tab:blue"),
            ("map + unmap b1, ", "map + unmap (batch 1)", "mmap + replace", "tab:red")):
        n, x, fl = series(res, prefix, "live grants")
        if n:
            left.plot(n, x, "o-", color=colour, label=label + " (xgnt)")
            left.plot(n, fl, "s--", color=colour, alpha=0.6, label=floor + " (floor)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("live grants held by the frontend")
    left.set_ylabel("ns per operation (median)")
    left.set_title("Live grants")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)

    n, x, fl = series(res, "map + unmap b1, ", "live mappings")
    if n:
        right.plot(n, x, "o-", color="tab:red", label="map + unmap (xgnt)")
        right.plot(n, fl, "s--", color="tab:red", alpha=0.6,
                   label="mmap + replace (floor)")
        right.set_ylim(0, max(x + fl) * 1.2)
        right.annotate("mapping budget\n(vm.max_map_count)", (n[-1], x[-1]),
                       textcoords="offset points", xytext=(-130, -60), fontsize=8,
                       arrowprops={"arrowstyle": "->"})
    right.set_xscale("log")
    right.set_xlabel("live grant mappings held by the backend")
    right.set_ylabel("ns per operation (median)")
    right.set_title("Live mappings")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8, loc="lower right")

    m = data["machine"]
    fig.suptitle("xgnt_bench growth: %s, %d CPUs, %s" % (m["cpu"], m["nproc"], m["kernel"]),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
