#!/usr/bin/env python3
"""Writes N clicks (NDJSON) whose user agents are all distinct and look like real traffic:
Android WebViews with app tokens (TikTok, Instagram, Facebook), iOS apps, desktop Chrome.
For measuring bot decisions per distinct agent (docs/BENCHMARKS.md, "Bot filtering"):

    python3 benchmarks/user_agents.py 200000 > /tmp/ua200k.ndjson
"""
import json
import random
import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    random.seed(7)
    devices = ["SM-S918B", "Pixel 7", "SM-A536B", "Redmi Note 8 Pro", "moto g84 5G", "2201117TG", "CPH2451", "V2207",
               "RMX3630", "M2101K6G"]
    apps = ["", "musical_ly_{v} JsSdk/2.0 NetType/WIFI Channel/googleplay", "Instagram {v} Android", "FBAV/{v};FBBV/1234", ""]
    seen = set()
    out = sys.stdout
    while len(seen) < n:
        kind = random.random()
        chrome = f"{random.randint(90, 131)}.0.{random.randint(1000, 6999)}.{random.randint(0, 200)}"
        app = random.choice(apps).format(v=f"{random.randint(20, 40)}.{random.randint(0, 9)}.{random.randint(0, 9)}")
        if kind < 0.5:
            build = f"{random.choice('ABCDEFGHTPQ')}{random.randint(1, 9)}{random.choice('ABCDEFGHTPQ')}.{random.randint(200000, 240000)}.{random.randint(1, 99):03d}"
            ua = (f"Mozilla/5.0 (Linux; Android {random.randint(8, 14)}; {random.choice(devices)} Build/{build}; wv) "
                  f"AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{chrome} Mobile Safari/537.36 {app}")
        elif kind < 0.8:
            ua = (f"Mozilla/5.0 (iPhone; CPU iPhone OS {random.randint(14, 18)}_{random.randint(0, 7)} like Mac OS X) "
                  f"AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E{random.randint(100, 300)} {app}")
        else:
            ua = f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome} Safari/537.36"
        ua = ua.strip()
        if ua in seen:
            continue
        seen.add(ua)
        i = len(seen)
        out.write(json.dumps({"type": "click", "event_id": f"k{i}", "ts": "2026-11-02T10:00:00Z", "creator_id": "c1",
                              "viewer_id": f"u{i}", "product_id": "p1", "platform": "amazon", "user_agent": ua}) + "\n")


if __name__ == "__main__":
    main()
