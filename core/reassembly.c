/*
 * Full reassembly of IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5)
 * fragments (see reassembly.h; docs/fragments.md gives the reasons).
 *
 * Storage. Everything lives in one arena of fixed 512-byte blocks,
 * allocated by reasm_create and linked into one free list:
 *  - a datagram record (struct dgram) takes one block;
 *  - a source address record (struct source) takes one block;
 *  - a fragment takes a chain of blocks: the first one starts with its
 *    bookkeeping (struct frag_hdr), the rest hold bytes only.
 * So the memory a datagram holds is a whole number of blocks, counted on
 * the datagram, on its source and on the reassembler, and the arena itself
 * is the budget: no count can drift from the memory really used. Blocks
 * waste a little (a 1480-byte fragment takes 3 blocks, 1536 bytes; an
 * 8-byte one a whole block), and that waste is charged too, which makes
 * tiny-fragment floods the most expensive kind for their sender.
 * Alternatives that lost: malloc per fragment (the budget then counts
 * requests, not what the allocator really holds, and it allocates on the
 * data path); one 64 KiB buffer per datagram (16 of them fill 1 MiB, so a
 * flood of 8-byte fragments would take the budget at once).
 *
 * Admission. A fragment is stored only if its blocks fit both its
 * source's share and the budget; otherwise it is refused, counted, and
 * its datagram (which can no longer complete) is discarded. Nothing held
 * is evicted to make room: evicting the oldest would let a flood flush
 * every legitimate datagram; refusing lets a flood fill the budget for at
 * most one timeout, and the per-source limit means it takes many sources.
 *
 * Discarding (overlap, disagreeing ends, too many fragments, a refused
 * fragment) frees the fragments at once but keeps the datagram record
 * until its timeout, so that the fragments still to come are dropped too
 * (RFC 5722 §4: "including those not yet received").
 *
 * Lookup: keyed SipHash buckets over block indices, for datagrams (RFC 791
 * §3.2: source, destination, protocol, identification; RFC 8200 §4.5:
 * source, destination, identification) and for sources. Expiry: the
 * datagrams form one list in order of creation, and all share one
 * timeout, so the oldest are always at its head.
 */
#include "reassembly.h"

#include <errno.h>
#include <stdlib.h>

#include "checksum.h"

#define NIL UINT32_MAX

enum {
	BLOCK_SIZE = 512,
	BLOCK_DATA = BLOCK_SIZE - 8,
	IPV4_HDR_MIN = 20,
	IPV6_HDR_LEN = 40,
	FRAG6_HDR_LEN = 8,
	IP_MAX_LEN = 65535,
	UDP_HDR_LEN = 8,
	UDP_CSUM_OFF = 6,
	/* The largest packet reassembly produces: an IPv6 header and a
	 * 65535-byte payload. */
	OUT_MAX = IPV6_HDR_LEN + IP_MAX_LEN,
	OUT_SIZE = REASM_HEADROOM + OUT_MAX + REASM_TAILROOM,
	/* RFC 8200 §4.5: bytes a stored first fragment may hold besides the
	 * payload of a datagram that can complete (fixed header, Fragment
	 * header; extension headers count against the 65535). */
	STORED_MAX = OUT_MAX + FRAG6_HDR_LEN,
	TIMEOUT_MAX = 3600 * 1000,
	MIN_BUCKETS = 16,
};

enum {
	DG_FIRST = 1,     /* the fragment at offset 0 is held */
	DG_LAST = 2,      /* the fragment with MF clear is held: total is known */
	DG_DISCARDED = 4, /* fragments freed; later ones are dropped */
};

