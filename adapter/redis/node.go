package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// node is one server's presence in the cluster: the subscriber connection
// its namespace adapters share, the goroutine that reads it, and the
// goroutine that publishes responses in order. A node of a sharded factory
// subscribes with SSUBSCRIBE and publishes with SPUBLISH.
type node struct {
	f      *factory
	client goredis.UniversalClient
	ps     *goredis.PubSub

	mu     sync.Mutex
	names  map[string]bool   // namespaces served (reserved by the factory)
	routes map[string]member // channel or pattern → its adapter

	// up is false from a receive error until Redis confirms a subscription
	// again: cluster operations then fail at once.
	up      atomic.Bool
	lastErr atomic.Pointer[error]
	// ops is canceled when Redis is found gone, ending the commands then in
	// flight (go-redis would go on dialing and retrying them for seconds).
	ops atomic.Pointer[opsContext]

	out  chan outgoing // responses, published in order by sendLoop
	quit chan struct{}
	wg   sync.WaitGroup
}

type opsContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newOpsContext() *opsContext {
	ctx, cancel := context.WithCancel(context.Background())
	return &opsContext{ctx, cancel}
}

// command returns the context of one Redis command: ctx bounded by the
// request timeout, ended too if Redis is found gone meanwhile.
func (n *node) command(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, n.f.timeout)
	stop := context.AfterFunc(n.ops.Load().ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// outgoing is a message for sendLoop.
type outgoing struct {
	channel string
	payload []byte
}

// outQueue bounds the responses waiting to be published; past it they are
// dropped (the requester times out), since the read loop must not wait.
const outQueue = 4096

func newNode(f *factory) *node {
	n := &node{
		f:      f,
		client: f.client,
		ps:     f.client.Subscribe(context.Background()),
		names:  make(map[string]bool),
		routes: make(map[string]member),
		out:    make(chan outgoing, outQueue),
		quit:   make(chan struct{}),
	}
	n.up.Store(true)
	n.ops.Store(newOpsContext())
	n.wg.Add(3)
	go n.receiveLoop()
	go n.sendLoop()
	go n.healthLoop()
	return n
}

// reserve claims the namespace name on n; false if n already serves it.
// f.mu is held.
func (n *node) reserve(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.names[name] {
		return false
	}
	n.names[name] = true
	return true
}

// unreserve releases name and reports whether n serves nothing any more.
// f.mu is held.
func (n *node) unreserve(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.names, name)
	return len(n.names) == 0
}

// subscribeTimeout bounds a (un)subscribe call; go-redis remembers the
// channels and subscribes again on reconnection whatever the outcome.
const subscribeTimeout = 2 * time.Second

// attach routes the subscriptions of m to it and subscribes to them: the
// patterns first, so that once the request channel counts this server
// (NUMSUB) the broadcast channels are listened to as well. go-redis
// remembers the subscriptions even when Redis cannot be reached now, and
// makes them again on reconnection.
func (n *node) attach(m member) {
	patterns, channels := m.subscriptions()
	n.mu.Lock()
	for _, ch := range append(patterns, channels...) {
		n.routes[ch] = m
	}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	var perr error
	if len(patterns) > 0 {
		perr = n.ps.PSubscribe(ctx, patterns...)
	}
	if err := cmp.Or(perr, n.subscribe(ctx, channels)); err != nil {
		n.f.logger.Warn("redis adapter: subscribing failed; will retry on reconnection",
			"nsp", m.nsp(), "err", err)
	}
}

// detach unsubscribes m and closes n once it serves nothing. The channels
// are left while m's namespace name is still reserved, so that a new
// adapter of the same name cannot subscribe in between and lose its
// subscriptions to this unsubscribe.
func (n *node) detach(m member) {
	patterns, channels := m.subscriptions()
	n.mu.Lock()
	for _, ch := range append(patterns, channels...) {
		if n.routes[ch] == m {
			delete(n.routes, ch)
		}
	}
	last := len(n.names) == 1
	n.mu.Unlock()
	if !last {
		n.unsubscribe(patterns, channels)
	}
	if n.f.release(n, m.nsp()) {
		n.close()
	} else if last {
		n.unsubscribe(patterns, channels) // another namespace arrived meanwhile
	}
}

