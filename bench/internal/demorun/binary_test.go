package demorun

import (
	"bytes"
	"testing"
)

func TestBinaryPrebuilt(t *testing.T) {
	var progress bytes.Buffer
	bin, remove, err := Binary("/opt/httpdemo", "load", &progress)
	if err != nil || bin != "/opt/httpdemo" {
		t.Fatalf("Binary(prebuilt) = %q, %v; want /opt/httpdemo, nil", bin, err)
	}
	remove()
	if progress.Len() != 0 {
		t.Errorf("Binary(prebuilt) said %q; want nothing (no build)", progress.String())
	}
}
