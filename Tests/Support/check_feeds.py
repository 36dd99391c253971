#!/usr/bin/env python3
"""Parses Herald's feeds with Python's feedparser and checks the JSON Feed's required fields.

  check_feeds.py ATOM_FILE RSS_FILE JSON_FILE
Prints one JSON object: for each feed, bozo and its reason, the entries' titles, ids and
links; for the JSON Feed, which required fields are missing."""
import json
import sys

import feedparser

result = {}
for name, path in (("atom", sys.argv[1]), ("rss", sys.argv[2])):
    parsed = feedparser.parse(path)
    result[name] = {
        "bozo": int(parsed.bozo),
        "bozo_exception": str(parsed.get("bozo_exception", "")),
        "version": parsed.version,
        "title": parsed.feed.get("title"),
        "entries": [{"title": e.get("title"), "id": e.get("id"), "link": e.get("link"),
                     "updated": e.get("updated"), "published": e.get("published")} for e in parsed.entries],
    }

with open(sys.argv[3]) as f:
    feed = json.load(f)
missing = [k for k in ("version", "title", "items") if k not in feed]
for index, item in enumerate(feed.get("items", [])):
    if "id" not in item:
        missing.append(f"items[{index}].id")
    if "content_html" not in item and "content_text" not in item:
        missing.append(f"items[{index}].content_text|content_html")
result["json"] = {"version": feed.get("version"), "missing": missing, "items": len(feed.get("items", []))}
print(json.dumps(result))