func (n *node) unsubscribe(patterns, channels []string) {
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	if len(patterns) > 0 {
		n.ps.PUnsubscribe(ctx, patterns...)
	}
	n.unsubscribeChannels(ctx, channels)
}

// subscribe subscribes to channels: SSUBSCRIBE on a sharded node.
func (n *node) subscribe(ctx context.Context, channels []string) error {
	if len(channels) == 0 {
		return nil
	}
	if n.f.sharded {
		return n.ps.SSubscribe(ctx, channels...)
	}
	return n.ps.Subscribe(ctx, channels...)
}

func (n *node) unsubscribeChannels(ctx context.Context, channels []string) error {
	if len(channels) == 0 {
		return nil
	}
	if n.f.sharded {
		return n.ps.SUnsubscribe(ctx, channels...)
	}
	return n.ps.Unsubscribe(ctx, channels...)
}

// listen routes more channels to m and subscribes to them (a sharded
// adapter's room channels).
func (n *node) listen(m member, channels []string) error {
	n.mu.Lock()
	for _, ch := range channels {
		n.routes[ch] = m
	}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	return n.subscribe(ctx, channels)
}

// unlisten unsubscribes channels of m and forgets their route.
func (n *node) unlisten(m member, channels []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	err := n.unsubscribeChannels(ctx, channels)
	n.mu.Lock()
	for _, ch := range channels {
		if n.routes[ch] == m {
			delete(n.routes, ch)
		}
	}
	n.mu.Unlock()
	return err
}

func (n *node) close() {
	close(n.quit)
	n.ps.Close() // ends a blocked Receive
	n.wg.Wait()
}

// receiveLoop reads the subscriber connection and hands each message to its
// adapter, in order. go-redis reconnects and re-subscribes by itself after
// an error; the loop backs off while Redis cannot be reached.
func (n *node) receiveLoop() {
	defer n.wg.Done()
	var backoff time.Duration
	for {
		msg, err := n.ps.Receive(context.Background())
		if err != nil {
			select {
			case <-n.quit:
				return
			default:
			}
			n.setDown(err)
			backoff = min(max(2*backoff, 50*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-n.quit:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 0
		switch m := msg.(type) {
		case *goredis.Message:
			n.setUp()
			n.dispatch(m)
		case *goredis.Subscription, *goredis.Pong:
			n.setUp()
		}
	}
}

func (n *node) dispatch(m *goredis.Message) {
	key := m.Channel
	if m.Pattern != "" {
		key = m.Pattern
	}
	n.mu.Lock()
	a := n.routes[key]
	n.mu.Unlock()
	if a != nil {
		a.receive(m)
	}
}

// healthInterval is how often a node that lost Redis pings it through the
// subscriber connection: the pong (or the subscriptions made again on a new
// connection) marks it up.
const healthInterval = 250 * time.Millisecond

// healthLoop pings Redis while the node is down. It matters when a publish
// failed first: go-redis reports a broken subscriber connection only once
// its own reconnection attempts are over, and a healthy one says nothing.
func (n *node) healthLoop() {
	defer n.wg.Done()
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		select {
		case <-n.quit:
			return
		case <-t.C:
		}
		if n.up.Load() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.f.timeout)
		n.ps.Ping(ctx)
		cancel()
	}
}

// failed records that err, from a command, means Redis cannot be reached
// (anything but an error reply or a context's end), and returns it.
func (n *node) failed(err error) error {
	var reply goredis.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		if down := n.unavailable(); down != nil {
			return down // ended by setDown
		}
	case !errors.As(err, &reply):
		n.setDown(err)
		return n.unavailable()
	}
	return err
}

func (n *node) setDown(err error) {
	n.lastErr.Store(&err)
	if !n.up.Swap(false) {
		return
	}
	n.ops.Swap(newOpsContext()).cancel()
	n.f.logger.Warn("redis adapter: lost the Redis connection; cluster operations fail until it is back", "err", err)
	n.mu.Lock()
	adapters := make(map[member]bool)
	for _, a := range n.routes {
		adapters[a] = true
	}
	n.mu.Unlock()
	fail := n.unavailable()
	for a := range adapters {
		a.failPending(fail)
	}
}

func (n *node) setUp() {
	if !n.up.Swap(true) {
		n.f.logger.Info("redis adapter: Redis connection is back")
	}
}

