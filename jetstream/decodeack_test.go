package jetstream

import (
	"reflect"
	"testing"
)

// TestDecodeAck checks the hand-parsed acknowledgements against what
// encoding/json reads from the same answers, and that other shapes are
// left to it.
func TestDecodeAck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want pubAck
	}{
		{`{"stream":"BATPAK","seq":42}`, pubAck{Stream: "BATPAK", Seq: 42}},
		{`{"stream":"S","seq":7,"duplicate":true}`, pubAck{Stream: "S", Seq: 7, Duplicate: true}},
		{`{"stream":"S","seq":9,"domain":"x"}`, pubAck{Stream: "S", Seq: 9}},
		{`{"stream":"S","seq":3,"batch":"b","count":2}`, pubAck{Stream: "S", Seq: 3, BatchID: "b", Count: 2}},
		{`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"},"stream":"S","seq":0}`,
			pubAck{Stream: "S", Error: &APIError{Code: 400, ErrCode: 10071, Description: "wrong last sequence: 5"}}},
	} {
		var got pubAck
		if err := decodeAck([]byte(tc.in), &got); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	var got pubAck
	if err := decodeAck([]byte(`{"stream":"S","seq":99999999999999999999999}`), &got); err == nil {
		t.Errorf("an out-of-range sequence decoded as %d", got.Seq)
	}
}