/* What identifies a datagram. Hashed whole, so every byte is set. */
struct dkey {
	uint8_t family;
	uint8_t proto; /* IPv4 only; RFC 8200 §4.5 keys IPv6 without it */
	uint8_t pad[2];
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

/* A source address, for the per-source limit. */
struct skey {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct dgram {
	struct dkey key;
	uint64_t created; /* ms: arrival of the first-arriving fragment */
	uint32_t hnext;   /* hash chain */
	uint32_t older;   /* age list */
	uint32_t newer;
	uint32_t frags;    /* first block of the first fragment, by offset */
	uint32_t source;   /* block of the source record */
	uint32_t blocks;   /* blocks held, this record included */
	uint32_t received; /* payload bytes held */
	uint32_t total;    /* payload bytes of the datagram, once DG_LAST */
	uint32_t mf_end;   /* furthest end of a held fragment with MF set */
	uint16_t nfrags;
	uint8_t flags;
};

struct source {
	struct skey key;
	uint32_t hnext;
	uint32_t blocks; /* blocks held by its datagrams, this record included */
	uint32_t dgrams;
};

struct frag_hdr {
	uint32_t next;    /* first block of the next fragment, by offset */
	uint32_t offset;  /* of the payload in the datagram, bytes */
	uint32_t len;     /* payload bytes */
	uint32_t stored;  /* bytes stored: hdr_len + len */
	uint16_t hdr_len; /* offset 0: the headers before the payload, kept */
	uint8_t mf;
	uint8_t pad;
};

enum { FRAG_FIRST_DATA = BLOCK_DATA - sizeof(struct frag_hdr) };

struct block {
	uint32_t next; /* next block of the same fragment, or of the free list */
	uint32_t unused;
	union {
		struct dgram d;
		struct source s;
		struct {
			struct frag_hdr h;
			uint8_t data[FRAG_FIRST_DATA];
		} f;
		uint8_t data[BLOCK_DATA];
	} u;
};

_Static_assert(sizeof(struct block) == BLOCK_SIZE, "a block is BLOCK_SIZE bytes");

struct reasm {
	struct reasm_config cfg;
	uint32_t capacity; /* budget at creation: the arena's size */
	struct block *blocks;
	uint32_t nblocks;
	uint32_t free_head;
	uint32_t used; /* blocks in use */
	uint32_t *dbuckets;
	uint32_t *sbuckets;
	uint32_t mask;
	uint32_t oldest; /* age list of datagrams */
	uint32_t newest;
	uint32_t ndgrams;
	struct siphash_key key;
	uint8_t *out; /* OUT_SIZE bytes: reassembled packets, expired first fragments */
};

/* A fragment being added, as it will be stored. */
struct frag_in {
	struct dkey key;
	const uint8_t *bytes; /* offset 0: the whole fragment; else its payload */
	uint32_t stored;
	uint16_t hdr_len; /* bytes before the payload in `bytes` */
	uint32_t offset;
	uint32_t len;
	bool mf;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static struct dgram *
dgram_at(const struct reasm *r, uint32_t i)
{
	return &r->blocks[i].u.d;
}

static struct source *
source_at(const struct reasm *r, uint32_t i)
{
	return &r->blocks[i].u.s;
}

static struct frag_hdr *
frag_at(const struct reasm *r, uint32_t i)
{
	return &r->blocks[i].u.f.h;
}

/* ---- Configuration ------------------------------------------------------ */

void
reasm_config_default(struct reasm_config *cfg)
{
	cfg->budget = REASM_DEFAULT_BUDGET;
	cfg->source_limit = REASM_DEFAULT_SOURCE_LIMIT;
	cfg->timeout = REASM_TIMEOUT_MIN;
	cfg->max_frags = REASM_DEFAULT_MAX_FRAGS;
}

/* Blocks a fragment of `stored` bytes takes. */
static uint32_t
frag_blocks(uint32_t stored)
{
	if (stored <= FRAG_FIRST_DATA)
		return 1;
	return 1 + (stored - FRAG_FIRST_DATA + BLOCK_DATA - 1) / BLOCK_DATA;
}

/* Bytes the largest datagram that can complete takes in `max_frags`
 * fragments: each fragment rounds up to at most one more block than its
 * bytes fill, plus its first block, plus the datagram and source records. */
static uint64_t
datagram_cost_max(uint32_t max_frags)
{
	uint64_t blocks = 2 + 2 * (uint64_t)max_frags + (STORED_MAX + BLOCK_DATA - 1) / BLOCK_DATA;

	return blocks * BLOCK_SIZE;
}

const char *
reasm_config_check(const struct reasm_config *cfg)
{
	if (cfg->timeout < REASM_TIMEOUT_MIN || cfg->timeout > TIMEOUT_MAX)
		return "reassembly timeout must be 2 s (RFC 6146 FRAGMENT_MIN) to 3600 s";
	if (cfg->max_frags < 1 || cfg->max_frags > REASM_MAX_FRAGS_LIMIT)
		return "fragments per datagram must be 1-1024";
	if (cfg->source_limit < datagram_cost_max(cfg->max_frags))
		return "per-source reassembly limit too small for one 65535-byte datagram "
		       "in the maximum number of fragments";
	if (cfg->budget < cfg->source_limit)
		return "reassembly budget must be at least the per-source limit";
	return NULL;
}

static uint32_t
bucket_count(uint32_t nblocks)
{
	uint32_t n = MIN_BUCKETS;

	while (n < nblocks / 2)
		n *= 2;
	return n;
}

static void
arena_init(struct reasm *r)
{
	for (uint32_t i = 0; i < r->nblocks; i++)
		r->blocks[i].next = i + 1 < r->nblocks ? i + 1 : NIL;
	r->free_head = r->nblocks > 0 ? 0 : NIL;
	for (uint32_t i = 0; i <= r->mask; i++) {
		r->dbuckets[i] = NIL;
		r->sbuckets[i] = NIL;
	}
	r->oldest = NIL;
	r->newest = NIL;
}

int
reasm_create(struct reasm **out, const struct reasm_config *cfg, const struct siphash_key *key)
{
	struct reasm *r;
	uint32_t nbuckets;

	if (reasm_config_check(cfg) != NULL)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->cfg = *cfg;
	r->capacity = cfg->budget;
	r->key = *key;
	r->nblocks = cfg->budget / BLOCK_SIZE;
	nbuckets = bucket_count(r->nblocks);
	r->mask = nbuckets - 1;
	r->blocks = calloc(r->nblocks, sizeof(*r->blocks));
	r->dbuckets = calloc(nbuckets, sizeof(*r->dbuckets));
	r->sbuckets = calloc(nbuckets, sizeof(*r->sbuckets));
	r->out = malloc(OUT_SIZE);
	if (r->blocks == NULL || r->dbuckets == NULL || r->sbuckets == NULL || r->out == NULL) {
		reasm_destroy(r);
		return -ENOMEM;
	}
	arena_init(r);
	*out = r;
	return 0;
}

void
reasm_destroy(struct reasm *r)
{
	if (r == NULL)
		return;
	free(r->blocks);
	free(r->dbuckets);
	free(r->sbuckets);
	free(r->out);
	free(r);
}

int
reasm_configure(struct reasm *r, const struct reasm_config *cfg)
{
	if (reasm_config_check(cfg) != NULL || cfg->budget > r->capacity)
		return -EINVAL;
	r->cfg = *cfg;
	return 0;
}

uint32_t
reasm_memory(const struct reasm *r)
{
	return r->used * BLOCK_SIZE;
}

uint32_t
reasm_datagrams(const struct reasm *r)
{
	return r->ndgrams;
}

size_t
reasm_footprint(const struct reasm *r)
{
	return sizeof(*r) + (size_t)r->nblocks * sizeof(struct block) +
	       2 * ((size_t)r->mask + 1) * sizeof(uint32_t) + OUT_SIZE;
}

/* ---- Blocks and fragment chains ------------------------------------------ */

static uint32_t
block_alloc(struct reasm *r)
{
	uint32_t i = r->free_head;

	if (i == NIL)
		return NIL;
	r->free_head = r->blocks[i].next;
	r->blocks[i].next = NIL;
	r->used++;
	return i;
}

static void
block_free(struct reasm *r, uint32_t i)
{
	r->blocks[i].next = r->free_head;
	r->free_head = i;
	r->used--;
}

/*
 * Visit `len` stored bytes of the fragment whose first block is `first`,
 * from byte `skip` on: copy them to `out`, or (out NULL) compare them with
 * `cmp`. Returns false at the first difference.
 */
static bool
chain_io(const struct reasm *r, uint32_t first, uint32_t skip, uint32_t len, uint8_t *out,
	 const uint8_t *cmp)
{
	uint32_t blk = first;
	const uint8_t *data = r->blocks[first].u.f.data;
	uint32_t avail = FRAG_FIRST_DATA;
	uint32_t n;

	while (len > 0 && skip >= avail) {
		skip -= avail;
		blk = r->blocks[blk].next;
		data = r->blocks[blk].u.data;
		avail = BLOCK_DATA;
	}
	data += skip;
	avail -= skip;
	while (len > 0) {
		n = len < avail ? len : avail;
		if (out != NULL) {
			memcpy(out, data, n);
			out += n;
		} else {
			if (memcmp(cmp, data, n) != 0)
				return false;
			cmp += n;
		}
		len -= n;
		if (len > 0) {
			blk = r->blocks[blk].next;
			data = r->blocks[blk].u.data;
			avail = BLOCK_DATA;
		}
	}
	return true;
}

static void
chain_free(struct reasm *r, uint32_t first)
{
	uint32_t next;

	for (uint32_t i = first; i != NIL; i = next) {
		next = r->blocks[i].next;
		block_free(r, i);
	}
}

/* Copy fragment `f` into a new chain of `nblocks` blocks (known to be
 * free). Returns its first block. */
static uint32_t
chain_store(struct reasm *r, const struct frag_in *f, uint32_t nblocks)
{
	uint32_t first = block_alloc(r);
	uint32_t blk = first;
	uint32_t n = f->stored < FRAG_FIRST_DATA ? f->stored : FRAG_FIRST_DATA;
	const uint8_t *src = f->bytes + n;
	uint32_t left = f->stored - n;
	struct frag_hdr *h = frag_at(r, first);

	memset(h, 0, sizeof(*h));
	h->next = NIL;
	h->offset = f->offset;
	h->len = f->len;
	h->stored = f->stored;
	h->hdr_len = f->hdr_len;
	h->mf = f->mf;
	memcpy(r->blocks[first].u.f.data, f->bytes, n);
	for (uint32_t i = 1; i < nblocks; i++) {
		r->blocks[blk].next = block_alloc(r);
		blk = r->blocks[blk].next;
		n = left < BLOCK_DATA ? left : BLOCK_DATA;
		memcpy(r->blocks[blk].u.data, src, n);
		src += n;
		left -= n;
	}
	return first;
}

/* ---- Tables ---------------------------------------------------------------- */

static uint32_t
bucket(const struct reasm *r, const void *key, size_t len)
{
	return (uint32_t)siphash(&r->key, key, len) & r->mask;
}

static uint32_t
dgram_find(const struct reasm *r, const struct dkey *k)
{
	uint32_t i = r->dbuckets[bucket(r, k, sizeof(*k))];

	while (i != NIL && memcmp(&dgram_at(r, i)->key, k, sizeof(*k)) != 0)
		i = dgram_at(r, i)->hnext;
	return i;
}

static void
source_key(const struct dkey *k, struct skey *sk)
{
	memset(sk, 0, sizeof(*sk));
	sk->family = k->family;
	memcpy(sk->addr, k->src, sizeof(sk->addr));
}

static uint32_t
source_find(const struct reasm *r, const struct skey *k)
{
	uint32_t i = r->sbuckets[bucket(r, k, sizeof(*k))];

	while (i != NIL && memcmp(&source_at(r, i)->key, k, sizeof(*k)) != 0)
		i = source_at(r, i)->hnext;
	return i;
}

/* Unlink element `i` from the chain starting at *head; `link` gives the
 * address of an element's chain field. */
static void
chain_unlink(struct reasm *r, uint32_t *head, uint32_t i,
	     uint32_t *(*link)(struct reasm *, uint32_t))
{
	uint32_t *pp = head;

	while (*pp != i)
		pp = link(r, *pp);
	*pp = *link(r, i);
}

static uint32_t *
dgram_link(struct reasm *r, uint32_t i)
{
	return &dgram_at(r, i)->hnext;
}

static uint32_t *
source_link(struct reasm *r, uint32_t i)
{
	return &source_at(r, i)->hnext;
}

static uint32_t
source_new(struct reasm *r, const struct skey *k)
{
	uint32_t i = block_alloc(r);
	uint32_t b = bucket(r, k, sizeof(*k));
	struct source *s = source_at(r, i);

	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->blocks = 1;
	s->hnext = r->sbuckets[b];
	r->sbuckets[b] = i;
	return i;
}

static void
source_release(struct reasm *r, uint32_t i, uint32_t blocks, bool dgram_gone)
{
	struct source *s = source_at(r, i);

	s->blocks -= blocks;
	if (dgram_gone)
		s->dgrams--;
	if (s->dgrams > 0)
		return;
	chain_unlink(r, &r->sbuckets[bucket(r, &s->key, sizeof(s->key))], i, source_link);
	block_free(r, i);
}

static uint32_t
dgram_new(struct reasm *r, const struct dkey *k, uint32_t src, uint64_t now)
{
	uint32_t i = block_alloc(r);
	uint32_t b = bucket(r, k, sizeof(*k));
	struct dgram *d = dgram_at(r, i);

	memset(d, 0, sizeof(*d));
	d->key = *k;
	d->created = now;
	d->frags = NIL;
	d->source = src;
	d->blocks = 1;
	d->hnext = r->dbuckets[b];
	r->dbuckets[b] = i;
	d->older = r->newest;
	d->newer = NIL;
	if (r->newest != NIL)
		dgram_at(r, r->newest)->newer = i;
	else
		r->oldest = i;
	r->newest = i;
	source_at(r, src)->blocks++;
	source_at(r, src)->dgrams++;
	r->ndgrams++;
	return i;
}

/* Free the fragments of datagram `i`, keeping its record. */
static void
dgram_free_frags(struct reasm *r, uint32_t i)
{
	struct dgram *d = dgram_at(r, i);
	uint32_t freed = d->blocks - 1;
	uint32_t next;

	for (uint32_t f = d->frags; f != NIL; f = next) {
		next = frag_at(r, f)->next;
		chain_free(r, f);
	}
	d->frags = NIL;
	d->blocks = 1;
	d->nfrags = 0;
	d->received = 0;
	source_at(r, d->source)->blocks -= freed;
}

static void
dgram_free(struct reasm *r, uint32_t i)
{
	struct dgram *d = dgram_at(r, i);

	dgram_free_frags(r, i);
	chain_unlink(r, &r->dbuckets[bucket(r, &d->key, sizeof(d->key))], i, dgram_link);
	if (d->older != NIL)
		dgram_at(r, d->older)->newer = d->newer;
	else
		r->oldest = d->newer;
	if (d->newer != NIL)
		dgram_at(r, d->newer)->older = d->older;
	else
		r->newest = d->older;
	source_release(r, d->source, 1, true);
	block_free(r, i);
	r->ndgrams--;
}

/* RFC 5722 §4: discard the whole datagram; its record stays until its
 * timeout so that the fragments not yet received are dropped too. */
static enum stat_id
dgram_discard(struct reasm *r, uint32_t i, enum stat_id why)
{
	dgram_free_frags(r, i);
	dgram_at(r, i)->flags |= DG_DISCARDED;
	return why;
}

/* ---- Checks on a fragment against its datagram ------------------------------ */

/*
 * RFC 5722 §4: an overlapping fragment discards the datagram. RFC 8200
 * §4.5: "Instead of treating these exact duplicate fragments as
 * overlapping fragments, an implementation may choose to detect this case
 * and drop exact duplicate fragments while keeping the other fragments":
 * same offset, length, M flag and payload bytes. IPv4 gets the same rule
 * (RFC 791 would let later bytes overwrite earlier ones; modern stacks
 * refuse overlaps since the teardrop attacks, and so do we).
 */
static enum stat_id
check_overlap(struct reasm *r, uint32_t d, const struct frag_in *f)
{
	uint32_t end = f->offset + f->len;
	const struct frag_hdr *h;

	for (uint32_t i = dgram_at(r, d)->frags; i != NIL; i = h->next) {
		h = frag_at(r, i);
		if (h->offset == f->offset && h->len == f->len) {
			if (h->mf == f->mf &&
			    chain_io(r, i, h->hdr_len, h->len, NULL, f->bytes + f->hdr_len))
				return STAT_FRAG_DUPLICATE;
			return dgram_discard(r, d, STAT_FRAG_OVERLAP);
		}
		if (h->offset < end && f->offset < h->offset + h->len)
			return dgram_discard(r, d, STAT_FRAG_OVERLAP);
	}
	return STAT_OK;
}

/* RFC 791 §3.2 / RFC 8200 §4.5: the fragment with MF clear gives the
 * datagram's length; every other fragment must end within it. */
static bool
last_consistent(const struct dgram *d, const struct frag_in *f)
{
	uint32_t end = f->offset + f->len;

	if (f->mf)
		return !(d->flags & DG_LAST) || end <= d->total;
	if (d->flags & DG_LAST)
		return end == d->total;
	return end >= d->mf_end;
}

static enum stat_id
check_fragment(struct reasm *r, uint32_t d, const struct frag_in *f)
{
	enum stat_id rc;

	if (dgram_at(r, d)->flags & DG_DISCARDED)
		return STAT_FRAG_DISCARDED;
	rc = check_overlap(r, d, f);
	if (rc != STAT_OK)
		return rc;
	if (!last_consistent(dgram_at(r, d), f))
		return dgram_discard(r, d, STAT_FRAG_BAD_LAST);
	if (dgram_at(r, d)->nfrags >= r->cfg.max_frags)
		return dgram_discard(r, d, STAT_FRAG_TOO_MANY);
	return STAT_OK;
}

/* ---- Admission --------------------------------------------------------------- */

/*
 * Reserve the blocks fragment `f` needs (with a new datagram record when
 * *d is NIL, and a new source record when its source holds nothing):
 * refused beyond the source's share or the budget. A refused fragment
 * dooms a datagram already started. On success *d is the datagram.
 */
static enum stat_id
admit(struct reasm *r, uint32_t *d, const struct frag_in *f, uint64_t now)
{
	uint32_t need = frag_blocks(f->stored);
	uint32_t src = NIL;
	struct skey sk;
	uint64_t src_blocks = 0;
	enum stat_id why = STAT_OK;

	if (*d == NIL) {
		source_key(&f->key, &sk);
		src = source_find(r, &sk);
		need += src == NIL ? 2 : 1;
	} else {
		src = dgram_at(r, *d)->source;
	}
	if (src != NIL)
		src_blocks = source_at(r, src)->blocks;
	if ((src_blocks + need) * BLOCK_SIZE > r->cfg.source_limit)
		why = STAT_FRAG_SOURCE_LIMIT;
	else if (((uint64_t)r->used + need) * BLOCK_SIZE > r->cfg.budget ||
		 r->used + need > r->nblocks)
		why = STAT_FRAG_BUDGET;
	if (why != STAT_OK)
		return *d == NIL ? why : dgram_discard(r, *d, why);
	if (*d == NIL) {
		if (src == NIL)
			src = source_new(r, &sk);
		*d = dgram_new(r, &f->key, src, now);
	}
	return STAT_OK;
}

/* Store `f` in datagram `i`, keeping the fragments sorted by offset. */
static void
dgram_insert(struct reasm *r, uint32_t i, const struct frag_in *f)
{
	struct dgram *d = dgram_at(r, i);
	uint32_t nblocks = frag_blocks(f->stored);
	uint32_t blk = chain_store(r, f, nblocks);
	uint32_t *pp = &d->frags;

	while (*pp != NIL && frag_at(r, *pp)->offset < f->offset)
		pp = &frag_at(r, *pp)->next;
	frag_at(r, blk)->next = *pp;
	*pp = blk;
	d->blocks += nblocks;
	source_at(r, d->source)->blocks += nblocks;
	d->nfrags++;
	d->received += f->len;
	if (f->offset == 0)
		d->flags |= DG_FIRST;
	if (!f->mf) {
		d->flags |= DG_LAST;
		d->total = f->offset + f->len;
	} else if (f->offset + f->len > d->mf_end) {
		d->mf_end = f->offset + f->len;
	}
}

static bool
dgram_complete(const struct dgram *d)
{
	/* No two held fragments overlap, so holding `total` bytes below
	 * `total` means holding all of them. */
	return (d->flags & (DG_FIRST | DG_LAST)) == (DG_FIRST | DG_LAST) && d->received == d->total;
}

/* ---- Output ------------------------------------------------------------------ */

static void
out_frame(struct reasm *r, uint32_t len, struct pkt *out)
{
	out->data = r->out + REASM_HEADROOM;
	out->len = len;
	out->headroom = REASM_HEADROOM;
	out->tailroom = OUT_SIZE - REASM_HEADROOM - len;
}

/* RFC 8200 §4.5: "The Next Header field of the last header of the
 * Per-Fragment headers is obtained from the Next Header field of the
 * first fragment's Fragment header." The header chain before `fho` was
 * walked by the parser, so it ends exactly there. */
static void
finish6(uint8_t *ip6, uint32_t fho, uint8_t nh, uint32_t len)
{
	uint32_t pos = 6;
	uint32_t off = IPV6_HDR_LEN;

	while (off < fho) {
		pos = off;
		off += ((uint32_t)ip6[off + 1] + 1) * 8;
	}
	ip6[pos] = nh;
	put16(ip6 + 4, (uint16_t)(len - IPV6_HDR_LEN));
}

/* RFC 791 §3.2: the first fragment's header, with MF and offset 0, the
 * total length of the datagram and a new checksum. DF is cleared as
 * well: a datagram that was fragmented once may be fragmented again. */
static void
finish4(uint8_t *ip4, uint32_t ihl, uint32_t len)
{
	uint16_t csum;

	put16(ip4 + 2, (uint16_t)len);
	put16(ip4 + 6, 0);
	put16(ip4 + 10, 0);
	csum = csum_ipv4_header(ip4, ihl);
	memcpy(ip4 + 10, &csum, 2);
}

/* RFC 768: a UDP checksum of 0 means none was sent. RFC 7915 §4.5 lets a
 * translator that has the whole datagram compute it (Jool's
 * amend-udp-checksum-zero); otherwise it is dropped. */
static enum stat_id
udp_zero4(uint8_t *ip4, uint32_t ihl, uint32_t len, bool amend)
{
	uint8_t *udp = ip4 + ihl;
	uint32_t ulen = len - ihl;
	struct in_addr src;
	struct in_addr dst;
	uint16_t csum;

	if (ip4[9] != IPPROTO_UDP || ulen < UDP_HDR_LEN || udp[6] != 0 || udp[7] != 0)
		return STAT_OK;
	if (!amend)
		return STAT_XLAT46_UDP_ZERO_CSUM_FRAG;
	memcpy(&src, ip4 + 12, 4);
	memcpy(&dst, ip4 + 16, 4);
	csum = csum_fold(csum_partial(udp, ulen, csum_pseudo4(src, dst, IPPROTO_UDP, ulen)));
	if (csum == 0)
		csum = 0xffff;
	memcpy(udp + UDP_CSUM_OFF, &csum, 2);
	return STAT_OK;
}

/* Build the whole packet of complete datagram `i` in r->out. */
static enum stat_id
assemble(struct reasm *r, uint32_t i, bool amend, struct pkt *out)
{
	const struct dgram *d = dgram_at(r, i);
	uint32_t first = d->frags;
	uint32_t hdr = frag_at(r, first)->hdr_len;
	bool v6 = d->key.family == 6;
	uint8_t *pkt = r->out + REASM_HEADROOM;
	uint8_t nh = 0;
	uint32_t len;
	enum stat_id rc;

	/* IPv6: the Fragment header (last 8 bytes of hdr) is not copied. */
	if (v6)
		hdr -= FRAG6_HDR_LEN;
	len = hdr + d->total;
	if (len > (v6 ? OUT_MAX : IP_MAX_LEN))
		return STAT_FRAG_TOO_BIG;
	chain_io(r, first, 0, hdr, pkt, NULL);
	if (v6)
		chain_io(r, first, hdr, 1, &nh, NULL);
	for (uint32_t f = first; f != NIL; f = frag_at(r, f)->next)
		chain_io(r, f, frag_at(r, f)->hdr_len, frag_at(r, f)->len,
			 pkt + hdr + frag_at(r, f)->offset, NULL);
	if (v6) {
		finish6(pkt, hdr, nh, len);
	} else {
		finish4(pkt, hdr, len);
		rc = udp_zero4(pkt, hdr, len, amend);
		if (rc != STAT_OK)
			return rc;
	}
	out_frame(r, len, out);
	return STAT_OK;
}

/* RFC 6946 §4: an atomic fragment is processed in isolation: its
 * Fragment header is removed and it goes on at once. */
static enum stat_id
atomic6(struct reasm *r, const uint8_t *ip6, const struct pkt_l3 *l3, struct pkt *out)
{
	uint8_t *pkt = r->out + REASM_HEADROOM;
	uint32_t fho = l3->frag_hdr_off;
	uint32_t len = l3->l3_end - FRAG6_HDR_LEN;

	memcpy(pkt, ip6, fho);
	memcpy(pkt + fho, ip6 + fho + FRAG6_HDR_LEN, l3->l3_end - fho - FRAG6_HDR_LEN);
	finish6(pkt, fho, ip6[fho], len);
	out_frame(r, len, out);
	return STAT_OK;
}

/* ---- Entry points ------------------------------------------------------------ */

/* Describe the fragment in `p` as it will be stored; false if `l3` does
 * not describe a fragment of a packet that fits in `p`. */
static bool
describe(const struct pkt *p, const struct pkt_l3 *l3, struct frag_in *f)
{
	const uint8_t *ip = p->data;
	bool v6 = l3->family == 6;

	if (!l3->is_fragment || (l3->family != 4 && l3->family != 6) || l3->l3_end > p->len ||
	    l3->l4_off > l3->l3_end || (v6 && l3->l4_off != l3->frag_hdr_off + FRAG6_HDR_LEN) ||
	    (v6 && l3->frag_hdr_off < IPV6_HDR_LEN) || (!v6 && l3->l4_off < IPV4_HDR_MIN))
		return false;
	memset(f, 0, sizeof(*f));
	f->key.family = l3->family;
	f->key.id = l3->frag_id;
	if (v6) {
		memcpy(f->key.src, ip + 8, 16);
		memcpy(f->key.dst, ip + 24, 16);
	} else {
		f->key.proto = ip[9];
		memcpy(f->key.src, ip + 12, 4);
		memcpy(f->key.dst, ip + 16, 4);
	}
	f->offset = l3->frag_offset;
	f->len = l3->l3_end - l3->l4_off;
	f->mf = l3->more_fragments;
	/* The first fragment is kept whole: its headers become the
	 * datagram's, and it is what a Time Exceeded quotes. */
	f->hdr_len = f->offset == 0 ? l3->l4_off : 0;
	f->bytes = ip + l3->l4_off - f->hdr_len;
	f->stored = f->hdr_len + f->len;
	return true;
}

enum stat_id
reasm_add(struct reasm *r, const struct pkt *p, const struct pkt_info *info, uint64_t now,
	  bool amend_udp_zero, struct pkt *out)
{
	const struct pkt_l3 *l3 = &info->outer;
	struct frag_in f;
	uint32_t d;
	enum stat_id rc;

	if (!describe(p, l3, &f))
		return STAT_UNKNOWN;
	if (l3->family == 6 && f.offset == 0 && !f.mf)
		return atomic6(r, p->data, l3, out);
	d = dgram_find(r, &f.key);
	if (d != NIL) {
		rc = check_fragment(r, d, &f);
		if (rc != STAT_OK)
			return rc;
	}
	rc = admit(r, &d, &f, now);
	if (rc != STAT_OK)
		return rc;
	dgram_insert(r, d, &f);
	if (!dgram_complete(dgram_at(r, d)))
		return STAT_FRAG_HELD;
	rc = assemble(r, d, amend_udp_zero, out);
	dgram_free(r, d);
	return rc;
}

/* Hand the first fragment of datagram `i`, as received, to `expired`. */
static void
report_expired(struct reasm *r, uint32_t i, reasm_expired_fn expired, void *ctx)
{
	uint32_t first = dgram_at(r, i)->frags;
	struct pkt p;

	chain_io(r, first, 0, frag_at(r, first)->stored, r->out + REASM_HEADROOM, NULL);
	out_frame(r, frag_at(r, first)->stored, &p);
	expired(ctx, &p);
}

uint32_t
reasm_expire(struct reasm *r, uint64_t now, reasm_expired_fn expired, void *ctx)
{
	uint32_t count = 0;
	uint32_t i;
	const struct dgram *d;

	while (r->oldest != NIL) {
		i = r->oldest;
		d = dgram_at(r, i);
		if (now < d->created || now - d->created < r->cfg.timeout)
			break;
		if (!(d->flags & DG_DISCARDED)) {
			count++;
			/* RFC 8200 §4.5, RFC 1122 §3.3.2: Time Exceeded only
			 * if the fragment at offset 0 came. */
			if (expired != NULL && (d->flags & DG_FIRST))
				report_expired(r, i, expired, ctx);
		}
		dgram_free(r, i);
	}
	return count;
}
