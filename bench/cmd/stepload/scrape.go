package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// scrapeLimits reads metric name from url every interval until ctx ends,
// and returns the readings, timed from began. A failed read is skipped:
// the chart shows a gap, not a made-up value.
func scrapeLimits(ctx context.Context, url, name string, every time.Duration, began time.Time) []limitPoint {
	client := &http.Client{Timeout: every * 4}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var out []limitPoint
	for {
		if v, ok := readMetric(ctx, client, url, name); ok {
			out = append(out, limitPoint{At: time.Since(began), Limit: v})
		}
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
	}
}

// readMetric GETs url and returns name's value from it.
func readMetric(ctx context.Context, client *http.Client, url, name string) (float64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, false
	}
	return metricValue(body, name)
}

// metricValue returns the value of the first sample of metric name in a
// Prometheus text exposition, whatever its labels, and whether there was
// one. Comments, other metrics and metrics whose name only starts with
// name are skipped.
func metricValue(body []byte, name string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, name)
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		case strings.HasPrefix(rest, " "), strings.HasPrefix(rest, "\t"):
		default:
			continue // another metric: name_total, say
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 { // a value, then maybe a timestamp
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		return v, true
	}
	return 0, false
}
