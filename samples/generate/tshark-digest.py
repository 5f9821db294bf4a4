#!/usr/bin/env python3
# The tshark figures test/capture/real-samples.test.ts holds for a capture: frames, TCP and UDP packets,
# and the SHA-256 (first 16 hex digits) of one line per TCP/UDP packet built from tshark's fields.
# Usage: python3 samples/generate/tshark-digest.py samples/NAME.pcap   (prints: frames tcp udp digest)
import subprocess, sys, hashlib
f = sys.argv[1]
out = subprocess.run(['tshark','-r',f,'-T','fields','-E','separator=\t','-e','frame.number','-e','ip.src','-e','ip.dst','-e','ipv6.src','-e','ipv6.dst','-e','tcp.srcport','-e','tcp.dstport','-e','tcp.seq_raw','-e','tcp.ack_raw','-e','tcp.flags','-e','tcp.len','-e','udp.srcport','-e','udp.dstport','-e','udp.length'],capture_output=True,text=True).stdout.splitlines()
frames=tcp=udp=0; lines=[]
for l in out:
    c=l.split('\t'); frames+=1
    n,s4,d4,s6,d6,tsp,tdp,seq,ack,fl,tl,usp,udp_,ul=c
    if s6: s=f'[{s6}]'; d=f'[{d6}]'
    else: s=s4.split(',')[0]; d=d4.split(',')[0]
    if tsp:
        tcp+=1; lines.append(f'tcp {s}:{tsp} {d}:{tdp} {int(seq)} {int(ack) if ack else 0} {int(fl,16)&0xff} {tl}\n')
    elif usp:
        udp+=1; lines.append(f'udp {s}:{usp.split(",")[0]} {d}:{udp_.split(",")[0]} 0 0 0 {int(ul.split(",")[0])-8}\n')
print(frames,tcp,udp,hashlib.sha256(''.join(lines).encode()).hexdigest()[:16])
