import json,sys,re
for f in sys.argv[1:]:
    d=json.load(open(f))
    for r in d['Runs']:
        m=r['Mode']; steps=m['Steps']
        t0=0; res=[]
        for st in steps:
            a,b=t0,t0+st['Duration']; t0=b
            s=[x for x in r['Samples'] if a<=x['Sent']<b]
            L=sorted(x['Latency'] for x in s if 200<=x['Code']<300)
            p99=L[int(.99*(len(L)-1))]/1e6 if L else 0
            gp=len(L)/(st['Duration']/1e9)
            lim=[x['Limit'] for x in r['Limits'] if a<=x['At']<b]
            lim.sort()
            res.append('%s:%.0f/%.0f/L%s'%(st['Name'].split()[0],gp,p99,lim[len(lim)//2] if lim else '-'))
        first=[x['Latency'] for x in r['Samples'] if steps[0]['Duration']+2*10**10<=x['Sent']<steps[0]['Duration']+2*10**10+10**9 and x['Code']==200]
        print(f.split('/')[-1][:12], m['Key'][:10], ' '.join(res))
