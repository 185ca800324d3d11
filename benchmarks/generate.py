#!/usr/bin/env python3
"""Generate realistic, reproducible click/view/conversion logs for benchmarks.

    python3 benchmarks/generate.py --events 5000000 --files 16 --seed 1 --out /tmp/bench-data/5m
    python3 benchmarks/generate.py --events 5000000 --creators 5000 --products 20000 --out DIR

writes OUT/part-0000.ndjson.gz ... part-NNNN.ndjson.gz (standard gzip, one member each)
and OUT/.generator.json (parameters and counts; the leading dot keeps it out of `ingest`).
Same arguments -> byte-identical files, whatever --jobs is: every file has its own
random stream seeded from (seed, file index), and the "world" (creators, products,
stores) is derived from the seed, --creators and --products alone (the defaults give the
same files as before those options existed). Standard library only.

The data is in the clean form the DuckDB reference accepts: NDJSON, RFC 3339 UTC
timestamps with milliseconds ('Z'), string ids, amounts as strings with 2 decimals.

Shape (approximate shares of lines):
  views 80 %, clicks 17 %, ordered conversions 2.5 %, refunds 0.5 %,
  bot traffic ~2 % of views and clicks (user agents with bot/crawler/spider/headless...),
  duplicates ~1 % (the same line again later in the same file, or in the next file),
  50k creators (skewed popularity; --creators), 20k products (amazon + a few hundred brand
  stores; --products),
  ~1M viewers, bio and post placements; each creator's post links one product and the
  bio links a few, so daily_metrics has realistic group sizes.
  Conversions follow a non-bot click by the same viewer on the same product: most within
  the attribution window (some carry click_id, some rely on the viewer fallback, a few
  carry only click_id), some outside it, some organic (no click at all); a few name a bot
  click by click_id; a few ordered postbacks are retried with a fresh event_id (same
  order_id, same payload); ~20 % of orders are refunded later (mostly in full).
  Currencies: mostly USD, some EUR and GBP. Events that would fall after the end of the
  period are not written, so every line's ts lies in [start, start + days).

--real: real-shaped logs. Each line comes from a producer chosen per line (their shares drawn
from the seed): event ids as lowercase or uppercase UUIDs, type-prefixed zero-padded counters
(v-00001234, c-, o-), ULIDs, or decimal digits (as JSON strings, or as JSON integers); half
the producers write a space after ':' and ','. And ~1 % of events (with the conversions,
retries and refunds of copied clicks) are written again, byte-identical, in a later file.
Without --real the output is byte-identical to what it was before the option existed.
"""
import argparse
import heapq
import json
import multiprocessing
import os
import random
import sys
import time
import zlib

N_CREATORS = 50_000      # default of --creators
N_PRODUCTS = 20_000      # default of --products
N_STORES = 300
N_VIEWERS = 1_000_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# Human user agents (realistic lengths: in-app browsers, mobile and desktop browsers).
HUMAN_UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.100 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) ShortVideo/41.1.3",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ShortVideo/41.2.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
]
# Bot user agents: each matches a default pattern of CONTRACT §3.
BOT_UAS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.69 Mobile Safari/537.36 (compatible; Googlebot/2.1)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; SeznamBot/4.0; +https://o-seznam.cz/napoveda/vyhledavani/en/seznambot-crawler/)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
]

BOT_PATTERNS = ("bot", "crawler", "spider", "slurp", "headless", "python-requests", "curl/", "wget/",
                "httpclient")
assert all(any(p in ua.lower() for p in BOT_PATTERNS) for ua in BOT_UAS)
assert not any(any(p in ua.lower() for p in BOT_PATTERNS) for ua in HUMAN_UAS)

STORE_WORDS_A = ["lumi", "oak", "kind", "north", "soft", "wild", "pure", "bright", "tiny", "urban",
                 "salt", "glow", "fern", "stone", "cloud", "sun", "moss", "river", "cedar", "honey"]
