# Every executed instruction of a trace (pcs from trace-gdb.py) with its disassembly.
import json,glob,os,re,subprocess,sys
elf=sys.argv[1]
f=sys.argv[2]
pcs=json.load(open(f))
lo,hi=min(pcs),max(pcs)
ins={}
out=subprocess.run(["llvm-objdump","-d","--no-show-raw-insn",elf],capture_output=True,text=True).stdout
for l in out.splitlines():
    m=re.match(r'\s*([0-9a-f]{8}):\s+(.*)',l)
    if m: ins[int(m.group(1),16)]=m.group(2).split('@')[0].strip()
for p in pcs: print(hex(p), ins.get(p,'?'))
