# Instructions per function (consecutive runs) of a trace written by trace-gdb.py.
import sys, json, subprocess, bisect, collections
elf, cap = sys.argv[1], sys.argv[2]
syms = []
for l in subprocess.run(["llvm-nm", "-C", "-n", elf], capture_output=True, text=True).stdout.splitlines():
    p = l.split(None, 2)
    if len(p) == 3 and len(p[0]) == 8 and p[1] in "tTwW" and not p[2].startswith("$"):
        syms.append((int(p[0], 16), p[2]))
addrs = [a for a, _ in syms]
pcs = json.load(open(cap))
def name(pc):
    i = bisect.bisect_right(addrs, pc) - 1
    return syms[i][1][:90] if i >= 0 else "?"
print("total", len(pcs))
runs = []
for pc in pcs:
    n = name(pc)
    if runs and runs[-1][0] == n: runs[-1][1] += 1
    else: runs.append([n, 1])
for n, c in runs: print(f"{c:5} {n}")
