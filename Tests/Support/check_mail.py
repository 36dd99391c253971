#!/usr/bin/env python3
"""Parses every saved message in DIR with Python's email package (default policy) and prints
one JSON object: for each file, the envelope recipient, headers of interest, the defects
found, and the decoded body."""
import email
import email.policy
import json
import os
import sys

directory = sys.argv[1]
result = []
for name in sorted(os.listdir(directory)):
    if not name.endswith(".eml") and not os.path.isfile(os.path.join(directory, name)):
        continue
    with open(os.path.join(directory, name), "rb") as f:
        raw = f.read()
    envelope_to = None
    if raw.startswith(b"X-Envelope-To: "):
        line, raw = raw.split(b"\r\n", 1)
        envelope_to = line.split(b": ", 1)[1].decode()
        if raw.startswith(b"X-Envelope-From: "):
            raw = raw.split(b"\r\n", 1)[1]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [type(d).__name__ for d in message.defects]
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
    headers = {k.lower(): str(v) for k, v in message.items()}
    long_lines = [len(l) for l in raw.split(b"\r\n") if len(l) > 998]
    result.append({"file": name, "envelope_to": envelope_to, "headers": headers, "header_names": [k.lower() for k in message.keys()],
                   "defects": defects, "body": message.get_content(), "long_lines": long_lines})
print(json.dumps(result))