STORE_WORDS_B = ["skin", "ash", "home", "goods", "kitchen", "studio", "co", "supply", "beauty", "wear",
                 "paper", "labs", "table", "garden", "craft"]
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class World:
    """Creators, products and stores: a pure function of the seed."""

    def __init__(self, seed, n_creators=N_CREATORS, n_products=N_PRODUCTS):
        rng = random.Random("world:%d" % seed)
        stores, seen = [], set()
        while len(stores) < N_STORES:
            name = "%s-%s" % (rng.choice(STORE_WORDS_A), rng.choice(STORE_WORDS_B))
            if name in seen:
                name = "%s-%d" % (name, len(stores))
            seen.add(name)
            stores.append(name)
        self.products = []  # (json fragment for platform/store/product, platform, store, product, price cents)
        seen = set()
        for i in range(n_products):
            if rng.random() < 0.7:
                while True:
                    pid = "B0" + "".join(rng.choice(ALNUM) for _ in range(8))
                    if pid not in seen:
                        break
                platform, store = "amazon", ""
                frag = '"product_id":"%s","platform":"amazon"' % pid
            else:
                s = int(N_STORES * rng.random() ** 1.5)
                store = stores[s]
                pid = "%s-%05d" % (store.split("-")[0].upper()[:4], i)
                platform = "brand_store"
                frag = '"product_id":"%s","platform":"brand_store","store":"%s"' % (pid, store)
            seen.add(pid)
            price = int(min(49_999, max(199, 100 * 2.718281828 ** rng.gauss(3.1, 0.8))))
            price = price - price % 100 + 99 if rng.random() < 0.6 else price  # x.99 prices
            self.products.append((frag, platform, store, pid, price))
        # A skewed popularity table: creators' links point into it.
        self.popular = [int(n_products * rng.random() ** 2) for _ in range(100_003)]
        # i -> i * 7919 mod 10^7 is one-to-one, so up to 10M creators get distinct ids.
        self.creators = ["cr%07d" % ((i * 7919 + 13) % 10_000_000) for i in range(n_creators)]
        # Posts per creator (1..24) and bio links (1..5).
        self.n_posts = [1 + (i * 37 + 11) % 24 for i in range(n_creators)]
        self.n_bio = [1 + (i * 13 + 5) % 5 for i in range(n_creators)]

    def post_product(self, c, k):
        return self.popular[(c * 7919 + k * 104_729) % 100_003]

    def bio_product(self, c, j):
        return self.popular[(c * 15_485_863 + j * 32_452_843 + 7) % 100_003]


def post_id(c, k):
    return "73%017d" % (c * 4_099 + k * 1_000_003 + 1)


def make_uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])


# --real: the event-id shapes of the producers that write the logs, and the id prefixes of
# the counter shape by event type.
ID_SHAPES = ("uuid", "UUID", "counter", "ulid", "digits", "digits-int")
ID_PREFIX = {"view": "v", "click": "c", "conversion": "o"}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
COPY_SHARE = 0.01            # --real: events logged again in a later file
COPY_MARGIN_MS = HOUR_MS     # ... if they are at least this long before the end of the period


def real_producers(seed):
    """--real: the producers, as (id shape, spaced JSON) with their shares of lines: each id shape
    gets a share between 1/11 and 3/11-ish drawn from the seed, split evenly between a compact
    writer and one that puts a space after ':' and ',', so about half the lines are spaced.
    Also the first number of the plain-digits shape."""
    rng = random.Random("producers:%d" % seed)
    w = [0.5 + rng.random() for _ in ID_SHAPES]
    total = sum(w)
    producers = [(shape, spaced, w[i] / total / 2) for i, shape in enumerate(ID_SHAPES)
                 for spaced in (False, True)]
    digits_base = 100_000_000 + rng.randrange(800_000_000)
    return producers, digits_base


def ulid(ms, rng):
    """26 Crockford base32 characters: 48 bits of milliseconds, then 80 random bits."""
    v = (ms << 80) | rng.getrandbits(80)
    return "".join(CROCKFORD[(v >> (5 * i)) & 31] for i in range(25, -1, -1))


def spaced_json(line):
    """The writer that puts a space after ':' and ',' between fields. No value the generator
    writes holds a quote, so '":' only ends a key and ',"' only starts one."""
    return line.replace('":', '": ').replace(',"', ', "')


def amount_text(cents):
    return "%d.%02d" % divmod(cents, 100)


