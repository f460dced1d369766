"""Count or delete a Redis's keys under a prefix: `URL PREFIX count|delete|idle`.

Run with a rendered project's Python (the template's own venv has no redis).
Prints how many keys there were. "idle" first waits (up to 60 s) until no
Celery task is queued or running under the prefix (reserved tasks stay in
"unacked").
"""

import sys
import time

import redis

url, prefix, action = sys.argv[1:]
client = redis.Redis.from_url(url)
deadline = time.monotonic() + 60
while (
    action == "idle"
    and time.monotonic() < deadline
    and (client.llen(prefix + "celery") or client.hlen(prefix + "unacked"))
):
    time.sleep(0.1)
keys = client.keys(prefix + "*")
if action == "delete" and keys:
    client.delete(*keys)
print(len(keys))
