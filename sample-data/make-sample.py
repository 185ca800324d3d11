#!/usr/bin/env python3
"""Regenerate the sample logs in sample-data/ (deterministic, standard library only).

    python3 sample-data/make-sample.py            # rewrites sample-data/logs and products.csv

Every file is byte-reproducible: gzip members are written with mtime 0 and no file
name, CSV files are written byte for byte. Each event below carries a comment naming
the contract case it exercises; EXPECTED.md lists what daily_metrics and the rejects
table should hold after `ingest` + `aggregate` over sample-data/logs with
sample-data/clickpipeline.toml. If you change an event here, re-derive EXPECTED.md by
hand (from CONTRACT.md), not from the pipeline's output.
"""
import datetime
import gzip
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs")

# Realistic user agents. The bot ones match the default patterns (bot, headless).
UA_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 ShortVideo/41.2.0")
UA_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/130.0.6723.102 Mobile Safari/537.36")
UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/18.0 Safari/605.1.15")
UA_BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
UA_GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
UA_HEADLESS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "HeadlessChrome/130.0.0.0 Safari/537.36")


def epoch_ms(rfc3339):
    """Unix epoch milliseconds of a UTC timestamp written as 'YYYY-MM-DDTHH:MM:SS[.mmm]Z'."""
    t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return int(t.timestamp()) * 1000 + t.microsecond // 1000


def j(**fields):
    """One compact NDJSON line, keys in the order given."""
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def gz(*members):
    """gzip bytes, one member per argument (several = multi-member), mtime 0, no name."""
    return b"".join(gzip.compress(b"".join(m), compresslevel=9, mtime=0) for m in members)


def csv_text(rows, eol):
    """CSV bytes from pre-quoted row strings (kept literal so quoting is exact)."""
    return b"".join(r.encode() + eol for r in rows)


