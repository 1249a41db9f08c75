# gdb-multiarch -batch -nx -x trace-gdb.py; env ROW (hex addr of the bench row fn),
# FN (hex addr of bench_fn), PORT, OUT. Traces one call of bench_fn during ROW.
import gdb, json, os, re
row = int(os.environ["ROW"], 16); fn = int(os.environ["FN"], 16)
gdb.execute("set pagination off"); gdb.execute("set confirm off")
gdb.execute("set architecture arm")
gdb.execute("target remote 127.0.0.1:%s" % os.environ["PORT"])
def packet(p):
    s = gdb.execute("maint packet " + p, to_string=True)
    return re.search(r'received: "(.*)"', s).group(1)
def reg(n):
    h = packet("p%x" % n)
    return int.from_bytes(bytes.fromhex(h[:8]), "little")
gdb.execute("hbreak *%#x" % row)
gdb.execute("continue", to_string=True)
gdb.execute("delete")
gdb.execute("hbreak *%#x" % fn)
skip = int(os.environ.get("SKIP", "0"))
for _ in range(skip + 1):
    gdb.execute("continue", to_string=True)
gdb.execute("delete")
gdb.execute("maint flush register-cache", to_string=True)
lr = reg(14); pcs = [reg(15)]
while len(pcs) < 20000:
    packet("s")
    pc = reg(15)
    if pc == lr: break
    pcs.append(pc)
json.dump(pcs, open(os.environ["OUT"], "w"))
gdb.execute("kill")
