import json,sys
# per-second p99 of 2xx (by send time) in the 200% step; steps start after Config lead? use step boundaries from durations
for f in sys.argv[1:]:
    d=json.load(open(f))
    for r in d['Runs']:
        m=r['Mode']; steps=m['Steps']
        t0=0; bounds=[]
        for st in steps:
            bounds.append((st['Name'],t0,t0+st['Duration'])); t0+=st['Duration']
        s=r['Samples']; lim=r['Limits']
        out=[]
        for name,a,b in bounds:
            if name not in ('200%','100%','90%'): continue
            row=[]
            for sec in range((b-a)//10**9):
                lo=a+sec*10**9; hi=lo+10**9
                L=sorted(x['Latency'] for x in s if lo<=x['Sent']<hi and 200<=x['Code']<300)
                p99=L[int(0.99*(len(L)-1))]/1e6 if L else 0
                ls=[x['Limit'] for x in lim if lo<=x['At']<hi]
                row.append('%.0f(%s)'%(p99, max(ls) if ls else '-'))
            allL=sorted(x['Latency'] for x in s if a<=x['Sent']<b and 200<=x['Code']<300)
            out.append('%s step p99 %.1f: %s'%(name, allL[int(0.99*(len(allL)-1))]/1e6, ' '.join(row)))
        print(f, m['Label']); print('\n'.join(out))