def write(rel, data):
    path = os.path.join(LOGS, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------------------
# Product catalog: product_id,platform,store,title,category
PRODUCTS = """product_id,platform,store,title,category
B0AMZBEAU1,amazon,,Glow Serum 30 ml,beauty
B0AMZBEAU2,amazon,,Matte Lipstick Trio,beauty
B0AMZBOOK1,amazon,,Data Pipelines | A Field Guide,books
B0AMZBOOK2,amazon,,The *Lost* Recipes,books
B0AMZHOME1,amazon,,"Linen Throw Pillow, Sand",home
B0AMZHOME2,amazon,,Bamboo Cutting Board,home
LS-100,brand_store,lumi-skin,Vitamin C Day Cream,beauty
LS-200,brand_store,lumi-skin,Overnight Repair Mask,beauty
OA-7,brand_store,oak-and-ash,Walnut Desk Organizer,home
OA-9,brand_store,oak-and-ash,Ash Table Lamp,home
"""

# --------------------------------------------------------------------------------------
# logs/2026-11-01/views.ndjson.gz — day-1 views, one gzip member.
VIEWS_D1 = [
    # 1: plain view; placement absent + post_id present -> post
    j(type="view", event_id="ev-v-0001", ts="2026-11-01T08:00:05.120Z", creator_id="maya_glow",
      post_id="p-501", viewer_id="v-1001", product_id="B0AMZBEAU1", platform="amazon",
      user_agent=UA_IPHONE),
    # 2: epoch-millisecond ts; mixed-case enums ("View", "Amazon", "POST")
    j(type="View", event_id="ev-v-0002", ts=epoch_ms("2026-11-01T08:01:00Z"), creator_id="maya_glow",
      post_id="p-501", placement="POST", viewer_id="v-1002", product_id="B0AMZBEAU1",
      platform="Amazon", user_agent=UA_ANDROID),
    # 3: same viewer as line 1 again -> views 3, unique_viewers still 2
    j(type="view", event_id="ev-v-0003", ts="2026-11-01T08:03:30Z", creator_id="maya_glow",
      post_id="p-501", viewer_id="v-1001", product_id="B0AMZBEAU1", platform="amazon",
      user_agent=UA_IPHONE),
    # 4: no viewer_id -> counts in views, not in unique_viewers
    j(type="view", event_id="ev-v-0004", ts="2026-11-01T08:05:00Z", creator_id="maya_glow",
      post_id="p-501", product_id="B0AMZBEAU1", platform="amazon", user_agent=UA_MAC),
    # 5: view of the bio page without a product -> platform = store = product_id = ''
    j(type="view", event_id="ev-v-0005", ts="2026-11-01T08:10:00Z", creator_id="maya_glow",
      placement="Bio", viewer_id="v-1003", user_agent=UA_IPHONE),
    # 6: bot view (bingbot) -> bot_views only
    j(type="view", event_id="ev-v-0006", ts="2026-11-01T08:11:00Z", creator_id="maya_glow",
      post_id="p-501", product_id="B0AMZBEAU1", platform="amazon", user_agent=UA_BINGBOT),
    # 7: ids as JSON integers; +07:00 offset (02:15Z); store given for amazon -> recorded ''
    j(type="view", event_id=700001, ts="2026-11-01T09:15:00+07:00", creator_id=101, post_id=9001,
      viewer_id=555001, product_id="B0AMZHOME1", platform="amazon", store="amzn-us",
      user_agent=UA_ANDROID),
    # 8: same creator as a string "101"; space instead of T; +01:00 offset; fraction
    j(type="view", event_id=700002, ts="2026-11-01 11:20:00.250+01:00", creator_id="101",
      post_id="9001", viewer_id="555002", product_id="B0AMZHOME1", platform="amazon",
      user_agent=UA_IPHONE),
    # 9: blank line (ignored, but still counts for line numbers)
    b"\n",
    # 10: REJECT malformed — truncated JSON object (writer died mid-line)
    b'{"type":"view","event_id":"ev-v-0010","ts":"2026-11-01T12:00:00Z","creator_id":"kenji_reads","placement":"bio"\n',
    # 11: REJECT missing_field:event_id
    j(type="view", ts="2026-11-01T12:01:00Z", creator_id="kenji_reads", placement="bio",
      viewer_id="v-2009", user_agent=UA_ANDROID),
    # 12: kenji's bio link to the book with a '|' in its title
    j(type="view", event_id="ev-v-0012", ts="2026-11-01T08:30:00Z", creator_id="kenji_reads",
      placement="BIO", viewer_id="v-2002", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_ANDROID),
    # 13
    j(type="view", event_id="ev-v-0013", ts="2026-11-01T08:40:00Z", creator_id="kenji_reads",
      placement="bio", viewer_id="v-2003", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_MAC),
    # 14: REJECT malformed — invalid UTF-8 (0xC3 0x28) inside the user agent
    b'{"type":"view","event_id":"ev-v-0014","ts":"2026-11-01T12:30:00Z","creator_id":"kenji_reads",'
    b'"placement":"bio","viewer_id":"v-2005","user_agent":"Mozilla/5.0 (Linux; Android 14) \xc3\x28"}\n',
    # 15: 2026-11-02T06:30+07:00 is 2026-11-01T23:30Z -> day 2026-11-01 in UTC
    j(type="view", event_id="ev-v-0015", ts="2026-11-02T06:30:00+07:00", creator_id="casa_lena",
      post_id="p-777", viewer_id="v-4010", product_id="OA-7", platform="brand_store",
      store="oak-and-ash", user_agent=UA_IPHONE),
    # 16
    j(type="view", event_id="ev-v-0016", ts="2026-11-01T13:55:00Z", creator_id="casa_lena",
      post_id="p-777", viewer_id="v-4004", product_id="OA-7", platform="brand_store",
      store="oak-and-ash", user_agent=UA_ANDROID),
    # 17: 20:15-05:00 is 2026-11-02T01:15Z -> day 2026-11-02 although in a day-1 file
    j(type="view", event_id="ev-v-0017", ts="2026-11-01T20:15:00-05:00", creator_id="kenji_reads",
      placement="bio", viewer_id="v-2004", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_MAC),
    # 18: 6 fraction digits are truncated to .999 -> still 2026-11-01 (rounding would give 11-02)
    j(type="view", event_id="ev-v-0018", ts="2026-11-01T23:59:59.999999Z", creator_id="maya_glow",
      placement="bio", viewer_id="v-1004", user_agent=UA_IPHONE),
]

# logs/2026-11-01/views.redelivered.ndjson.gz — the collector re-sent part of the dump.
VIEWS_D1_REDELIVERED = [
    VIEWS_D1[0],   # duplicate of ev-v-0001
    VIEWS_D1[1],   # duplicate of ev-v-0002
    VIEWS_D1[6],   # duplicate of 700001
    VIEWS_D1[11],  # duplicate of ev-v-0012
    # 5: new event; v-2002 already viewed this row -> unique_viewers unchanged
    j(type="view", event_id="ev-v-0101", ts="2026-11-01T08:55:00Z", creator_id="kenji_reads",
      placement="bio", viewer_id="v-2002", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_ANDROID),
    # 6: new event
    j(type="view", event_id="ev-v-0102", ts="2026-11-01T16:00:00Z", creator_id="casa_lena",
      placement="bio", viewer_id="v-4005", user_agent=UA_IPHONE),
]

# logs/2026-11-01/clicks.ndjson.gz — two gzip members concatenated (lines 1-5, 6-11).
CLICKS_D1_MEMBER1 = [
    # 1: K1, named by click_id from conversion ev-c-0001
    j(type="click", event_id="ev-k-0001", ts="2026-11-01T10:00:00.000Z", creator_id="maya_glow",
      post_id="p-501", viewer_id="v-1001", product_id="B0AMZBEAU1", platform="amazon",
      user_agent=UA_IPHONE),
    # 2: mixed case type and platform
    j(type="CLICK", event_id="ev-k-0002", ts="2026-11-01T10:05:00Z", creator_id="maya_glow",
      post_id="p-501", viewer_id="v-1002", product_id="B0AMZBEAU1", platform="AMAZON",
      user_agent=UA_ANDROID),
    # 3: K2, the latest click of v-2002 on B0AMZBOOK1 -> wins the fallback for ev-c-0003
    j(type="click", event_id="ev-k-0003", ts="2026-11-01T09:00:00Z", creator_id="kenji_reads",
      placement="bio", viewer_id="v-2002", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_ANDROID),
    # 4: REJECT bad_value:type
    j(type="impression", event_id="ev-k-0004", ts="2026-11-01T09:10:00Z", creator_id="kenji_reads",
      placement="bio", viewer_id="v-2003", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_MAC),
    # 5: K3, integer ids; conversion ev-c-0501 comes exactly 24 h later (window is inclusive)
    j(type="click", event_id="ev-k-0005", ts="2026-11-01T08:00:00.000Z", creator_id=101,
      post_id=9001, viewer_id=555003, product_id="B0AMZHOME2", platform="amazon",
      user_agent=UA_ANDROID),
]
CLICKS_D1_MEMBER2 = [
    # 6: K4; conversion ev-c-0601 comes 24 h + 1 ms later -> outside the window
    j(type="click", event_id="ev-k-0006", ts="2026-11-01T07:00:00Z", creator_id="casa_lena",
      placement="bio", viewer_id="v-3003", product_id="B0AMZHOME1", platform="amazon",
      user_agent=UA_MAC),
    # 7: bot click (Googlebot); conversion ev-c-0401 names it by click_id
    j(type="click", event_id="ev-k-0007", ts="2026-11-01T13:00:00Z", creator_id="casa_lena",
      post_id="p-777", product_id="OA-7", platform="brand_store", store="oak-and-ash",
      user_agent=UA_GOOGLEBOT),
    # 8: K5, a human click by v-4004 that the viewer fallback would find for ev-c-0401
    j(type="click", event_id="ev-k-0008", ts="2026-11-01T14:00:00Z", creator_id="casa_lena",
      post_id="p-777", viewer_id="v-4004", product_id="OA-7", platform="brand_store",
      store="oak-and-ash", user_agent=UA_ANDROID),
    # 9: REJECT missing_field:store — brand_store click without store (line 9 of the stream,
    #    i.e. the 4th line of the second gzip member)
    j(type="click", event_id="ev-k-0009", ts="2026-11-01T14:30:00Z", creator_id="casa_lena",
      post_id="p-777", viewer_id="v-4006", product_id="OA-9", platform="brand_store",
      user_agent=UA_IPHONE),
    # 10: K6, mixed-case platform
    j(type="click", event_id="ev-k-0010", ts="2026-11-01T15:00:00Z", creator_id="maya_glow",
      post_id="p-502", viewer_id="v-1005", product_id="LS-100", platform="Brand_Store",
      store="lumi-skin", user_agent=UA_IPHONE),
    # 11: K7, event_id as a JSON integer; conversion ev-c-0801 names it as the string "9100011"
    j(type="click", event_id=9100011, ts="2026-11-01T16:00:00Z", creator_id="maya_glow",
      placement="bio", viewer_id="v-1006", product_id="LS-200", platform="brand_store",
      store="lumi-skin", user_agent=UA_ANDROID),
]

# logs/2026-11-01/amazon-postbacks.ndjson.gz — day-1 Amazon conversion postbacks.
POSTBACKS_D1 = [
    # 1: C1 attributed by click_id; amount as a JSON number 19.99 (exact decimal!);
    #    currency and quantity absent -> USD, 1
    j(type="conversion", event_id="ev-c-0001", ts="2026-11-01T10:42:10Z",
      order_id="112-4410001-0000001", click_id="ev-k-0001", viewer_id="v-1001",
      product_id="B0AMZBEAU1", platform="amazon", amount=19.99),
    # 2: the same postback retried with a fresh event_id -> duplicate order, dropped
    j(type="conversion", event_id="ev-c-0002", ts="2026-11-01T10:42:10Z",
      order_id="112-4410001-0000001", click_id="ev-k-0001", viewer_id="v-1001",
      product_id="B0AMZBEAU1", platform="amazon", amount=19.99),
    # 3: C2 by viewer fallback (no click_id); amount as a string, total for 2 units
    j(type="conversion", event_id="ev-c-0003", ts="2026-11-01T21:00:00Z",
      order_id="112-4410001-0000002", viewer_id="v-2002", product_id="B0AMZBOOK1",
      platform="amazon", quantity=2, amount="24.50", currency="USD", status="Ordered"),
    # 4: REJECT bad_value:amount (negative)
    j(type="conversion", event_id="ev-c-0004", ts="2026-11-01T22:00:00Z",
      order_id="112-4410001-0000003", viewer_id="v-2003", product_id="B0AMZBOOK1",
      platform="amazon", amount="-5.00"),
]

# logs/2026-11-01/tracker-export.csv — plain CSV, CRLF, an unknown column (campaign),
# mixed event types. Rows are written literally so the quoting is exact.
TRACKER_CSV = [
    # 1: header
    "type,event_id,ts,creator_id,post_id,placement,viewer_id,product_id,platform,store,"
    "user_agent,order_id,click_id,quantity,amount,currency,status,campaign",
    # 2: click; quoted user agent containing commas
    'click,ev-k-0301,2026-11-01T17:00:00Z,kenji_reads,p-8801,,v-2010,B0AMZBOOK2,amazon,,'
    '"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Chrome/130.0.6723.102 Mobile Safari/537.36",,,,,,,fall-reads',
    # 3: click; quoted user agent with a doubled quote ("" -> ") and a comma
    'click,ev-k-0302,2026-11-01T17:05:00Z,kenji_reads,p-8801,,v-2011,B0AMZBOOK2,amazon,,'
    '"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) '
    'Mobile/15E148 ShortVideo/41.2.0 ""in-app""",,,,,,,fall-reads',
    # 4: C4 names the Googlebot click ev-k-0007 -> unattributed (no fallback to ev-k-0008);
    #    empty currency cell = absent -> USD
    'conversion,ev-c-0401,2026-11-01T18:00:00Z,,,,v-4004,OA-7,brand_store,oak-and-ash,,'
    'OA-10001,ev-k-0007,1,24.45,,ordered,',
    # 5: C3 by viewer fallback to ev-k-0102, a click that arrives later (day-2 folder)
    'conversion,ev-c-0402,2026-11-01T19:30:00Z,,,,v-1008,LS-200,brand_store,lumi-skin,,'
    'LS-50001,,,58.00,USD,,',
    # 6: REJECT malformed — 17 cells instead of 18 (campaign cell missing)
    'conversion,ev-c-0403,2026-11-01T20:00:00Z,,,,v-1009,LS-100,brand_store,lumi-skin,,'
    'LS-50009,,1,30.00,USD,ordered',
    # 7: REJECT bad_value:currency
    'conversion,ev-c-0404,2026-11-01T20:30:00Z,,,,v-2011,B0AMZBOOK2,amazon,,,'
    '112-4410001-0000004,,1,12.00,XXX,ordered,',
]

# --------------------------------------------------------------------------------------
# logs/2026-11-02/events.ndjson.gz — day-2 mixed events.
EVENTS_D2 = [
    # 1
    j(type="view", event_id="ev-v-0201", ts="2026-11-02T09:00:00Z", creator_id="maya_glow",
      post_id="p-502", viewer_id="v-1007", product_id="LS-100", platform="brand_store",
      store="lumi-skin", user_agent=UA_IPHONE),
    # 2-3: two clicks by v-1007 at the same millisecond (one written as epoch ms): the tie
    #      goes to the greatest event_id in byte order: "ev-k-9" > "ev-k-10"
    j(type="click", event_id="ev-k-9", ts="2026-11-02T09:30:00Z", creator_id="maya_glow",
      post_id="p-502", viewer_id="v-1007", product_id="LS-100", platform="brand_store",
      store="lumi-skin", user_agent=UA_IPHONE),
    j(type="click", event_id="ev-k-10", ts=epoch_ms("2026-11-02T09:30:00Z"), creator_id="kenji_reads",
      placement="bio", viewer_id="v-1007", product_id="LS-100", platform="brand_store",
      store="lumi-skin", user_agent=UA_IPHONE),
    # 4: C7 in EUR, fallback with the tie above; order_id as a JSON integer
    j(type="conversion", event_id="ev-c-0701", ts="2026-11-02T11:15:00+01:00", order_id=880001,
      viewer_id="v-1007", product_id="LS-100", platform="brand_store", store="lumi-skin",
      amount="42.00", currency="EUR"),
    # 5: C8 in IDR, by click_id "9100011" (the click's event_id was the integer 9100011);
    #    135000 IDR x 0.000063 = 8.505 USD = 850.5 cents -> 850 (half-even)
    j(type="conversion", event_id="ev-c-0801", ts="2026-11-02T03:00:00Z", order_id="LS-50002",
      click_id="9100011", viewer_id="v-1006", product_id="LS-200", platform="brand_store",
      store="lumi-skin", amount="135000", currency="IDR"),
    # 6: C5 exactly 24 h after K3 (viewer given as a string this time) -> attributed
    j(type="conversion", event_id="ev-c-0501", ts="2026-11-02T08:00:00Z",
      order_id="112-4410001-0000005", viewer_id="555003", product_id="B0AMZHOME2",
      platform="amazon", amount="12.00"),
    # 7: C6 24 h + 1 ms after K4 (epoch ms) -> outside the amazon window, unattributed
    j(type="conversion", event_id="ev-c-0601", ts=epoch_ms("2026-11-02T07:00:00.001Z"),
      order_id="112-4410001-0000006", viewer_id="v-3003", product_id="B0AMZHOME1",
      platform="amazon", amount="35.00"),
    # 8: REJECT missing_field:ts
    j(type="view", event_id="ev-v-0208", creator_id="maya_glow", placement="bio",
      viewer_id="v-1010", user_agent=UA_IPHONE),
    # 9: REJECT bad_value:ts (November has 30 days)
    j(type="click", event_id="ev-k-0209", ts="2026-11-31T10:00:00Z", creator_id="maya_glow",
      post_id="p-502", viewer_id="v-1010", product_id="LS-100", platform="brand_store",
      store="lumi-skin", user_agent=UA_IPHONE),
    # 10: C9 click_id names no ingested click -> falls back to the viewer (ev-k-0301)
    j(type="conversion", event_id="ev-c-0901", ts="2026-11-02T09:00:00Z",
      order_id="112-4410001-0000009", click_id="ev-k-missing", viewer_id="v-2010",
      product_id="B0AMZBOOK2", platform="amazon", amount="15.99"),
    # 11: C10 product not in the catalog, no viewer -> unattributed, amazon default rate
    j(type="conversion", event_id="ev-c-1001", ts="2026-11-02T10:00:00Z",
      order_id="112-4410001-0000010", product_id="B0NOTINCAT", platform="amazon",
      amount="10.00", currency="USD"),
    # 12: bot view (HeadlessChrome) with a viewer_id -> bot_views, not unique_viewers
    j(type="view", event_id="ev-v-0211", ts="2026-11-02T09:05:00Z", creator_id="maya_glow",
      post_id="p-502", viewer_id="v-1009", product_id="LS-100", platform="brand_store",
      store="lumi-skin", user_agent=UA_HEADLESS),
]

# logs/2026-11-02/views.ndjson.gz — clean day-2 views; copied to logs/resent/.
VIEWS_D2 = [
    j(type="view", event_id="ev-v-0301", ts="2026-11-02T08:00:00Z", creator_id="kenji_reads",
      placement="bio", viewer_id="v-2002", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_ANDROID),
    j(type="view", event_id="ev-v-0302", ts="2026-11-02T08:30:00Z", creator_id="kenji_reads",
      post_id="p-8801", viewer_id="v-2010", product_id="B0AMZBOOK2", platform="amazon",
      user_agent=UA_IPHONE),
    j(type="view", event_id="ev-v-0303", ts=epoch_ms("2026-11-02T12:00:00Z"), creator_id=101,
      viewer_id=555004, user_agent=UA_ANDROID),
    j(type="view", event_id="ev-v-0304", ts="2026-11-02T13:00:00Z", creator_id="casa_lena",
      post_id="p-777", viewer_id="v-4011", product_id="OA-7", platform="brand_store",
      store="oak-and-ash", user_agent=UA_MAC),
]

# logs/2026-11-02/late-clicks-2026-11-01.ndjson.gz — day-1 clicks delivered a day late.
LATE_CLICKS = [
    # 1: an earlier click of v-2002 on B0AMZBOOK1 (creator 101): loses to ev-k-0003 (later)
    j(type="click", event_id="ev-k-0101", ts="2026-11-01T07:00:00Z", creator_id="101",
      placement="bio", viewer_id="v-2002", product_id="B0AMZBOOK1", platform="amazon",
      user_agent=UA_ANDROID),
    # 2: the click ev-c-0402 (in tracker-export.csv, processed earlier) falls back to
    j(type="click", event_id="ev-k-0102", ts="2026-11-01T12:00:00Z", creator_id="casa_lena",
      post_id="p-778", viewer_id="v-1008", product_id="LS-200", platform="brand_store",
      store="lumi-skin", user_agent=UA_IPHONE),
]

# logs/2026-11-02/orders-export.csv.gz — gzipped CSV, LF, a different column order.
ORDERS_CSV = [
    "type,event_id,ts,platform,store,product_id,order_id,click_id,viewer_id,quantity,amount,currency,status",
    # 2: full refund of C2 (attributed to kenji_reads/bio) on its own day
    "conversion,ev-r-0001,2026-11-02T16:00:00Z,amazon,,B0AMZBOOK1,112-4410001-0000002,,,,24.50,,REFUNDED",
    # 3: C11 in GBP, 3 units; its viewer's only click (ev-k-0009) was rejected -> unattributed
    "conversion,ev-c-1101,2026-11-02T17:00:00Z,brand_store,oak-and-ash,OA-9,OA-10002,,v-4006,3,89.97,GBP,ordered",
    # 4: refund of an order that was never ingested -> unattributed refund
    "conversion,ev-r-0002,2026-11-02T18:00:00Z,brand_store,oak-and-ash,OA-7,OA-09999,,,,10.00,USD,refunded",
]

# logs/2026-11-02/views-oversized.ndjson.gz — a line over 1 MiB between two good lines.
OVERSIZED = [
    j(type="view", event_id="ev-v-0401", ts="2026-11-02T14:00:00Z", creator_id="casa_lena",
      placement="bio", viewer_id="v-4012", user_agent=UA_IPHONE),
    # 2: REJECT line_too_long — a 1,100,000-byte user agent (raw text kept: first 1 KiB)
    j(type="view", event_id="ev-v-0402", ts="2026-11-02T14:01:00Z", creator_id="casa_lena",
      placement="bio", viewer_id="v-4099", user_agent="Mozilla/5.0 " + "A" * 1_100_000),
    j(type="view", event_id="ev-v-0403", ts="2026-11-02T14:05:00Z", creator_id="casa_lena",
      placement="bio", viewer_id="v-4013", user_agent=UA_ANDROID),
]


def main():
    if os.path.isdir(LOGS):
        shutil.rmtree(LOGS)
    with open(os.path.join(HERE, "products.csv"), "wb") as f:
        f.write(PRODUCTS.encode())
    write("2026-11-01/views.ndjson.gz", gz(VIEWS_D1))
    write("2026-11-01/views.redelivered.ndjson.gz", gz(VIEWS_D1_REDELIVERED))
    write("2026-11-01/clicks.ndjson.gz", gz(CLICKS_D1_MEMBER1, CLICKS_D1_MEMBER2))
    write("2026-11-01/amazon-postbacks.ndjson.gz", gz(POSTBACKS_D1))
    write("2026-11-01/tracker-export.csv", csv_text(TRACKER_CSV, b"\r\n"))
    write("2026-11-02/events.ndjson.gz", gz(EVENTS_D2))
    write("2026-11-02/views.ndjson.gz", gz(VIEWS_D2))
    write("2026-11-02/late-clicks-2026-11-01.ndjson.gz", gz(LATE_CLICKS))
    write("2026-11-02/orders-export.csv.gz", gz([csv_text(ORDERS_CSV, b"\n")]))
    write("2026-11-02/views-oversized.ndjson.gz", gz(OVERSIZED))
    # The same bytes under another name (sorts after the original): skipped as already seen.
    os.makedirs(os.path.join(LOGS, "resent"))
    shutil.copyfile(os.path.join(LOGS, "2026-11-02/views.ndjson.gz"),
                    os.path.join(LOGS, "resent/2026-11-02-views.ndjson.gz"))
    total = 0
    for root, _, files in sorted(os.walk(HERE)):
        for name in sorted(files):
            total += os.path.getsize(os.path.join(root, name))
    print("sample-data: %d bytes in total" % total)


if __name__ == "__main__":
    main()