// unavailable returns the error of cluster operations while Redis is down,
// or nil.
func (n *node) unavailable() error {
	if n.up.Load() {
		return nil
	}
	if p := n.lastErr.Load(); p != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, *p)
	}
	return ErrUnavailable
}

// publish sends payload to channel and returns the error, failing at once
// while Redis is known to be unavailable.
func (n *node) publish(ctx context.Context, channel string, payload []byte) error {
	if err := n.unavailable(); err != nil {
		return err
	}
	ctx, cancel := n.command(ctx)
	defer cancel()
	if err := n.publishCmd(ctx, n.client, channel, payload).Err(); err != nil {
		return fmt.Errorf("redis adapter: publish: %w", n.failed(err))
	}
	return nil
}

// enqueue publishes payload later, in order with the other responses,
// without waiting: the read loop and the sockets' read loops call it.
func (n *node) enqueue(channel string, payload []byte) {
	select {
	case n.out <- outgoing{channel, payload}:
	default:
		n.f.logger.Warn("redis adapter: response queue full; dropping a response", "channel", channel)
	}
}

// maxBatch bounds the responses sendLoop publishes in one pipeline.
const maxBatch = 128

// sendLoop publishes the queued responses in order, those already waiting
// together in one pipeline (one round trip for a burst of acks).
func (n *node) sendLoop() {
	defer n.wg.Done()
	batch := make([]outgoing, 0, maxBatch)
	for {
		select {
		case <-n.quit:
			return
		case m := <-n.out:
			batch = append(batch[:0], m)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case m := <-n.out:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		if err := n.publishBatch(batch); err != nil {
			n.f.logger.Debug("redis adapter: responses not published", "count", len(batch), "err", err)
		}
		clear(batch) // drop the payloads
	}
}

func (n *node) publishBatch(batch []outgoing) error {
	if err := n.unavailable(); err != nil {
		return err
	}
	ctx, cancel := n.command(context.Background())
	defer cancel()
	var err error
	if len(batch) == 1 {
		err = n.publishCmd(ctx, n.client, batch[0].channel, batch[0].payload).Err()
	} else {
		_, err = n.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, m := range batch {
				n.publishCmd(ctx, p, m.channel, m.payload)
			}
			return nil
		})
	}
	if err != nil {
		return n.failed(err)
	}
	return nil
}

// publishCmd queues or sends PUBLISH, or SPUBLISH on a sharded node.
func (n *node) publishCmd(ctx context.Context, c goredis.Cmdable, channel string, payload []byte) *goredis.IntCmd {
	if n.f.sharded {
		return c.SPublish(ctx, channel, payload)
	}
	return c.Publish(ctx, channel, payload)
}

// numSub returns the number of subscribers of channel (PUBSUB NUMSUB, or
// SHARDNUMSUB on a sharded node): the number of servers, for a request
// channel or a sharded main channel. On a Redis Cluster it is the sum over
// every node, since a subscriber is counted only where it is connected.
func (n *node) numSub(ctx context.Context, channel string) (int, error) {
	if err := n.unavailable(); err != nil {
		return 0, err
	}
	ctx, cancel := n.command(ctx)
	defer cancel()
	name := "PUBSUB NUMSUB"
	count := func(ctx context.Context, c goredis.Cmdable) (int64, error) {
		m, err := c.PubSubNumSub(ctx, channel).Result()
		return m[channel], err
	}
	if n.f.sharded {
		name = "PUBSUB SHARDNUMSUB"
		count = func(ctx context.Context, c goredis.Cmdable) (int64, error) {
			m, err := c.PubSubShardNumSub(ctx, channel).Result()
			return m[channel], err
		}
	}
	if cc, ok := n.client.(*goredis.ClusterClient); ok {
		var total atomic.Int64
		err := cc.ForEachShard(ctx, func(ctx context.Context, shard *goredis.Client) error {
			c, err := count(ctx, shard)
			total.Add(c)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("redis adapter: %s: %w", name, n.failed(err))
		}
		return int(total.Load()), nil
	}
	c, err := count(ctx, n.client)
	if err != nil {
		return 0, fmt.Errorf("redis adapter: %s: %w", name, n.failed(err))
	}
	return int(c), nil
}