class FileGen:
    """One output file: a time-ordered stream of base events plus scheduled ones."""

    def __init__(self, a, fi, world):
        self.a, self.fi, self.w = a, fi, world
        self.rng = random.Random("file:%d:%d" % (a.seed, fi))
        self.start, self.end = a.start_ms, a.start_ms + a.days * DAY_MS
        self.day0 = a.start_ms // DAY_MS
        import datetime
        self.daystr = [(datetime.date(1970, 1, 1) + datetime.timedelta(days=self.day0 + d)).isoformat()
                       for d in range(a.days + 2)]
        self.hms = ["%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86_400)]
        self.ms3 = ["%03d" % i for i in range(1000)]
        self.heap = []      # (emit_ms, seq, line)
        self.seq = 0
        self.orders = 0
        self.counts = dict(view=0, click=0, ordered=0, refunded=0, bot=0, duplicate=0, retry=0,
                           conv_click_id=0, conv_fallback=0, conv_outside=0, conv_organic=0,
                           conv_bot_click=0, dropped_after_end=0)
        self.real = getattr(a, "real", False)
        self.copy_pool_orders = False   # --real: order ids of a copy pool have their own form
        if self.real:
            self.counts.update(copy=0, copy_original=0)
            producers, self.digits_base = real_producers(a.seed)
            self.producers = [(shape, spaced) for shape, spaced, _ in producers]
            self.cum, acc = [], 0.0
            for _, _, share in producers:
                acc += share
                self.cum.append(acc)
            # Counter-shaped ids: stream s (file s, pool of file s - files, copy pool of file
            # s - 2 * files) numbers its ids idseq * n_streams + s: unique over the data set.
            self.n_streams = 3 * a.files
            self.stream, self.idseq = fi, 0

    # -- --real: producers and their ids ---------------------------------------------------
    def pick(self):
        """The producer of the next line (an index into self.producers)."""
        r = self.rng.random()
        for i, c in enumerate(self.cum):
            if r < c:
                return i
        return len(self.cum) - 1

    def new_id(self, kind, ms, p):
        shape = self.producers[p][0]
        if shape == "uuid":
            return make_uuid(self.rng)
        if shape == "UUID":
            return make_uuid(self.rng).upper()
        if shape == "ulid":
            return ulid(ms, self.rng)
        k = self.idseq * self.n_streams + self.stream
        self.idseq += 1
        if shape == "counter":
            return "%s-%08d" % (ID_PREFIX[kind], k)
        return "%d" % (self.digits_base + k)    # digits, digits-int

    def finish(self, line, p, eid, click_id=None):
        """The line as producer p writes it: digits as JSON integers, spaced JSON."""
        shape, spaced = self.producers[p]
        if shape == "digits-int":
            line = line.replace('"event_id":"%s"' % eid, '"event_id":%s' % eid, 1)
            if click_id and click_id.isdigit():
                line = line.replace('"click_id":"%s"' % click_id, '"click_id":%s' % click_id, 1)
        return spaced_json(line) if spaced else line

    def ts(self, ms):
        d, r = divmod(ms, DAY_MS)
        return "%sT%s.%sZ" % (self.daystr[d - self.day0], self.hms[r // 1000], self.ms3[r % 1000])

    def push(self, emit_ms, line, kinds):
        """Schedule a line; `kinds` are the counters to bump when it is actually written."""
        if emit_ms >= self.end:
            self.counts["dropped_after_end"] += 1
            return False
        self.seq += 1
        heapq.heappush(self.heap, (emit_ms, self.seq, line, kinds))
        return True

    # -- event builders --------------------------------------------------------------
    def conversion(self, ms, order_id, prod, click_id, viewer, qty, status, cents=None):
        frag, platform, store, pid, price = self.w.products[prod]
        rng = self.rng
        if cents is None:
            cents = price * qty
        r = rng.random()
        if r < 0.90:
            cur = "USD"
        elif r < 0.96:
            cur, cents = "EUR", cents * 100 // 108
        else:
            cur, cents = "GBP", cents * 100 // 127
        if self.real:
            p = self.pick()
            eid = self.new_id("conversion", ms, p)
            self.last_conversion = (p, eid)
        else:
            eid = make_uuid(rng)
        parts = ['{"type":"conversion","event_id":"', eid, '","ts":"', self.ts(ms),
                 '","order_id":"', order_id, '"']
        if click_id:
            parts += [',"click_id":"', click_id, '"']
        if viewer:
            parts += [',"viewer_id":"', viewer, '"']
        parts += [",", frag, ',"quantity":%d,"amount":"%s","currency":"%s","status":"%s"}\n'
                  % (qty, amount_text(cents), cur, status)]
        line = "".join(parts)
        if self.real:
            line = self.finish(line, p, eid, click_id)
        return line, cents, cur

    def schedule_conversion(self, click_ms, click_id, viewer, prod, bot_click=False):
        rng, c = self.rng, self.counts
        platform = self.w.products[prod][1]
        window = 24 * HOUR_MS if platform == "amazon" else 168 * HOUR_MS
        if bot_click:
            delay = int(rng.expovariate(1 / HOUR_MS)) + 1000
            kind, viewer = "conv_bot_click", None
        elif rng.random() < 0.92:
            mean = 2 * HOUR_MS if platform == "amazon" else 20 * HOUR_MS
            delay = min(int(rng.expovariate(1 / mean)) + 1000, window - 1000)
            r = rng.random()
            if r < 0.60:
                kind = "conv_click_id"
            elif r < 0.95:
                kind, click_id = "conv_fallback", None
            else:
                kind, viewer = "conv_click_id", None   # click_id only, no viewer
        else:
            delay = window + 1000 + int(rng.random() * 2 * DAY_MS)
            kind, click_id = "conv_outside", None
        ms = click_ms + delay
        if ms >= self.end:
            c["dropped_after_end"] += 1
            return
        self.orders += 1
        order_id = self.order_id(ms, prod)
        qty = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.75 else 3)
        line, cents, cur = self.conversion(ms, order_id, prod, click_id, viewer, qty, "ordered")
        if self.push(ms, line, (kind, "ordered")):
            if rng.random() < 0.003:   # postback retried: same payload, fresh event_id
                if self.real:   # by the same producer; its event_id is the line's first id
                    p, eid = self.last_conversion
                    rms = ms + 1 + int(rng.random() * 600_000)
                    self.push(rms, line.replace(eid, self.new_id("conversion", rms, p), 1), ("retry", "ordered"))
                else:
                    k = len('{"type":"conversion","event_id":"')
                    retry = line[:k] + make_uuid(rng) + line[k + 36:]
                    self.push(ms + 1 + int(rng.random() * 600_000), retry, ("retry", "ordered"))
            if rng.random() < 0.25:    # refunded later, mostly in full
                rms = ms + HOUR_MS + int(rng.expovariate(1 / DAY_MS))
                rc = cents if rng.random() < 0.8 else cents * (20 + int(rng.random() * 60)) // 100
                if rms >= self.end:
                    c["dropped_after_end"] += 1
                else:
                    self.push(rms, self.refund_line(rms, order_id, prod, cur, rc), ("refunded",))

    def order_id(self, ms, prod):
        """Unique across files and days (and data sets generated for other days):
        file, second of the order and a per-file counter."""
        sec = ms // 1000
        if self.copy_pool_orders:   # --real copy pool of file fi: prefixes the file's own never take
            if self.w.products[prod][1] == "amazon":
                return "%03d-%07d-%07d" % (self.fi % 100, sec % 10_000_000, (self.orders * 1009) % 10_000_000)
            return "%s-P%d%02d%05d" % (self.w.products[prod][2][:4].upper(), sec, self.fi % 100,
                                       self.orders % 100_000)
        if self.w.products[prod][1] == "amazon":
            return "%03d-%07d-%07d" % (111 + self.fi % 889, sec % 10_000_000, (self.orders * 1009) % 10_000_000)
        return "%s-%d%02d%05d" % (self.w.products[prod][2][:4].upper(), sec, self.fi % 100, self.orders % 100_000)

    def refund_line(self, ms, order_id, prod, cur, cents):
        frag = self.w.products[prod][0]
        if self.real:
            p = self.pick()
            eid = self.new_id("conversion", ms, p)
        else:
            eid = make_uuid(self.rng)
        line = ('{"type":"conversion","event_id":"%s","ts":"%s","order_id":"%s",%s,"amount":"%s",'
                '"currency":"%s","status":"refunded"}\n'
                % (eid, self.ts(ms), order_id, frag, amount_text(cents), cur))
        return self.finish(line, p, eid) if self.real else line

    def base_event(self, ms):
        """A view, a click or (rarely) an organic conversion at time ms."""
        rng, w, c = self.rng, self.w, self.counts
        r = rng.random()
        if r < 0.0026:   # organic conversion: no click behind it
            prod = w.popular[int(rng.random() * 100_003)]
            self.orders += 1
            order_id = self.order_id(ms, prod)
            viewer = "vw%08d" % int(rng.random() * N_VIEWERS) if rng.random() < 0.5 else None
            line, _, _ = self.conversion(ms, order_id, prod, None, viewer, 1, "ordered")
            c["ordered"] += 1
            c["conv_organic"] += 1
            return line
        is_click = r < 0.0026 + 0.1775
        cidx = int(len(w.creators) * rng.random() ** 3)
        creator = w.creators[cidx]
        if rng.random() < 0.7:
            k = int(w.n_posts[cidx] * rng.random() ** 3)   # newest posts get most traffic
            prod = w.post_product(cidx, k) if (is_click or rng.random() < 0.85) else None
            # Half the producers leave placement out: post_id implies "post".
            head = ('","creator_id":"%s","post_id":"%s","placement":"post"' if rng.random() < 0.5
                    else '","creator_id":"%s","post_id":"%s"') % (creator, post_id(cidx, k))
        else:
            prod = (w.bio_product(cidx, int(w.n_bio[cidx] * rng.random()))
                    if (is_click or rng.random() < 0.6) else None)
            head = ('","creator_id":"%s","placement":"bio"' if rng.random() < 0.5
                    else '","creator_id":"%s"') % creator
        bot = rng.random() < 0.02
        if bot:
            c["bot"] += 1
            viewer = None
            ua = BOT_UAS[int(rng.random() * len(BOT_UAS))]
        else:
            v = int(rng.random() * N_VIEWERS)
            viewer = "vw%08d" % v if rng.random() < 0.97 or is_click else None
            ua = HUMAN_UAS[v % len(HUMAN_UAS)]
        if self.real:
            p = self.pick()
            eid = self.new_id("click" if is_click else "view", ms, p)
        else:
            eid = make_uuid(rng)
        parts = ['{"type":"click","event_id":"' if is_click else '{"type":"view","event_id":"',
                 eid, '","ts":"', self.ts(ms), head]
        if viewer:
            parts += [',"viewer_id":"', viewer, '"']
        if prod is not None:
            parts += [",", w.products[prod][0]]
        parts += [',"user_agent":"', ua, '"}\n']
        line = "".join(parts)
        if self.real:
            line = self.finish(line, p, eid)
        if is_click:
            c["click"] += 1
            if not bot and rng.random() < 0.145:
                self.schedule_conversion(ms, eid, viewer, prod)
            elif bot and rng.random() < 0.01:
                self.schedule_conversion(ms, eid, viewer, prod, bot_click=True)
        else:
            c["view"] += 1
        return line

    CONTEXT = ("rng", "counts", "heap", "orders", "fi", "copy_pool_orders", "stream", "idseq")

    def enter(self, rng, **kw):
        """Generate in another context (a pool): its own random stream, counters and heap; returns
        what leave() restores."""
        saved = dict((k, getattr(self, k)) for k in self.CONTEXT if hasattr(self, k))
        self.rng, self.counts, self.heap = rng, dict((k, 0) for k in self.counts), []
        for k, v in kw.items():
            setattr(self, k, v)
        return saved

    def leave(self, saved):
        for k, v in saved.items():
            setattr(self, k, v)

    def pool_event(self, ms):
        """(line, kinds): a base event and the counters it bumped (its kinds when written)."""
        before = dict(self.counts)
        line = self.base_event(ms)
        return line, tuple(k for k, v in self.counts.items() if v != before[k] and k != "dropped_after_end")

    def pool_lines(self, owner):
        """Events of file `owner` that are logged twice: in file owner and in file owner+1.
        (ms, line, kinds)."""
        a = self.a
        n = a.events // a.files // 200    # 0.5 % of a file
        saved = self.enter(random.Random("pool:%d:%d" % (a.seed, owner)))
        if self.real:
            self.stream, self.idseq = a.files + owner, 0
        out = []
        for _ in range(n):
            ms = self.start + int(self.rng.random() * (self.end - self.start))
            line, kinds = self.pool_event(ms)
            if "ordered" in kinds:
                continue
            out.append((ms, line, kinds))
        # Conversions scheduled by pool clicks are not kept.
        self.leave(saved)
        return out

    def file_lines(self, fi):
        a = self.a
        return a.events // a.files + (1 if fi < a.events % a.files else 0)

    def copy_pool(self, owner):
        """--real: events of file `owner` that are logged again, byte-identical, in one later file
        each: (ms, line, kinds, target file), ms < the end of the period - COPY_MARGIN_MS. Pool
        clicks' conversions, retries and refunds come along, so conversions are copied too.
        Also returns what the pool dropped after the end of the period."""
        a = self.a
        if owner >= a.files - 1:
            return [], 0
        n = int(self.file_lines(owner) * COPY_SHARE * a.files / (a.files - 1) + 0.5)
        saved = self.enter(random.Random("copies:%d:%d" % (a.seed, owner)), orders=0, fi=owner,
                           copy_pool_orders=True, stream=2 * a.files + owner, idseq=0)
        out = []
        for _ in range(n):
            ms = self.start + int(self.rng.random() * (self.end - self.start))
            line, kinds = self.pool_event(ms)
            out.append((ms, line, kinds))
        out.extend((ms, line, kinds) for ms, _, line, kinds in sorted(self.heap))
        dropped = self.counts["dropped_after_end"]
        limit = self.end - COPY_MARGIN_MS
        result = [(ms, line, kinds, owner + 1 + int(self.rng.random() * (a.files - 1 - owner)))
                  for ms, line, kinds in out if ms < limit]
        self.leave(saved)
        return result, dropped

    def run(self, path):
        a, rng, c = self.a, self.rng, self.counts
        n = a.events // a.files + (1 if self.fi < a.events % a.files else 0)
        # Cross-file duplicates: this file's pool and the previous file's pool.
        owners = [self.fi] if a.files == 1 else [self.fi, (self.fi - 1) % a.files]
        for owner in owners:
            for ms, line, kinds in self.pool_lines(owner):
                self.push(ms, line, kinds if owner == self.fi else ("duplicate",))
        if a.files == 1:   # one file: its pool appears twice in it
            for ms, line, _ in self.pool_lines(self.fi):
                self.push(ms + 1, line, ("duplicate",))
        if self.real:
            # Copies in later files: this file's copy pool (the originals), and the copies
            # earlier files' pools send here. Same bytes, same ts, so the same place in time.
            lines, dropped = self.copy_pool(self.fi)
            c["dropped_after_end"] += dropped
            for ms, line, kinds, _ in lines:
                self.push(ms, line, kinds + ("copy_original",))
            for owner in range(self.fi):
                for ms, line, _, target in self.copy_pool(owner)[0]:
                    if target == self.fi:
                        self.push(ms, line, ("duplicate", "copy"))
        comp = zlib.compressobj(a.level, zlib.DEFLATED, 31)   # gzip wrapper, mtime 0
        raw = 0
        span = self.end - self.start
        buf = []
        written = 0
        with open(path + ".tmp", "wb") as f:
            while written < n:
                # Base events are spread so that the n-th line lands at the end of the period.
                ms = self.start + int((written + rng.random()) * span / n)
                heap = self.heap
                while heap and heap[0][0] <= ms and written < n:
                    _, _, line, kinds = heapq.heappop(heap)
                    buf.append(line)
                    for k in kinds:
                        c[k] += 1
                    written += 1
                if written >= n:
                    break
                line = self.base_event(ms)
                buf.append(line)
                written += 1
                if rng.random() < 0.005:   # the same line again, a little later
                    self.push(ms + 1 + int(rng.random() * 600_000), line, ("duplicate",))
                if len(buf) >= 8192:
                    data = "".join(buf).encode()
                    raw += len(data)
                    f.write(comp.compress(data))
                    buf = []
            data = "".join(buf).encode()
            raw += len(data)
            f.write(comp.compress(data))
            f.write(comp.flush())
        os.replace(path + ".tmp", path)
        if self.real:   # originals of copies left unwritten at the end: their copies would not be duplicates
            c["copy_original_unwritten"] = sum(1 for e in self.heap if "copy_original" in e[3])
        c["lines"] = written
        c["bytes"] = raw
        return c


def worker(job):
    a, fi = job
    world = World(a.seed, a.creators, a.products)
    path = os.path.join(a.out, "part-%04d.ndjson.gz" % fi)
    counts = FileGen(a, fi, world).run(path)
    counts["gzip_bytes"] = os.path.getsize(path)
    return fi, counts


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, required=True, help="total lines to write")
    p.add_argument("--files", type=int, default=16, help="number of part-NNNN.ndjson.gz files")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--days", type=int, default=7, help="days covered (default 7)")
    p.add_argument("--start", default="2026-10-01", help="first day, UTC (default 2026-10-01)")
    p.add_argument("--creators", type=int, default=N_CREATORS,
                   help="creators in the world (default %d; at most 10,000,000)" % N_CREATORS)
    p.add_argument("--products", type=int, default=N_PRODUCTS,
                   help="products in the world (default %d)" % N_PRODUCTS)
    p.add_argument("--real", action="store_true",
                   help="real-shaped logs: several producers interleaved, with event ids of several shapes "
                        "(lowercase and uppercase UUIDs, prefixed counters, ULIDs, decimal digits as JSON "
                        "strings or integers), half the lines with a space after ':' and ',', and ~1%% of "
                        "events copied again into a later file (see README.md)")
    p.add_argument("--level", type=int, default=6, help="gzip level (default 6)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    a = p.parse_args(argv)
    import datetime
    d = datetime.date.fromisoformat(a.start)
    a.start_ms = (d - datetime.date(1970, 1, 1)).days * DAY_MS
    if a.events < a.files or a.files < 1 or a.days < 1:
        p.error("need --events >= --files >= 1 and --days >= 1")
    if not 1 <= a.creators <= 10_000_000 or a.products < 1:
        p.error("need 1 <= --creators <= 10000000 and --products >= 1")
    return a


def main(argv=None):
    a = parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    for name in os.listdir(a.out):   # a smaller earlier run must not leave extra parts
        if name.startswith("part-") and name.endswith(".ndjson.gz"):
            os.remove(os.path.join(a.out, name))
    t0 = time.time()
    jobs = [(a, fi) for fi in range(a.files)]
    total = {}
    if a.jobs > 1 and a.files > 1:
        with multiprocessing.get_context("fork").Pool(min(a.jobs, a.files)) as pool:
            results = list(pool.imap_unordered(worker, jobs))
    else:
        results = [worker(j) for j in jobs]
    for _, counts in results:
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    elapsed = time.time() - t0
    meta = {"generator": "benchmarks/generate.py", "events": a.events, "files": a.files,
            "seed": a.seed, "days": a.days, "start": a.start, "level": a.level,
            "creators": a.creators, "products": a.products,
            "lines": total["lines"], "uncompressed_bytes": total["bytes"],
            "gzip_bytes": total["gzip_bytes"], "counts": total, "seconds": round(elapsed, 1)}
    if a.real:   # only then, so that the default output stays as it was
        producers, digits_base = real_producers(a.seed)
        meta["real"] = True
        meta["producers"] = [dict(id_shape=shape, spaced=spaced, share=round(share, 4))
                             for shape, spaced, share in producers]
        meta["digits_base"] = digits_base
    with open(os.path.join(a.out, ".generator.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
    n = total["lines"]
    share = lambda k: "%.2f%%" % (100.0 * total[k] / n)
    print("wrote %d lines in %d files to %s: %.1f MB NDJSON, %.1f MB gzip, %.0f B/line, %.1f s"
          % (n, a.files, a.out, total["bytes"] / 1e6, total["gzip_bytes"] / 1e6,
             total["bytes"] / n, elapsed))
    print("views %s, clicks %s, ordered %s, refunds %s, bot %s, duplicates %s, retried orders %d"
          % (share("view"), share("click"), share("ordered"), share("refunded"), share("bot"),
             share("duplicate"), total["retry"]))
    print("conversions: click_id %d, viewer fallback %d, outside window %d, organic %d, bot click %d"
          % (total["conv_click_id"], total["conv_fallback"], total["conv_outside"],
             total["conv_organic"], total["conv_bot_click"]))
    if a.real:
        print("real-shaped: %s; copies in later files %d (%s of lines)"
              % (", ".join("%s%s %.0f%%" % (sh, " spaced" if sp else "", 100 * w)
                           for sh, sp, w in real_producers(a.seed)[0]),
                 total["copy"], share("copy")))
        if total["copy_original_unwritten"]:
            print("warning: %d originals of copies fell off the end of their file, so as many lines counted "
                  "as duplicates are not" % total["copy_original_unwritten"], file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
