"""IntelMQ's side of ``bench/ingest.py``: run inside the separate IntelMQ virtual environment, never by nciss.

    <venv>/bin/python bench/intelmq_side.py FILE [--redis-db 13]

IntelMQ 3.x used as a library on the same JSON Lines file as nciss, the steps of a JSON parser
bot, the taxonomy expert and the deduplicator expert (without the Redis queues between bots):

1. **parse**: ``MessageFactory.unserialize(line, harmonization, default_type="Event")``, as the
   JSON parser bot does for each line: JSON decoding, every field checked and sanitised against
   the harmonisation (a line that fails is counted as rejected);
2. **taxonomy**: ``classification.taxonomy`` from ``classification.type`` with the taxonomy
   expert's own table when the event has none;
3. **deduplicate**: ``Event.hash`` of every field but ``raw`` and ``time.observation`` (the
   deduplicator's default), looked up in and added to IntelMQ's Redis cache
   (``intelmq.lib.cache.Cache``, the deduplicator's ``cache_exists`` / ``cache_set``). The keys this
   run added are deleted at the end.

Prints one JSON object: events, rejected, duplicates, seconds per step and in all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import intelmq
from intelmq.bots.experts.taxonomy.expert import TAXONOMY
from intelmq.lib.cache import Cache
from intelmq.lib.exceptions import IntelMQException
from intelmq.lib.message import MessageFactory
from intelmq.lib.utils import load_configuration

IGNORED = frozenset({"raw", "time.observation"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()
    # the harmonisation the package ships (an installation copies it to its etc/)
    harmonization = load_configuration(str(Path(intelmq.__file__).parent / "etc" / "harmonization.conf"))
    cache = Cache("127.0.0.1", 6379, args.redis_db, 86400)
    events = rejected = duplicates = 0
    parse = taxonomy = dedup = 0.0
    added: list[str] = []
    started = time.perf_counter()
    with open(args.file, encoding="utf-8") as lines:
        for line in lines:
            t0 = time.perf_counter()
            try:
                event = MessageFactory.unserialize(line, harmonization=harmonization, default_type="Event")
            except (IntelMQException, ValueError):
                rejected += 1
                parse += time.perf_counter() - t0
                continue
            t1 = time.perf_counter()
            if "classification.taxonomy" not in event and "classification.type" in event:
                event.add("classification.taxonomy", TAXONOMY.get(event["classification.type"], "other"))
            t2 = time.perf_counter()
            digest = event.hash(filter_keys=IGNORED, filter_type="blacklist")
            if cache.exists(digest):
                duplicates += 1
            else:
                cache.set(digest, "hash")
                added.append(digest)
            t3 = time.perf_counter()
            events += 1
            parse += t1 - t0
            taxonomy += t2 - t1
            dedup += t3 - t2
    seconds = time.perf_counter() - started
    for at in range(0, len(added), 10_000):
        cache.redis.delete(*added[at : at + 10_000])
    print(
        json.dumps(
            {
                "events": events,
                "rejected": rejected,
                "duplicates": duplicates,
                "seconds": seconds,
                "parse_seconds": parse,
                "taxonomy_seconds": taxonomy,
                "dedup_seconds": dedup,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
