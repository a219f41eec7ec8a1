package jetstream

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/batpak-go/batpak/projector"
	"github.com/nats-io/nats.go/jetstream"
)

// KVCache is a projector.Cache kept in a JetStream key-value bucket, so
// projected states are shared by every client of the cluster and survive
// restarts. An entry is the state with its watermark and time; a damaged or
// unreadable entry reads as a miss (the projection replays), as the
// projector expects of any cache.
type KVCache struct {
	kv      jetstream.KeyValue
	timeout time.Duration
}

// Compile-time proof that KVCache is a projector.Cache.
var _ projector.Cache = (*KVCache)(nil)

// KVCacheOptions configure NewKVCache.
type KVCacheOptions struct {
	// Bucket is the bucket's name (default "<stream>_projections").
	Bucket string
	// TTL drops entries not rewritten for this long (0: keep).
	TTL time.Duration
	// Timeout bounds one Get or Put (default the store's Timeout).
	Timeout time.Duration
}

// NewKVCache creates (or binds to) the projection cache bucket of s,
// replicated as s's stream is.
func (s *Store) NewKVCache(ctx context.Context, o KVCacheOptions) (*KVCache, error) {
	if o.Bucket == "" {
		o.Bucket = s.opts.Stream + "_projections"
	}
	if o.Timeout == 0 {
		o.Timeout = s.opts.Timeout
	}
	var kv jetstream.KeyValue
	err := s.retry(ctx, "create projection bucket", func(ctx context.Context) error {
		var err error
		kv, err = s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: o.Bucket, Description: "batpak projection cache", History: 1,
			TTL: o.TTL, Storage: s.storage(), Replicas: s.opts.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &KVCache{kv: kv, timeout: o.Timeout}, nil
}

// kvKey renders a cache key as a bucket key (letters, digits and a few
// marks only): name, version and subject, each base64url-encoded.
func kvKey(k projector.Key) string {
	enc := base64.RawURLEncoding
	return fmt.Sprintf("%s.%d.%s", enc.EncodeToString([]byte(k.Name)), k.Version, enc.EncodeToString([]byte(k.Subject)))
}

// An entry's value: watermark u64, cachedAt unix nanoseconds i64 (both
// little-endian), then the state.
const entryHeader = 16

// Get returns the entry for k.
func (c *KVCache) Get(k projector.Key) (projector.Entry, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	e, err := c.kv.Get(ctx, kvKey(k))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return projector.Entry{}, false, nil
	}
	if err != nil {
		return projector.Entry{}, false, err
	}
	v := e.Value()
	if len(v) < entryHeader {
		return projector.Entry{}, false, nil // damaged: a miss, replayed over
	}
	return projector.Entry{
		Watermark: binary.LittleEndian.Uint64(v),
		CachedAt:  time.Unix(0, int64(binary.LittleEndian.Uint64(v[8:]))),
		State:     v[entryHeader:],
	}, true, nil
}

// Put stores e under k, replacing what was there.
func (c *KVCache) Put(k projector.Key, e projector.Entry) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	v := make([]byte, entryHeader, entryHeader+len(e.State))
	binary.LittleEndian.PutUint64(v, e.Watermark)
	binary.LittleEndian.PutUint64(v[8:], uint64(e.CachedAt.UnixNano()))
	v = append(v, e.State...)
	_, err := c.kv.Put(ctx, kvKey(k), v)
	return err
}
