"""Per-step and per-second summaries of stepload -save JSON files.

python3 analyze.py steps FILE...    one line per mode: step:goodput/s/2xx p99 ms/median limit
python3 analyze.py seconds FILE...  the 90%, 200% and 100% steps second by second: 2xx p99 ms(highest limit)
"""
import json
import sys


def steps(run):
    """Yields (name, start, end) of each step of a run, in ns from the load's start."""
    t0 = 0
    for st in run['Mode']['Steps']:
        yield st['Name'], t0, t0 + st['Duration']
        t0 += st['Duration']


def ok_latencies(run, lo, hi):
    return sorted(x['Latency'] for x in run['Samples'] if lo <= x['Sent'] < hi and 200 <= x['Code'] < 300)


def p99(lat):
    return lat[int(0.99 * (len(lat) - 1))] / 1e6 if lat else 0


def main(what, files):
    for f in files:
        for run in json.load(open(f))['Runs']:
            out = []
            for name, a, b in steps(run):
                if what == 'steps':
                    lat = ok_latencies(run, a, b)
                    lim = sorted(x['Limit'] for x in run['Limits'] if a <= x['At'] < b)
                    out.append('%s:%.0f/%.0f/L%s' % (name.split()[0], len(lat) / ((b - a) / 1e9), p99(lat),
                                                     lim[len(lim) // 2] if lim else '-'))
                elif name in ('90%', '200%', '100%'):
                    secs = []
                    for lo in range(a, b, 10**9):
                        lim = [x['Limit'] for x in run['Limits'] if lo <= x['At'] < lo + 10**9]
                        secs.append('%.0f(%s)' % (p99(ok_latencies(run, lo, lo + 10**9)), max(lim) if lim else '-'))
                    out.append('%s step p99 %.1f: %s' % (name, p99(ok_latencies(run, a, b)), ' '.join(secs)))
            print(f, run['Mode']['Label'])
            print(('  ' if what == 'steps' else '\n').join(out))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
